/**
 * Classifying API errors: KubeHttpError (our own transport) and client-node's ApiException alike. ApiException is
 * recognised by its shape, so the operator never has to load @kubernetes/client-node for this (operator/runtime/
 * kubeconfig.ts says why that matters).
 */
import { KubeHttpError, type KubeStatus } from './rest';

/** client-node's ApiException: an Error with a numeric `code` and the response `body` (a JSON string in 1.x/2.x). */
function isApiException(e: unknown): e is Error & { code: number; body: unknown } {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'number' && 'body' in e;
}

/** The HTTP status of an API error (ApiException.code or KubeHttpError.statusCode), if it is one. */
export function statusCodeOf(e: unknown): number | undefined {
  if (e instanceof KubeHttpError) return e.statusCode;
  if (isApiException(e)) return e.code;
  if (e && typeof e === 'object') {
    const o = e as { code?: unknown; statusCode?: unknown };
    if (typeof o.statusCode === 'number') return o.statusCode;
  }
  return undefined;
}

/** The Kubernetes Status carried by an API error (ApiException.body is a JSON string in client-node 1.x/2.x). */
export function kubeStatusOf(e: unknown): KubeStatus | undefined {
  if (e instanceof KubeHttpError) return e.status;
  if (isApiException(e)) {
    const body: unknown = e.body;
    if (typeof body === 'string') {
      try {
        return JSON.parse(body) as KubeStatus;
      } catch {
        return undefined;
      }
    }
    if (body && typeof body === 'object') return body as KubeStatus;
  }
  return undefined;
}

/** True for 404 Not Found. */
export function isNotFound(e: unknown): boolean {
  return statusCodeOf(e) === 404;
}

/** True for 409 with reason Conflict (a stale resourceVersion), not AlreadyExists. */
export function isConflict(e: unknown): boolean {
  return statusCodeOf(e) === 409 && kubeStatusOf(e)?.reason !== 'AlreadyExists';
}

/** True for 409 with reason AlreadyExists (a create of a name that is taken). */
export function isAlreadyExists(e: unknown): boolean {
  return statusCodeOf(e) === 409 && kubeStatusOf(e)?.reason === 'AlreadyExists';
}

/** True for 410 Gone (a resourceVersion too old to watch from, or an expired continue token). */
export function isGone(e: unknown): boolean {
  return statusCodeOf(e) === 410;
}

/** Runs `fn`, returning undefined instead of throwing on 404. */
export async function ignoreNotFound<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}
