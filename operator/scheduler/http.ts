/**
 * The scheduler's HTTP side (its dashboard port): `/health` (always on) and the `/api/v1/*` routes
 * (on only when `distributed.http.scheduler.api` is in the scheduler's HTTP routes).
 */
import { SchedulerClientError, SchedulerProtocolError, SchedulerRemoteError, SchedulerTimeout, SchedulerUnreachable } from './errors';

/** What the client passes to an HTTP fetcher. The global `fetch` satisfies this shape. */
export interface HttpFetchInit {
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** Aborted when the client's deadline passes; a fetcher must stop waiting then. */
  readonly signal: AbortSignal;
}

/** The part of a response the client reads. The global `fetch`'s Response satisfies this shape. */
export interface HttpFetchResponse {
  readonly status: number;
  text(): Promise<string>;
}

/**
 * A pluggable HTTP transport: the global `fetch` by default; the operator can pass one that sends
 * authenticated requests through the Kubernetes API server's service proxy.
 */
export type HttpFetcher = (url: string, init: HttpFetchInit) => Promise<HttpFetchResponse>;

/** The `/api/v1/*` routes answered 404: the scheduler runs without `distributed.http.scheduler.api`. */
export class ApiRouteOff extends SchedulerProtocolError {
  public constructor(url: string) {
    super(
      `the scheduler's HTTP API route is off (404 from ${url}); add 'distributed.http.scheduler.api' to its ` +
        `HTTP routes (env DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES) or give the client a TCP address`,
      url,
    );
  }
}

/** Network error codes that prove the request never reached a server. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'EADDRNOTAVAIL']);

export interface HttpCallOptions {
  readonly fetcher: HttpFetcher;
  readonly timeoutMs: number;
}

/**
 * One HTTP request with a hard deadline covering connect, headers and body. Returns status and body text;
 * maps every failure to a SchedulerClientError.
 */
export async function httpRequest(
  url: string,
  method: 'GET' | 'POST',
  body: unknown,
  opts: HttpCallOptions,
): Promise<{ status: number; text: string }> {
  const ctl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort();
  }, opts.timeoutMs);
  try {
    const headers: Record<string, string> = { accept: 'application/json' };
    const init: HttpFetchInit =
      body === undefined
        ? { method, headers, signal: ctl.signal }
        : { method, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: ctl.signal };
    // Both the response and its body must arrive before the deadline.
    const res = await raceAbort(opts.fetcher(url, init), ctl.signal);
    const text = await raceAbort(res.text(), ctl.signal);
    return { status: res.status, text };
  } catch (err) {
    if (timedOut) {
      throw new SchedulerTimeout(`no answer from ${method} ${url} within ${opts.timeoutMs} ms`, opts.timeoutMs, url, { cause: err });
    }
    throw classifyFetchError(err, method, url);
  } finally {
    clearTimeout(timer);
  }
}

/** Calls an `/api/v1/*` route and parses its JSON answer. 404 → ApiRouteOff; other non-2xx → SchedulerRemoteError. */
export async function apiCall(baseUrl: string, route: string, method: 'GET' | 'POST', body: unknown, opts: HttpCallOptions): Promise<unknown> {
  const url = joinUrl(baseUrl, route);
  const { status, text } = await httpRequest(url, method, body, opts);
  if (status === 404) throw new ApiRouteOff(url);
  if (status < 200 || status > 299) {
    throw new SchedulerRemoteError(`${method} ${url} answered HTTP ${status}: ${text.slice(0, 200)}`, url);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new SchedulerProtocolError(`${method} ${url} answered HTTP ${status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 100))}`, url, { cause: err });
  }
}

export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e); // as is: fetch's errors may come from another realm, and their `cause` carries the code
      },
    );
  });
}

/** Walks an error and its causes (realm-independent) collecting the first code, parser-error flag and innermost message. */
function inspectError(err: unknown): { code?: string; parser: boolean; message: string } {
  let code: string | undefined;
  let parser = false;
  let message = String(err);
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    const o = e as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
    if (code === undefined && typeof o.code === 'string') code = o.code;
    if (o.name === 'HTTPParserError' || (typeof o.code === 'string' && o.code.startsWith('HPE_'))) parser = true;
    if (typeof o.message === 'string' && o.message) message = o.message;
    e = o.cause;
  }
  return { ...(code ? { code } : {}), parser, message };
}

function classifyFetchError(err: unknown, method: string, url: string): SchedulerClientError {
  if (err instanceof SchedulerClientError) return err;
  const { code, parser, message } = inspectError(err);
  const detail = code ? `${message} (${code})` : message;
  if (parser) {
    return new SchedulerProtocolError(`${method} ${url}: the peer does not speak HTTP: ${detail}`, url, { cause: err });
  }
  const beforeRequest = code !== undefined && NOT_SENT_CODES.has(code);
  return new SchedulerUnreachable(`${method} ${url} failed: ${detail}`, url, { cause: err, beforeRequest });
}
