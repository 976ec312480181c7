/**
 * The reconcile contract: a reconciler receives only a key, reads current state
 * (from informer caches), converges the world towards the desired state, and
 * either returns (done, or `requeueAfter`) or throws (retry with per-key backoff).
 *
 * It is level-triggered: it must not depend on which event caused it to run.
 * Example: a group wants 5 workers and the cache shows 1, so it creates 4; if it
 * runs again before the cache shows them, deterministic names make the API
 * server answer AlreadyExists instead of creating duplicates.
 */
import type { Logger } from './logger';
import type { Request } from './object';

/** What a successful reconcile asks for next. */
export interface Result {
  /**
   * Reconcile this key again after this many milliseconds (e.g. waiting for something external); `0` means again at
   * once (after this run ends, e.g. to continue work done in batches). Resets the key's backoff. Omit it for "done".
   */
  readonly requeueAfter?: number;
}

/** What a reconciler receives besides its Request. */
export interface ReconcileContext {
  /** A logger carrying `{ controller, namespace, name, reconcileId }`. */
  readonly logger: Logger;
  /** Aborted when the manager shuts down; pass it to long waits. */
  readonly signal: AbortSignal;
  /** How many times this key has failed in a row before this attempt (0 on a fresh key). */
  readonly retries: number;
  /** A short id unique to this reconcile, also on every log line. */
  readonly reconcileId: string;
}

/** A reconcile function. Return a Result (or nothing) on success; throw to retry with backoff. */
export type ReconcileFn = (req: Request, ctx: ReconcileContext) => Promise<Result | void>;

/**
 * Thrown by a reconciler for a failure that retrying cannot fix (e.g. an invalid spec).
 * The runtime logs it and counts it, but does not retry; the next change to the object triggers a new reconcile.
 */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/** True if `e` is (or wraps, through `cause`) a TerminalError. */
export function isTerminalError(e: unknown): boolean {
  for (let cur: unknown = e, depth = 0; cur instanceof Error && depth < 10; cur = cur.cause, depth++) {
    if (cur instanceof TerminalError) return true;
  }
  return false;
}
