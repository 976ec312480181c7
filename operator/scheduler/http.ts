/**
 * The scheduler's HTTP side (its dashboard port): `/health` (always on) and the `/api/v1/*` routes
 * (on only when `distributed.http.scheduler.api` is in the scheduler's HTTP routes).
 */
import { SchedulerClientError, SchedulerProtocolError, SchedulerRemoteError, SchedulerTimeout, SchedulerUnreachable } from './errors';
import { MAX_DECODED_ELEMENTS, MAX_HTTP_BODY_BYTES } from './limits';

/** What the client passes to an HTTP fetcher. The global `fetch` satisfies this shape. */
export interface HttpFetchInit {
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** Aborted when the client's deadline passes; a fetcher must stop waiting then. */
  readonly signal: AbortSignal;
  /**
   * The most body bytes the client accepts. A fetcher that buffers the body itself (instead of exposing `body`) must
   * stop reading and fail once it has more.
   */
  readonly maxBodyBytes?: number;
}

/** The part of a response the client reads. The global `fetch`'s Response satisfies this shape. */
export interface HttpFetchResponse {
  readonly status: number;
  /** Response headers; a Content-Length above the limit is refused before reading. */
  readonly headers?: { get(name: string): string | null };
  /** The body as a stream. When present it is read with a size limit and cancelled past it (the connection closes). */
  readonly body?: ReadableStream<Uint8Array> | null;
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
  /** @default MAX_HTTP_BODY_BYTES */
  readonly maxBodyBytes?: number;
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
  const maxBodyBytes = opts.maxBodyBytes ?? MAX_HTTP_BODY_BYTES;
  try {
    const headers: Record<string, string> = { accept: 'application/json' };
    const init: HttpFetchInit =
      body === undefined
        ? { method, headers, signal: ctl.signal, maxBodyBytes }
        : { method, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: ctl.signal, maxBodyBytes };
    // Both the response and its body must arrive before the deadline.
    const res = await raceAbort(opts.fetcher(url, init), ctl.signal);
    const text = await raceAbort(readBody(res, maxBodyBytes, `${method} ${url}`), ctl.signal);
    return { status: res.status, text };
  } catch (err) {
    if (timedOut) {
      throw new SchedulerTimeout(`no answer from ${method} ${url} within ${opts.timeoutMs} ms`, opts.timeoutMs, url, { cause: err });
    }
    throw classifyFetchError(err, method, url);
  } finally {
    clearTimeout(timer);
    // Whatever is still in flight (a body past the limit, a late answer) is dropped with its connection.
    ctl.abort();
  }
}

/** The body as text, reading at most `max` bytes; past that the stream is cancelled (the caller aborts the request). */
async function readBody(res: HttpFetchResponse, max: number, what: string): Promise<string> {
  const tooLarge = (n: string): SchedulerProtocolError => {
    return new SchedulerProtocolError(`${what} answered with a body of ${n} bytes, more than the ${max} this client reads; closed the connection`, what.slice(what.indexOf(' ') + 1));
  };
  const announced = Number(res.headers?.get('content-length') ?? Number.NaN);
  if (announced > max) {
    void res.body?.cancel().catch(() => undefined);
    throw tooLarge(String(announced));
  }
  const stream = res.body;
  if (!stream || typeof stream.getReader !== 'function') {
    const text = await res.text();
    if (Buffer.byteLength(text, 'utf8') > max) throw tooLarge(`over ${max}`);
    return text;
  }
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      void reader.cancel().catch(() => undefined);
      throw tooLarge(`over ${max}`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

/** Calls an `/api/v1/*` route and parses its JSON answer. 404 → ApiRouteOff; other non-2xx → SchedulerRemoteError. */
export async function apiCall(baseUrl: string, route: string, method: 'GET' | 'POST', body: unknown, opts: HttpCallOptions): Promise<unknown> {
  const url = joinUrl(baseUrl, route);
  const { status, text } = await httpRequest(url, method, body, opts);
  if (status === 404) throw new ApiRouteOff(url);
  // The body is not quoted: whatever answers on this port must not be able to write into status or Events.
  if (status < 200 || status > 299) {
    throw new SchedulerRemoteError(`${method} ${url} answered HTTP ${status} (${Buffer.byteLength(text, 'utf8')} bytes of body)`, url);
  }
  if (jsonValueBound(text) > MAX_DECODED_ELEMENTS) {
    throw new SchedulerProtocolError(`${method} ${url} answered with JSON of more than ${MAX_DECODED_ELEMENTS} values`, url);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SchedulerProtocolError(`${method} ${url} answered HTTP ${status} with a body that is not JSON (${Buffer.byteLength(text, 'utf8')} bytes)`, url);
  }
}

/** An upper bound on the number of values in a JSON text (separators and openings, strings included), without parsing. */
function jsonValueBound(text: string): number {
  let n = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2c || c === 0x5b || c === 0x7b || c === 0x3a) n++; // , [ { :
  }
  return n;
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
