/**
 * Backoff: exponential delays, per key (for the work queue) or single-stream
 * (for informer restarts and leader-election retries), optionally jittered.
 *
 * It is not a rate limiter for the whole process: there is no global token bucket.
 * Caveats: a key that keeps failing retries every `maxMs` forever; the reconciler
 * should turn permanent failures into a TerminalError instead.
 */

/** Options for an exponential backoff. */
export interface BackoffOptions {
  /** First delay. @default 5 (ms) for the work queue */
  readonly baseMs?: number;
  /** Upper bound of the delay. @default 300_000 (5 min) for the work queue */
  readonly maxMs?: number;
  /** Multiplier per failure. @default 2 */
  readonly factor?: number;
  /**
   * Fraction of random spread added to each delay: the delay becomes d * (1 + jitter * r), r in [0, 1).
   * @default 0
   */
  readonly jitter?: number;
  /** Random source in [0, 1); injectable for tests. @default Math.random */
  readonly random?: () => number;
}

/** Computes the n-th delay (n = 0 is the first) for the given options. */
export function backoffDelay(n: number, opts: BackoffOptions): number {
  const base = opts.baseMs ?? 5;
  const max = opts.maxMs ?? 300_000;
  const factor = opts.factor ?? 2;
  const raw = Math.min(max, base * Math.pow(factor, Math.min(n, 64)));
  const jitter = opts.jitter ?? 0;
  if (jitter <= 0) return raw;
  return Math.min(max * (1 + jitter), raw * (1 + jitter * (opts.random ?? Math.random)()));
}

/** Exponential backoff tracked per key: each failure doubles that key's delay; `forget` resets it. */
export class KeyedBackoff {
  private readonly failures = new Map<string, number>();

  constructor(private readonly opts: BackoffOptions = {}) {}

  /** Records one more failure of `key` and returns how long to wait before retrying it. */
  next(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return backoffDelay(n, this.opts);
  }

  /** Number of failures recorded for `key` since the last `forget`. */
  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Resets `key` (call after a success). */
  forget(key: string): void {
    this.failures.delete(key);
  }
}

/** Exponential backoff for one stream of attempts (e.g. informer restarts). */
export class Backoff {
  private n = 0;

  constructor(private readonly opts: BackoffOptions) {}

  /** Records a failure and returns the delay before the next attempt. */
  next(): number {
    return backoffDelay(this.n++, this.opts);
  }

  /** Consecutive failures since the last reset. */
  get attempts(): number {
    return this.n;
  }

  /** Resets after a success. */
  reset(): void {
    this.n = 0;
  }
}
