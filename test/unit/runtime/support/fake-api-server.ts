/**
 * A tiny loopback fake of the API server's list/watch (and a generic JSON handler hook), used only
 * to force rare cases a real API server won't produce on demand: 410 mid-watch, 500s, silent
 * watches, bookmarks. It binds 127.0.0.1:0 and must be closed by the test.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface FakeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body?: unknown;
  /** When the request arrived (Date.now()). */
  at: number;
  /** The User-Agent header. */
  userAgent?: string;
}

type Custom = (req: RecordedRequest, res: http.ServerResponse) => boolean;

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  /** Status codes to answer the next list calls with (consumed in order). */
  readonly listFailures: number[] = [];
  /** Status codes to answer the next watch calls with (consumed in order). */
  readonly watchFailures: number[] = [];
  /** Extra handlers tried first; return true when handled. */
  readonly custom: Custom[] = [];
  private readonly objects = new Map<string, FakeObject>();
  private rv = 100;
  private readonly watchers = new Set<http.ServerResponse>();
  /** Events replayed to a watch that starts from an older resourceVersion (like the real watch cache). */
  private readonly history: Array<{ rv: number; ev: unknown }> = [];
  private server!: http.Server;
  port = 0;

  constructor(private readonly listKind = 'PodList', private readonly apiVersion = 'v1') {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${this.port}`, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
      currentContext: 'c',
    });
    return kc;
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  watchRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.query.watch === 'true');
  }

  listRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'GET' && r.query.watch !== 'true');
  }

  /** Changes an object; emits the event to open watches unless `silently`. */
  put(obj: FakeObject, opts: { silently?: boolean } = {}): FakeObject {
    const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    const type = this.objects.has(key) ? 'MODIFIED' : 'ADDED';
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    this.objects.set(key, stored);
    if (!opts.silently) this.record({ type, object: stored });
    return stored;
  }

  remove(namespace: string, name: string, opts: { silently?: boolean } = {}): void {
    const key = `${namespace}/${name}`;
    const obj = this.objects.get(key);
    if (!obj) return;
    this.objects.delete(key);
    const gone = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    if (!opts.silently) this.record({ type: 'DELETED', object: gone });
  }

  bookmark(): string {
    const rv = String(++this.rv);
    this.send({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: rv } } });
    return rv;
  }

  /** Sends a watch ERROR event with this HTTP code to open watches, then ends them. */
  watchError(code: number): void {
    this.send({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason: code === 410 ? 'Expired' : 'InternalError', message: `fake ${code}` } });
    this.endWatches();
  }

  endWatches(): void {
    for (const w of this.watchers) w.end();
    this.watchers.clear();
  }

  private record(ev: unknown): void {
    this.history.push({ rv: this.rv, ev });
    this.send(ev);
  }

  send(ev: unknown): void {
    for (const w of this.watchers) w.write(JSON.stringify(ev) + '\n');
  }

  async close(): Promise<void> {
    this.endWatches();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const rec: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), body: text ? (JSON.parse(text) as unknown) : undefined, at: Date.now(), userAgent: req.headers['user-agent'] };
      this.requests.push(rec);
      for (const c of this.custom) if (c(rec, res)) return;
      if (rec.method !== 'GET') return this.status(res, 405, 'MethodNotAllowed');
      if (rec.query.watch === 'true') return this.watch(res, Number(rec.query.resourceVersion ?? this.rv));
      const fail = this.listFailures.shift();
      if (fail) return this.status(res, fail, fail === 410 ? 'Expired' : 'InternalError');
      const items = [...this.objects.values()].map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: this.listKind, apiVersion: this.apiVersion, metadata: { resourceVersion: String(this.rv) }, items }));
    });
  }

  private watch(res: http.ServerResponse, fromRv: number): void {
    const fail = this.watchFailures.shift();
    if (fail) return this.status(res, fail, fail === 410 ? 'Expired' : 'InternalError');
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    for (const h of this.history) if (h.rv > fromRv) res.write(JSON.stringify(h.ev) + '\n');
    this.watchers.add(res);
    res.on('close', () => this.watchers.delete(res));
  }

  status(res: http.ServerResponse, code: number, reason: string, message = `fake ${reason}`): void {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message }));
  }
}

/** Polls `probe` until it returns true, failing after `timeoutMs` with the last value of `describe`. */
export async function eventually(probe: () => boolean, opts: { timeoutMs?: number; intervalMs?: number; describe?: () => unknown } = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  for (;;) {
    if (probe()) return;
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${opts.timeoutMs ?? 5000} ms; last seen: ${JSON.stringify(opts.describe?.() ?? null)}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 5));
  }
}
