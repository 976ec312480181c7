/**
 * A token bucket: the client-side rate limit on requests to the API server (the QPS/burst pair controller-runtime
 * and client-go expose). `burst` requests may go at once; after that one token comes back every 1/qps seconds.
 * Waiters are served in arrival order.
 */
import { realClock, type Clock, type TimerHandle } from './clock';

/** Rounding slack: a bucket refilled to 0.9999999 tokens has one. */
const EPSILON = 1e-9;

/** Options for a {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second (> 0); Infinity disables the limit. */
  readonly qps: number;
  /** Bucket size: requests that may go at once. @default max(1, ceil(qps)) */
  readonly burst?: number;
  /** @default realClock */
  readonly clock?: Clock;
}

/** A token bucket rate limiter. */
export class TokenBucket {
  readonly qps: number;
  readonly burst: number;
  private readonly clock: Clock;
  private tokens: number;
  private at: number;
  private readonly waiters: Array<{ resolve: () => void; reject: (e: unknown) => void; signal?: AbortSignal; onAbort?: () => void }> = [];
  private timer: TimerHandle | undefined;

  constructor(opts: TokenBucketOptions) {
    if (!(opts.qps > 0)) throw new Error(`could not create a rate limiter: qps must be > 0 (got ${opts.qps})`);
    this.qps = opts.qps;
    this.burst = Math.max(1, Math.floor(opts.burst ?? Math.ceil(Number.isFinite(opts.qps) ? opts.qps : 1)));
    this.clock = opts.clock ?? realClock;
    this.tokens = this.burst;
    this.at = this.clock.now();
  }

  /** Requests waiting for a token. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves when a token is available (at once while the bucket is not empty); rejects if `signal` aborts first. */
  take(signal?: AbortSignal): Promise<void> {
    if (!Number.isFinite(this.qps)) return Promise.resolve();
    this.refill();
    if (this.waiters.length === 0 && this.tokens >= 1 - EPSILON) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    return new Promise<void>((resolve, reject) => {
      const w: (typeof this.waiters)[number] = { resolve, reject, signal };
      if (signal) {
        w.onAbort = (): void => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal.reason ?? new Error('aborted'));
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.push(w);
      this.schedule();
    });
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.qps);
    this.at = now;
  }

  private schedule(): void {
    if (this.timer || this.waiters.length === 0) return;
    const waitMs = Math.max(0, ((1 - this.tokens) / this.qps) * 1000);
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.refill();
      while (this.waiters.length > 0 && this.tokens >= 1 - EPSILON) {
        this.tokens -= 1;
        const w = this.waiters.shift()!;
        if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
        w.resolve();
      }
      this.schedule();
    }, waitMs);
  }
}
