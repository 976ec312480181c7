/**
 * The scheduler client the reconcilers use: HTTP API first, Dask TCP comm as fallback, with deadlines
 * and bounded retries on every call. Callers never learn which path answered except through `transport`.
 */
import { DaskComm, DaskValue, describe, parseTcpAddress } from './comm';
import {
  SchedulerClientError,
  SchedulerNotConfigured,
  SchedulerProtocolError,
  SchedulerRemoteError,
  SchedulerTimeout,
  SchedulerUnreachable,
  markNeverDelivered,
  neverDelivered,
} from './errors';
import { ApiRouteOff, HttpFetcher, apiCall, httpRequest, joinUrl } from './http';

export interface DaskWorkerInfo {
  /** Dask worker name (`--name`; the operator sets it to the pod/deployment name). Always a string. */
  readonly name: string;
  /** Worker comm address, e.g. `tcp://10.0.0.7:36789`. */
  readonly address: string;
  /** Host part of the address (the pod IP in a cluster). */
  readonly host: string;
}

export interface RetireResult {
  /** Workers whose graceful retirement the scheduler confirmed (their data was moved off first). */
  readonly retired: DaskWorkerInfo[];
  /** Requested names the scheduler did not confirm (unknown to it, or their data could not be moved). */
  readonly notRetired: string[];
  /**
   * 'reply': the scheduler's answer listed them. 'worker-list': the HTTP route failed after acting
   * (distributed < 2025.9 cannot encode its reply) and they were read off the worker list as gone.
   */
  readonly confirmedBy: 'reply' | 'worker-list';
}

export interface RetireRequest {
  /** Retire exactly these workers (by Dask worker name). */
  readonly names?: readonly string[];
  /** Retire this many workers, chosen by the scheduler. */
  readonly n?: number;
}

export interface SchedulerClient {
  /** Which path answered the last successful call ('http' until something answered over TCP). */
  readonly transport: 'http' | 'tcp';
  /** The error of the last failed call, if the last call failed. */
  readonly lastError: SchedulerClientError | undefined;
  /** True when the scheduler answers (HTTP `/health`, else a TCP `identity`). Never throws. */
  health(): Promise<boolean>;
  /** Workers currently known to the scheduler. */
  workers(): Promise<DaskWorkerInfo[]>;
  /** Names of the `n` workers the scheduler would retire first. A suggestion only; nothing is retired. TCP only. */
  workersToClose(n: number): Promise<string[]>;
  /** Graceful retirement (data moved to other workers first). Give exactly one of `names` or `n`. */
  retireWorkers(req: RetireRequest): Promise<RetireResult>;
  /** The scheduler's adaptive target (number of workers it would like), before any min/max clamping. */
  adaptiveTarget(): Promise<number>;
  /** Unix seconds since the scheduler has been idle, or null while it has work. */
  idleSince(): Promise<number | null>;
  /**
   * Closes the pooled connection, and any connection in use as soon as its call ends. The client can still be used
   * afterwards, but keeps no idle connection any more (each call opens and closes its own), so nothing it opens
   * outlives the caller that closed it.
   */
  close(): Promise<void>;
}

export interface SchedulerClientOptions {
  /** Dashboard base URL (`http://host:8787`, or a service-proxy base URL). */
  readonly httpBaseUrl?: string;
  /** Dask comm address (`tcp://host:8786`). */
  readonly tcpAddress?: string;
  /** Deadline for each attempt of a call (connect + request + answer). */
  readonly timeoutMs: number;
  /** Extra attempts after a failed one, per path (0 = try once). Applied only where repeating is safe. */
  readonly retries: number;
  /** Deadline for one graceful retirement, which waits for data to move. @default max(timeoutMs, 60000) */
  readonly retireTimeoutMs?: number;
  /** First pause between attempts, doubled each time, capped at 2 s. @default 200 */
  readonly retryDelayMs?: number;
  /** After the API route answered 404, go straight to TCP for this long before trying HTTP again. @default 60000 */
  readonly apiRecheckMs?: number;
  /** HTTP transport. @default globalThis.fetch */
  readonly fetch?: HttpFetcher;
}

/** Builds a client. Throws SchedulerNotConfigured if neither address is given or one is malformed. */
export function createSchedulerClient(options: SchedulerClientOptions): SchedulerClient {
  return new HybridSchedulerClient(options);
}

/** Whether repeating a call after an error is safe. Reads are always safe; a retirement only if never sent. */
type Idempotency = 'read' | 'write';

/** A step on one path. Errors from before the request was sent are marked so writes can be retried. */
type Step<T> = () => Promise<T>;

class HybridSchedulerClient implements SchedulerClient {
  public transport: 'http' | 'tcp' = 'http';
  public lastError: SchedulerClientError | undefined;

  private readonly httpBaseUrl: string | undefined;
  private readonly tcpAddress: string | undefined;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retireTimeoutMs: number;
  private readonly retryDelayMs: number;
  private readonly apiRecheckMs: number;
  private readonly fetcher: HttpFetcher;
  /** Until when the HTTP API route is known to be off. */
  private apiOffUntil = 0;
  /** One idle TCP connection kept for reuse. */
  private idleComm: DaskComm | undefined;
  /** Set by close(): connections are no longer kept for reuse. */
  private closed = false;

  public constructor(o: SchedulerClientOptions) {
    if (!o.httpBaseUrl && !o.tcpAddress) {
      throw new SchedulerNotConfigured('scheduler client needs an httpBaseUrl, a tcpAddress, or both');
    }
    if (o.httpBaseUrl && !/^https?:\/\//.test(o.httpBaseUrl)) {
      throw new SchedulerNotConfigured(`httpBaseUrl '${o.httpBaseUrl}' must start with http:// or https://`);
    }
    if (o.tcpAddress) {
      try {
        parseTcpAddress(o.tcpAddress);
      } catch (err) {
        throw new SchedulerNotConfigured((err as Error).message);
      }
    }
    if (!(o.timeoutMs > 0) || !Number.isInteger(o.retries) || o.retries < 0) {
      throw new SchedulerNotConfigured(`timeoutMs must be > 0 and retries an integer >= 0 (got ${o.timeoutMs}, ${o.retries})`);
    }
    this.httpBaseUrl = o.httpBaseUrl?.replace(/\/+$/, '');
    this.tcpAddress = o.tcpAddress;
    this.timeoutMs = o.timeoutMs;
    this.retries = o.retries;
    this.retireTimeoutMs = o.retireTimeoutMs ?? Math.max(o.timeoutMs, 60_000);
    this.retryDelayMs = o.retryDelayMs ?? 200;
    this.apiRecheckMs = o.apiRecheckMs ?? 60_000;
    const f = o.fetch ?? (globalThis.fetch as unknown as HttpFetcher | undefined);
    if (!f) throw new SchedulerNotConfigured('no fetch implementation available; pass options.fetch');
    this.fetcher = f;
  }

  // ---- public operations ------------------------------------------------------------------------

  public async health(): Promise<boolean> {
    try {
      await this.run(
        'health',
        'read',
        this.httpBaseUrl
          ? async () => {
              const url = joinUrl(this.httpBaseUrl!, '/health');
              const { status, text } = await httpRequest(url, 'GET', undefined, this.httpOpts());
              if (status !== 200 || text.trim() !== 'ok') {
                throw new SchedulerProtocolError(`GET ${url} answered HTTP ${status} with ${describe(text)} instead of 'ok'`, url);
              }
              return true;
            }
          : undefined,
        async () => {
          const id = asRecord(await this.tcpCall('identity', {}), 'identity');
          if (id['type'] !== 'Scheduler') {
            throw new SchedulerProtocolError(`${this.tcpAddress} is a Dask '${String(id['type'])}', not a Scheduler`, this.tcpAddress);
          }
          return true;
        },
        { httpAlwaysOn: true },
      );
      return true;
    } catch {
      return false;
    }
  }

  public workers(): Promise<DaskWorkerInfo[]> {
    return this.run(
      'workers',
      'read',
      () => this.httpWorkers(),
      async () => {
        const id = asRecord(await this.tcpCall('identity', {}), 'identity');
        return workerMap(id['workers'] ?? {}, 'identity.workers');
      },
    );
  }

  public async workersToClose(n: number): Promise<string[]> {
    checkCount(n);
    if (n === 0) return [];
    if (!this.tcpAddress) {
      throw this.remember(
        new SchedulerNotConfigured(
          "workersToClose needs the scheduler's TCP address (the HTTP API has no such route); use retireWorkers({ n }) over HTTP instead",
        ),
      );
    }
    return this.run('workers_to_close', 'read', undefined, async () => {
      const r = await this.tcpCall('workers_to_close', { n, attribute: 'name' });
      if (!Array.isArray(r)) throw new SchedulerProtocolError(`workers_to_close answered ${describe(r)}, not a list`, this.tcpAddress);
      return r.map((x) => nameOf(x, ''));
    });
  }

  public async retireWorkers(req: RetireRequest): Promise<RetireResult> {
    const byNames = req.names !== undefined;
    if (byNames === (req.n !== undefined)) {
      throw new SchedulerNotConfigured('retireWorkers needs exactly one of { names } or { n }');
    }
    const names = byNames ? [...new Set(req.names!.map(String))] : [];
    const n = req.n ?? 0;
    if (!byNames) checkCount(n);
    if (byNames ? names.length === 0 : n === 0) return { retired: [], notRetired: [], confirmedBy: 'reply' };
    const outcome = await this.run<{ retired: DaskWorkerInfo[]; confirmedBy: 'reply' | 'worker-list' }>(
      'retire_workers',
      'write',
      () => this.httpRetire(byNames ? { names } : { n }),
      async () => {
        // By count, the scheduler chooses with workers_to_close(n) and retires those in the same call.
        const reply = await this.tcpCall('retire_workers', byNames ? { names } : { n }, this.retireTimeoutMs);
        return { retired: workerMap(reply, 'retire_workers'), confirmedBy: 'reply' };
      },
    );
    const got = new Set(outcome.retired.map((w) => w.name));
    return { ...outcome, notRetired: names.filter((x) => !got.has(x)) };
  }

  /**
   * Retirement over the API route, which takes worker addresses: names are mapped through the current
   * worker list. distributed < 2025.9 retires the workers and then fails to encode its reply (HTTP 500);
   * in that case, and for any 5xx, the outcome is read from the worker list: requested workers that
   * the scheduler no longer knows were retired (it removes a worker only once its data has moved).
   */
  private async httpRetire(req: { names?: string[]; n?: number }): Promise<{ retired: DaskWorkerInfo[]; confirmedBy: 'reply' | 'worker-list' }> {
    const list = (): Promise<DaskWorkerInfo[]> => this.withRetries('get_workers', 'read', () => this.httpWorkers());
    const before = await list().catch((err: unknown) => {
      throw markNeverDelivered(toClientError(err)); // nothing was retired yet
    });
    let body: unknown;
    if (req.names) {
      const addresses = before.filter((w) => req.names!.includes(w.name)).map((w) => w.address);
      if (addresses.length === 0) return { retired: [], confirmedBy: 'reply' };
      body = { workers: addresses };
    } else {
      body = { n: req.n };
    }
    try {
      const reply = await apiCall(this.httpBaseUrl!, '/api/v1/retire_workers', 'POST', body, this.httpOpts(this.retireTimeoutMs));
      return { retired: workerMap(reply, 'retire_workers'), confirmedBy: 'reply' };
    } catch (err) {
      if (!(err instanceof SchedulerRemoteError)) throw err;
      const after = await list().catch((e2: unknown) => {
        throw new SchedulerRemoteError(`${err.message}; and the worker list could not be read to see what was retired: ${toClientError(e2).message}`, err.target);
      });
      const remaining = new Set(after.map((w) => w.address));
      let gone = before.filter((w) => !remaining.has(w.address));
      gone = req.names ? gone.filter((w) => req.names!.includes(w.name)) : gone.slice(0, req.n);
      if (gone.length === 0) throw err;
      return { retired: gone, confirmedBy: 'worker-list' };
    }
  }

  public adaptiveTarget(): Promise<number> {
    return this.run(
      'adaptive_target',
      'read',
      async () => {
        const body = asRecord(await apiCall(this.httpBaseUrl!, '/api/v1/adaptive_target', 'GET', undefined, this.httpOpts()), 'adaptive_target');
        return asCount(body['workers'], 'adaptive_target.workers');
      },
      async () => asCount(await this.tcpCall('adaptive_target', {}), 'adaptive_target'),
    );
  }

  public idleSince(): Promise<number | null> {
    return this.run(
      'check_idle',
      'read',
      async () => {
        const body = asRecord(await apiCall(this.httpBaseUrl!, '/api/v1/check_idle', 'GET', undefined, this.httpOpts()), 'check_idle');
        if (!('idle_since' in body)) throw new SchedulerProtocolError(`check_idle answered without 'idle_since': ${describe(body)}`, this.httpBaseUrl);
        return asIdle(body['idle_since']);
      },
      async () => asIdle(await this.tcpCall('check_idle', {})),
    );
  }

  public async close(): Promise<void> {
    this.closed = true;
    const c = this.idleComm;
    this.idleComm = undefined;
    c?.close();
  }

  // ---- path selection, retries ---------------------------------------------------------------------

  /**
   * Runs an operation: over HTTP when a base URL is set and the API route is not known to be off, else
   * (or when HTTP fails in a way that proves the request was not handled) over TCP. Each path gets
   * `retries` extra attempts where safe. Both failing → the TCP error, with the HTTP reason in its message.
   */
  private async run<T>(
    op: string,
    kind: Idempotency,
    http: Step<T> | undefined,
    tcp: Step<T> | undefined,
    opts: { httpAlwaysOn?: boolean } = {},
  ): Promise<T> {
    let httpErr: SchedulerClientError | undefined;
    const useHttp = http !== undefined && this.httpBaseUrl !== undefined && (opts.httpAlwaysOn || Date.now() >= this.apiOffUntil);
    if (useHttp) {
      try {
        const v = await this.withRetries(op, kind, http);
        this.transport = 'http';
        this.lastError = undefined;
        return v;
      } catch (err) {
        httpErr = toClientError(err);
        if (httpErr instanceof ApiRouteOff) this.apiOffUntil = Date.now() + this.apiRecheckMs;
        // A write whose HTTP request may have been handled must not be repeated over TCP.
        const mayFallBack = kind === 'read' || httpErr instanceof ApiRouteOff || neverDelivered(httpErr);
        if (!tcp || !this.tcpAddress || !mayFallBack) throw this.remember(httpErr);
      }
    }
    if (!tcp || !this.tcpAddress) {
      throw this.remember(new SchedulerNotConfigured(`'${op}' needs the scheduler's TCP address, and none is configured`));
    }
    try {
      const v = await this.withRetries(op, kind, tcp);
      this.transport = 'tcp';
      this.lastError = undefined;
      return v;
    } catch (err) {
      const tcpErr = toClientError(err);
      throw this.remember(httpErr ? combine(tcpErr, httpErr) : tcpErr);
    }
  }

  private async withRetries<T>(op: string, kind: Idempotency, step: Step<T>): Promise<T> {
    let delay = this.retryDelayMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await step();
      } catch (err) {
        const e = toClientError(err);
        const transient = e instanceof SchedulerUnreachable || e instanceof SchedulerTimeout;
        const safe = kind === 'read' || neverDelivered(e);
        if (!transient || !safe || attempt >= this.retries || e instanceof ApiRouteOff) {
          if (attempt > 0 && !(e instanceof ApiRouteOff)) e.message = `${e.message} (op '${op}', after ${attempt + 1} attempts)`;
          throw e;
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 2000);
      }
    }
  }

  private remember(e: SchedulerClientError): SchedulerClientError {
    this.lastError = e;
    return e;
  }

  private httpOpts(timeoutMs = this.timeoutMs): { fetcher: HttpFetcher; timeoutMs: number } {
    return { fetcher: this.fetcher, timeoutMs };
  }

  private async httpWorkers(): Promise<DaskWorkerInfo[]> {
    const body = asRecord(await apiCall(this.httpBaseUrl!, '/api/v1/get_workers', 'GET', undefined, this.httpOpts()), 'get_workers');
    const list = body['workers'];
    if (!Array.isArray(list)) throw new SchedulerProtocolError(`get_workers answered without a 'workers' list: ${describe(body)}`, this.httpBaseUrl);
    return list.map((w) => {
      const r = asRecord(w, 'get_workers entry');
      const address = asString(r['address'], 'worker address');
      return { name: nameOf(r['name'], address), address, host: hostOf(address) };
    });
  }

  // ---- TCP ---------------------------------------------------------------------------------------------

  /** One request over a pooled (or new) connection. Connection/handshake failures are marked as never delivered. */
  private async tcpCall(op: string, args: Record<string, unknown>, timeoutMs = this.timeoutMs): Promise<DaskValue> {
    let comm = this.idleComm;
    this.idleComm = undefined;
    if (!comm || !comm.usable) {
      comm?.destroy();
      try {
        comm = await DaskComm.connect(this.tcpAddress!, { timeoutMs: this.timeoutMs });
      } catch (err) {
        // Connect or handshake failed: the op itself was never sent.
        throw markNeverDelivered(toClientError(err));
      }
    }
    try {
      const reply = await comm.call(op, args, timeoutMs);
      if (this.idleComm === undefined && comm.usable && !this.closed) this.idleComm = comm;
      else comm.close();
      return reply;
    } catch (err) {
      comm.destroy();
      throw err;
    }
  }
}

function toClientError(err: unknown): SchedulerClientError {
  if (err instanceof SchedulerClientError) return err;
  return new SchedulerProtocolError(`unexpected failure: ${err instanceof Error ? err.message : String(err)}`, undefined, { cause: err });
}

function combine(tcpErr: SchedulerClientError, httpErr: SchedulerClientError): SchedulerClientError {
  tcpErr.message = `${tcpErr.message}; before that over HTTP: ${httpErr.message}`;
  return tcpErr;
}

// ---- reply parsing ----------------------------------------------------------------------------------------

function asRecord(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) {
    throw new SchedulerProtocolError(`${what}: expected a map, got ${describe(v)}`);
  }
  return v as Record<string, unknown>;
}

function asString(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new SchedulerProtocolError(`${what}: expected a string, got ${describe(v)}`);
  return v;
}

function asCount(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new SchedulerProtocolError(`${what}: expected a non-negative integer, got ${describe(v)}${v === null ? ' (unknown op? Dask too old?)' : ''}`);
  }
  return v;
}

function asIdle(v: unknown): number | null {
  if (v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new SchedulerProtocolError(`check_idle: expected seconds or null, got ${describe(v)}`);
  return v;
}

/** Dask worker names may be strings or numbers; the operator compares them as strings. */
function nameOf(v: unknown, fallback: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (v === null || v === undefined) return fallback;
  throw new SchedulerProtocolError(`worker name ${describe(v)} is neither a string nor a number`);
}

function hostOf(address: string): string {
  const m = /^[a-z]+:\/\/(\[[^\]]+\]|[^:/]+)/.exec(address);
  return m ? m[1]!.replace(/^\[|\]$/g, '') : address;
}

/** `{address: {name, host, ...}}` → worker list (the shape of identity().workers and retire_workers replies). */
function workerMap(v: unknown, what: string): DaskWorkerInfo[] {
  const r = asRecord(v, what);
  return Object.entries(r).map(([address, info]) => {
    const i = asRecord(info, `${what}['${address}']`);
    const host = typeof i['host'] === 'string' && i['host'] ? i['host'] : hostOf(address);
    return { name: nameOf(i['name'], address), address, host };
  });
}

function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new SchedulerNotConfigured(`worker count must be a non-negative integer, got ${n}`);
}
