/**
 * KubeRest: a minimal JSON REST transport to the API server, authenticated from a KubeConfig.
 *
 * The runtime uses it for generic list/watch (any resource path), Leases and Events, where
 * plain JSON is what we want (no model classes, MicroTime strings written exactly as the API
 * server expects them). Reconcilers normally use the typed clients from `kube.ts` instead.
 *
 * TLS material, bearer tokens (including rotating in-cluster tokens) and the connection agent come from a
 * KubeTarget's `applyToHTTPSOptions` (operator/runtime/kubeconfig.ts), or client-node's KubeConfig adapted to one.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as https from 'node:https';
import { toKubeTarget, type KubeConfigLike, type KubeTarget } from './kubeconfig';
import type { TokenBucket } from './rate-limit';

/** A failed HTTP call to the API server. `status` is the parsed Kubernetes Status body, when there is one. */
export class KubeHttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly method: string,
    readonly path: string,
    readonly body: string,
    readonly status?: KubeStatus,
  ) {
    super(`${method} ${path} failed with HTTP ${statusCode}${status?.reason ? ` ${status.reason}` : ''}${status?.message ? `: ${status.message}` : ''}`);
    this.name = 'KubeHttpError';
  }
}

/** The Kubernetes `Status` object returned with errors (and inside watch ERROR events). */
export interface KubeStatus {
  readonly kind?: string;
  readonly status?: string;
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
}

/** One line of a watch stream. */
export interface WatchEvent {
  /** ADDED, MODIFIED, DELETED, BOOKMARK or ERROR. */
  readonly type: string;
  readonly object: unknown;
}

/** A list response (only what list/watch needs). */
export interface ListResponse {
  readonly kind?: string;
  readonly apiVersion?: string;
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
  readonly items: readonly unknown[];
}

/** Query parameters; undefined values are dropped. */
export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

/** What an informer needs from the API server. Implemented by KubeRest; tests may fake it. */
export interface ListWatchClient {
  /** GET a collection. */
  list(path: string, query: Query, signal?: AbortSignal): Promise<ListResponse>;
  /**
   * Streams a watch. Resolves when the server ends the stream or `signal` aborts; rejects with a
   * KubeHttpError on a non-200 answer, or with whatever `onEvent` throws (the stream is then closed).
   */
  watch(path: string, query: Query, onEvent: (ev: WatchEvent) => void, signal?: AbortSignal): Promise<void>;
}

/** Options for one request. */
export interface RequestOptions {
  readonly query?: Query;
  /** Serialised as JSON. */
  readonly body?: unknown;
  /** @default 'application/json' (use 'application/merge-patch+json' etc. for PATCH) */
  readonly contentType?: string;
  readonly signal?: AbortSignal;
  /** Socket idle timeout for non-watch calls. @default 30_000 */
  readonly timeoutMs?: number;
}

function parseStatus(body: string): KubeStatus | undefined {
  try {
    const s = JSON.parse(body) as unknown;
    return s && typeof s === 'object' && (s as KubeStatus).kind === 'Status' ? (s as KubeStatus) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Called before every request that is not a read (anything but GET); throws to refuse it. The manager's
 * {@link Manager.assertMayWrite} fences writes on still holding the leader Lease.
 */
export type WriteGuard = (method: string, path: string) => void;

/** Options for a {@link KubeRest}. */
export interface KubeRestOptions {
  /** Checked before every write. @default none */
  readonly writeGuard?: WriteGuard;
  /** Every request (including each list page and each watch start) takes a token first. @default none (unlimited) */
  readonly rateLimiter?: TokenBucket;
  /** The User-Agent header of every request (what audit logs and API server metrics attribute calls to). @default {@link DEFAULT_USER_AGENT} */
  readonly userAgent?: string;
}

function packageVersion(): string {
  try {
    // build/operator/runtime/rest.js → the package root (operator/runtime/rest.ts under ts-jest: one level less).
    for (const up of ['../../..', '../..']) {
      const file = path.join(__dirname, up, 'package.json');
      if (!fs.existsSync(file)) continue;
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'cdk8s-dask-operator' && pkg.version) return pkg.version;
    }
  } catch {
    // fall through
  }
  return 'unknown';
}

/** `dask-operator/<version> (<os>/<arch>) node/<version>`, in the shape Kubernetes' own clients use. */
export const DEFAULT_USER_AGENT = `dask-operator/${packageVersion()} (${process.platform}/${process.arch}) node/${process.versions.node}`;

/** JSON REST calls and watch streams against an API server. */
export class KubeRest implements ListWatchClient {
  private readonly target: KubeTarget;

  constructor(
    target: KubeTarget | KubeConfigLike,
    private readonly options: KubeRestOptions = {},
  ) {
    this.target = toKubeTarget(target);
  }

  /** The same client (same credentials, transport and write guard) with its own rate limit (`undefined`: none). */
  withRateLimiter(rateLimiter: TokenBucket | undefined): KubeRest {
    return new KubeRest(this.target, { ...this.options, rateLimiter });
  }

  /** The same client (same credentials and transport) with every write checked by `guard` first. */
  withWriteGuard(guard: WriteGuard): KubeRest {
    return new KubeRest(this.target, { ...this.options, writeGuard: guard });
  }

  /** Sends one request and parses the JSON answer. Throws KubeHttpError on a non-2xx status. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const { res, req } = await this.open(method, path, opts);
    const text = await readAll(res);
    req.destroy();
    if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) {
      throw new KubeHttpError(res.statusCode ?? 0, method, path, text, parseStatus(text));
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  list(path: string, query: Query, signal?: AbortSignal): Promise<ListResponse> {
    return this.request<ListResponse>('GET', path, { query, signal });
  }

  async watch(path: string, query: Query, onEvent: (ev: WatchEvent) => void, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    let opened: { res: http.IncomingMessage; req: http.ClientRequest };
    try {
      opened = await this.open('GET', path, { query: { ...query, watch: 'true' }, signal, timeoutMs: 0 });
    } catch (e) {
      if (signal?.aborted) return;
      throw e;
    }
    const { res, req } = opened;
    if (res.statusCode !== 200) {
      const text = await readAll(res).catch(() => '');
      req.destroy();
      throw new KubeHttpError(res.statusCode ?? 0, 'GET', path, text, parseStatus(text));
    }
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      let settled = false;
      const finish = (err?: unknown): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        req.destroy();
        res.destroy();
        if (err !== undefined && !signal?.aborted) reject(err);
        else resolve();
      };
      const onAbort = (): void => finish();
      signal?.addEventListener('abort', onAbort, { once: true });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line || settled) continue;
          let ev: WatchEvent;
          try {
            ev = JSON.parse(line) as WatchEvent;
          } catch (e) {
            return finish(new Error(`could not parse a watch event from ${path}: ${String(e)}`));
          }
          try {
            onEvent(ev);
          } catch (e) {
            return finish(e);
          }
        }
      });
      res.on('end', () => finish());
      res.on('error', (e) => finish(e));
      res.on('close', () => finish());
    });
  }

  private async open(method: string, path: string, opts: RequestOptions): Promise<{ res: http.IncomingMessage; req: http.ClientRequest }> {
    if (method !== 'GET') this.options.writeGuard?.(method, path);
    await this.options.rateLimiter?.take(opts.signal);
    if (method !== 'GET') this.options.writeGuard?.(method, path); // again: the wait may have outlived the lease
    const url = new URL(this.target.server.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const options: https.RequestOptions = { headers: {} };
    await this.target.applyToHTTPSOptions(options);
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers: http.OutgoingHttpHeaders = {
      ...(options.headers as http.OutgoingHttpHeaders | undefined),
      Accept: 'application/json',
      'User-Agent': this.options.userAgent ?? DEFAULT_USER_AGENT,
      ...(payload ? { 'Content-Type': opts.contentType ?? 'application/json', 'Content-Length': payload.length } : {}),
    };
    const mod = url.protocol === 'http:' ? http : https;
    return await new Promise((resolve, reject) => {
      const req = mod.request(url, { ...options, method, headers, signal: opts.signal }, (res) => resolve({ res, req }));
      req.on('error', reject);
      const timeoutMs = opts.timeoutMs ?? 30_000;
      if (timeoutMs > 0) {
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms without data`)));
      }
      req.end(payload);
    });
  }
}

function readAll(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}
