/**
 * A fault-injecting proxy in front of the test cluster's API server, for showing that the operator survives a bad
 * connection to it: plain HTTP on 127.0.0.1 (its own kubeconfig, no credentials; client-node insists on
 * insecure-skip-tls-verify for a plain-HTTP server), forwarded over HTTPS with the admin client certificate.
 *
 * Requests pass through untouched (watches are streamed) unless a fault applies. Two ways to ask for faults:
 *  - rules: a method and path (and optionally body) pattern answered by the proxy itself with a status (default 429),
 *    a given number of times — for tests that need one exact refusal;
 *  - a profile (`setProfile`): probabilities per request, for chaos runs. Every fault happens to a real request of the
 *    operator, and is what a real API server or network does:
 *      too-many-requests  429 before forwarding (as API Priority and Fairness refuses), with Retry-After: 1;
 *      internal-error     500 before forwarding (the server never saw the request);
 *      lost-response      a write forwarded and applied by the API server, its answer replaced by 500 (a response lost
 *                         on the way back: the client cannot know whether the write happened);
 *      conflict           a write guarded by metadata.resourceVersion meets a real concurrent write first (the proxy
 *                         changes an annotation of the same object), so the API server itself answers 409 Conflict;
 *      latency            the request waits before it is forwarded;
 *      watch-refused      a watch request answered 500 before forwarding;
 *      watch-cut          an open watch stream is cut (its connection destroyed) after a random lifetime, or by
 *                         `cutWatches()`.
 * Every fault is recorded in `injected`; `counts()` sums them by kind.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeConfig } from './kube';

export interface FaultRule {
  readonly method: string;
  /** Matched against the request path (without the query). */
  readonly path: RegExp;
  /** Matched against the request body, when given (bodies are buffered for matching requests only). */
  readonly body?: RegExp;
  /** How many matching requests to refuse. */
  readonly times: number;
  /** @default 429 */
  readonly status?: number;
}

export type FaultKind = 'rule' | 'too-many-requests' | 'internal-error' | 'lost-response' | 'conflict' | 'latency' | 'watch-refused' | 'watch-cut';
export const FAULT_KINDS: readonly FaultKind[] = ['rule', 'too-many-requests', 'internal-error', 'lost-response', 'conflict', 'latency', 'watch-refused', 'watch-cut'];

/** Probabilities (0..1) per request; a request meets at most one refusal, plus latency. */
export interface FaultProfile {
  /** Non-watch requests answered 429 without forwarding. */
  readonly tooManyRequests?: number;
  /** Non-watch requests answered 500 without forwarding. */
  readonly internalError?: number;
  /** Writes (POST, PUT, PATCH, DELETE) forwarded and applied, their answer replaced by 500. */
  readonly lostResponse?: number;
  /** Writes carrying metadata.resourceVersion that meet a real concurrent write first (the server answers 409). */
  readonly conflict?: number;
  /** Watch requests answered 500 without forwarding. */
  readonly watchRefused?: number;
  /** Requests (watches included) delayed before forwarding by a time drawn from `latencyMs`. */
  readonly latency?: number;
  /** [min, max] of the added latency. @default [50, 500] */
  readonly latencyMs?: readonly [number, number];
  /** Each watch stream is cut after a lifetime drawn from [min, max] ms. @default never */
  readonly watchLifetimeMs?: readonly [number, number];
}

/** What one request meets, decided before it is forwarded. */
export type Decision =
  | { readonly kind: 'forward'; readonly delayMs: number }
  | { readonly kind: 'refuse'; readonly fault: 'too-many-requests' | 'internal-error' | 'watch-refused'; readonly status: number; readonly delayMs: number }
  | { readonly kind: 'lost-response' | 'conflict'; readonly delayMs: number };

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** True when a request body carries metadata.resourceVersion (a write the API server guards with it). */
export function isGuardedWrite(method: string, body: string): boolean {
  if (method !== 'PUT' && method !== 'PATCH') return false;
  try {
    const rv = (JSON.parse(body) as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
    return typeof rv === 'string' && rv !== '';
  } catch {
    return false;
  }
}

/**
 * The fault a request meets under `profile` (pure; `random` in [0, 1)). One draw picks among the refusals in a fixed
 * order (too-many-requests, internal-error, lost-response, conflict) whose probabilities add up; latency is drawn apart.
 */
export function decide(profile: FaultProfile, req: { method: string; watch: boolean; body: string }, random: () => number): Decision {
  const [lo, hi] = profile.latencyMs ?? [50, 500];
  const delayMs = random() < (profile.latency ?? 0) ? lo + (hi - lo) * random() : 0;
  const r = random();
  if (req.watch) {
    return r < (profile.watchRefused ?? 0) ? { kind: 'refuse', fault: 'watch-refused', status: 500, delayMs } : { kind: 'forward', delayMs };
  }
  let edge = profile.tooManyRequests ?? 0;
  if (r < edge) return { kind: 'refuse', fault: 'too-many-requests', status: 429, delayMs };
  edge += profile.internalError ?? 0;
  if (r < edge) return { kind: 'refuse', fault: 'internal-error', status: 500, delayMs };
  if (WRITES.has(req.method)) {
    edge += profile.lostResponse ?? 0;
    if (r < edge) return { kind: 'lost-response', delayMs };
    if (isGuardedWrite(req.method, req.body)) {
      edge += profile.conflict ?? 0;
      if (r < edge) return { kind: 'conflict', delayMs };
    }
  }
  return { kind: 'forward', delayMs };
}

export interface InjectedFault {
  readonly kind: FaultKind;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly at: Date;
}

export interface FaultProxyOptions {
  /** Kubeconfig of the API server to forward to (admin credentials). @default the test cluster's */
  readonly upstreamKubeconfig?: string;
  /** Random source in [0, 1) for the profile's draws (seed it for a repeatable run). @default Math.random */
  readonly random?: () => number;
}

const REASONS: Record<number, string> = { 409: 'Conflict', 429: 'TooManyRequests', 500: 'InternalError' };

function statusBody(code: number, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: REASONS[code] ?? 'InternalError', code, message });
}

export class FaultProxy {
  readonly injected: InjectedFault[] = [];
  private readonly left = new Map<FaultRule, number>();
  private readonly random: () => number;
  private readonly watches = new Set<http.ServerResponse>();
  private profile: FaultProfile = {};
  private concurrentWrites = 0;
  private server?: http.Server;
  private dir?: string;
  /** Path of a kubeconfig that points at the proxy. */
  kubeconfig = '';

  constructor(private readonly rules: readonly FaultRule[] = [], private readonly options: FaultProxyOptions = {}) {
    for (const r of rules) this.left.set(r, r.times);
    this.random = options.random ?? Math.random;
  }

  /** Faults drawn for every request from now on (`{}`: none). Watches already open keep the lifetime they got. */
  setProfile(profile: FaultProfile): void {
    this.profile = profile;
  }

  /** Cuts every open watch stream now; returns how many. */
  cutWatches(): number {
    const open = [...this.watches];
    for (const res of open) this.cut(res);
    return open.length;
  }

  /** Open watch streams. */
  get openWatches(): number {
    return this.watches.size;
  }

  /** Injected faults by kind (every kind present, 0 when none). */
  counts(): Record<FaultKind, number> {
    const out = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
    for (const f of this.injected) out[f.kind]++;
    return out;
  }

  async start(): Promise<void> {
    let kc: KubeConfig;
    if (this.options.upstreamKubeconfig) {
      kc = new KubeConfig();
      kc.loadFromFile(this.options.upstreamKubeconfig);
    } else {
      kc = kubeConfig();
    }
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the upstream kubeconfig of the fault proxy has no current cluster');
    const upstream = new URL(cluster.server);
    const tls: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(tls);
    const agent = new https.Agent({ ca: tls.ca, cert: tls.cert, key: tls.key, keepAlive: true });
    const send = (method: string, reqPath: string, headers: http.OutgoingHttpHeaders, onResponse: (up: http.IncomingMessage) => void, onError: (e: Error) => void): http.ClientRequest => {
      const out = https.request({ protocol: 'https:', hostname: upstream.hostname, port: upstream.port, method, path: reqPath, headers: { ...headers, host: upstream.host }, agent }, onResponse);
      out.on('error', onError);
      return out;
    };
    this.server = http.createServer((req, res) => {
      const method = req.method as string;
      const url = req.url ?? '/';
      const pathname = url.split('?')[0];
      const watch = /[?&]watch=(true|1)(&|$)/.test(url);
      const record = (kind: FaultKind, status: number): void => {
        this.injected.push({ kind, method, path: pathname, status, at: new Date() });
      };
      const refuse = (kind: FaultKind, status: number): void => {
        record(kind, status);
        res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(statusBody(status, `injected by the test fault proxy (${kind})`));
      };
      /** Forwards; `lose` swallows the upstream answer and says 500 instead. */
      const forward = (body: Buffer | undefined, opts: { lose?: boolean; conflict?: boolean } = {}): void => {
        const out = send(method, url, req.headers, (up) => {
          if (opts.lose) {
            up.resume();
            up.on('end', () => refuse('lost-response', 500));
            return;
          }
          if (opts.conflict && up.statusCode === 409) record('conflict', 409);
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          if (watch && up.statusCode === 200) this.trackWatch(res);
        }, (e) => {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`fault proxy: ${e.message}`);
        });
        res.on('close', () => out.destroy());
        if (body) out.end(body);
        else req.pipe(out);
      };
      /** A real write by someone else to the object `pathname` names (its main resource), then the request itself. */
      const concurrentWriteThen = (body: Buffer): void => {
        const objectPath = pathname.replace(/\/(status|scale)$/, '');
        const patch = Buffer.from(JSON.stringify({ metadata: { annotations: { 'chaos.cdk8s-dask.io/concurrent-write': String(++this.concurrentWrites) } } }));
        const bump = send('PATCH', objectPath, { 'content-type': 'application/merge-patch+json', 'content-length': patch.length, accept: 'application/json' }, (up) => {
          up.resume();
          up.on('end', () => forward(body, { conflict: true }));
        }, () => forward(body));
        bump.end(patch);
      };

      const candidates = this.rules.filter((r) => r.method === method && r.path.test(pathname) && (this.left.get(r) ?? 0) > 0);
      const profiled = Object.keys(this.profile).length > 0;
      if (candidates.length === 0 && !profiled) return forward(undefined);
      if (watch || method === 'GET') return this.afterDelay(req, res, '', candidates, refuse, forward, concurrentWriteThen);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.afterDelay(req, res, Buffer.concat(chunks), candidates, refuse, forward, concurrentWriteThen));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const port = (this.server.address() as AddressInfo).port;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fault-proxy-'));
    this.kubeconfig = path.join(this.dir, 'kubeconfig');
    fs.writeFileSync(this.kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: proxy',
      'clusters:', `- name: proxy`, `  cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}`,
      'users:', '- name: proxy', '  user: {}',
      'contexts:', '- name: proxy', '  context: {cluster: proxy, user: proxy}', '',
    ].join('\n'));
  }

  /** Rules first (exact, counted), then the profile's draw; then forwards, refuses or loses the request. */
  private afterDelay(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer | '',
    candidates: readonly FaultRule[],
    refuse: (kind: FaultKind, status: number) => void,
    forward: (body: Buffer | undefined, opts?: { lose?: boolean }) => void,
    concurrentWriteThen: (body: Buffer) => void,
  ): void {
    const text = body === '' ? '' : body.toString('utf8');
    const rule = candidates.find((r) => !r.body || r.body.test(text));
    if (rule) {
      this.left.set(rule, (this.left.get(rule) ?? 1) - 1);
      return refuse('rule', rule.status ?? 429);
    }
    const watch = /[?&]watch=(true|1)(&|$)/.test(req.url ?? '');
    const d = decide(this.profile, { method: req.method as string, watch, body: text }, this.random);
    const buffered = body === '' ? undefined : body;
    const act = (): void => {
      if (res.destroyed) return;
      if (d.kind === 'refuse') refuse(d.fault, d.status);
      else if (d.kind === 'lost-response') forward(buffered ?? Buffer.alloc(0), { lose: true });
      else if (d.kind === 'conflict') concurrentWriteThen(buffered ?? Buffer.alloc(0));
      else forward(req.method === 'GET' ? undefined : buffered ?? Buffer.alloc(0));
    };
    if (d.delayMs > 0) {
      this.injected.push({ kind: 'latency', method: req.method as string, path: (req.url ?? '/').split('?')[0], status: 0, at: new Date() });
      setTimeout(act, d.delayMs);
    } else {
      act();
    }
  }

  private trackWatch(res: http.ServerResponse): void {
    this.watches.add(res);
    let timer: NodeJS.Timeout | undefined;
    const life = this.profile.watchLifetimeMs;
    if (life) timer = setTimeout(() => this.cut(res), life[0] + (life[1] - life[0]) * this.random());
    res.on('close', () => {
      clearTimeout(timer);
      this.watches.delete(res);
    });
  }

  private cut(res: http.ServerResponse): void {
    if (!this.watches.delete(res) || res.destroyed) return;
    this.injected.push({ kind: 'watch-cut', method: 'GET', path: (res.req?.url ?? '/').split('?')[0], status: 0, at: new Date() });
    res.socket?.destroy();
    res.destroy();
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
