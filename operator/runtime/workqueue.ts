/**
 * WorkQueue: the keyed queue between informers and reconcilers.
 *
 * Guarantees:
 * - a key waiting in the queue is held once, however many times it is added (de-duplication);
 * - a key is never handed to two workers at once: adding a key that is being processed
 *   marks it dirty, and `done()` puts it back in the queue afterwards;
 * - failures back off per key (`addRateLimited`: 5 ms doubling to 5 min by default; `forget` resets);
 * - `addAfter` schedules a key for later (keeping the earliest time when scheduled twice);
 * - after `shutDown()` nothing new is accepted and waiting `get()` calls return undefined;
 * - two priorities: keys added `low` (a periodic resync's) are handed out only when no `normal` key waits, and a
 *   waiting low key added again as `normal` (a real change) moves to the normal queue, so that a resync of
 *   thousands of objects does not delay the changes that arrive meanwhile. Within a priority keys are first in,
 *   first out.
 *
 * It has no global rate limit.
 * {@link runWorkers} runs a bounded number of async workers over a queue.
 */
import { KeyedBackoff, type BackoffOptions } from './backoff';
import { realClock, type Clock, type TimerHandle } from './clock';

/** `normal`: a change; `low`: a periodic resync (see {@link WorkQueue}). */
export type QueuePriority = 'normal' | 'low';

/** Options for a {@link WorkQueue}. */
export interface WorkQueueOptions {
  /** Clock for delayed adds. @default realClock */
  readonly clock?: Clock;
  /** Per-key failure backoff. @default { baseMs: 5, maxMs: 300_000, factor: 2 } */
  readonly backoff?: BackoffOptions;
  /** Called whenever the number of queued keys changes (for a depth gauge). */
  readonly onDepthChange?: (depth: number) => void;
  /**
   * Called when a worker takes a key, with the milliseconds since the key was first added after its last take
   * (how long a change waited for its reconcile; a key added while being processed waits until `done` too) and the
   * priority it was taken at (a low key promoted by a change counts from the change, as `normal`).
   */
  readonly onLatency?: (ms: number, priority: QueuePriority) => void;
}

/** Options for {@link WorkQueue.shutDown}. */
export interface ShutDownOptions {
  /** Wait until every key currently being processed is `done()`. @default true */
  readonly drain?: boolean;
}

/** A de-duplicating, per-key serialised work queue of string keys. */
export class WorkQueue {
  private readonly clock: Clock;
  private readonly backoff: KeyedBackoff;
  private readonly onDepthChange?: (depth: number) => void;
  private readonly onLatency?: (ms: number, priority: QueuePriority) => void;
  /** When each dirty key was added (for onLatency). */
  private readonly addedAt = new Map<string, number>();
  private readonly queue: string[] = [];
  /** Low-priority keys waiting, in the order they were queued (a Set: a promotion removes one in O(1)). */
  private readonly lowQueue = new Set<string>();
  /** Dirty keys at low priority (queued in `lowQueue`, or waiting for `done` to be queued there). */
  private readonly low = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { readyAt: number; timer: TimerHandle }>();
  private readonly waiters: Array<(key: string | undefined) => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.backoff = new KeyedBackoff({ baseMs: 5, maxMs: 300_000, factor: 2, ...opts.backoff });
    this.onDepthChange = opts.onDepthChange;
    this.onLatency = opts.onLatency;
  }

  /**
   * Queues `key` now (no-op if already queued at this or a higher priority; deferred until `done` if being processed;
   * ignored after shutdown). A key waiting at `low` priority and added as `normal` moves to the normal queue.
   */
  add(key: string, priority: QueuePriority = 'normal'): void {
    if (this.shuttingDown) return;
    if (this.dirty.has(key)) {
      if (priority === 'normal' && this.low.delete(key)) this.promote(key);
      return;
    }
    this.dirty.add(key);
    if (priority === 'low') this.low.add(key);
    if (this.onLatency) this.addedAt.set(key, this.clock.now());
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Queues `key` after `ms` milliseconds. If it is already scheduled earlier, the earlier time wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const readyAt = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.readyAt <= readyAt) return;
    existing?.timer.cancel();
    const timer = this.clock.setTimer(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { readyAt, timer });
  }

  /** Queues `key` after its next backoff delay (counts one more failure). Returns the delay. */
  addRateLimited(key: string): number {
    const delay = this.backoff.next(key);
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets `key`'s failure backoff (call after a successful reconcile). */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  /** Failures recorded for `key` since the last `forget`. */
  retries(key: string): number {
    return this.backoff.retries(key);
  }

  /**
   * Waits for the next key and marks it as processing. The caller must call `done(key)` when finished.
   * Resolves undefined once the queue is shut down.
   */
  get(): Promise<string | undefined> {
    const key = this.queue.shift() ?? this.shiftLow();
    if (key !== undefined) return Promise.resolve(this.take(key));
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks `key` as no longer processing; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) this.push(key);
    if (this.processing.size === 0) this.idleWaiters.splice(0).forEach((f) => f());
  }

  /** Keys waiting, at either priority (not counting delayed or processing ones). */
  get depth(): number {
    return this.queue.length + this.lowQueue.size;
  }

  /** Keys currently being processed. */
  get inFlight(): number {
    return this.processing.size;
  }

  /** Keys scheduled for later by `addAfter`/`addRateLimited`. */
  get pendingDelayed(): number {
    return this.delayed.size;
  }

  /** True after `shutDown` was called. */
  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Stops accepting keys, drops queued and delayed keys (the informers' relist recreates them on the
   * next start: reconciliation is level-triggered), and releases waiting `get()` calls.
   * With `drain` (the default) it resolves when every in-flight key is `done()`.
   */
  async shutDown(opts: ShutDownOptions = {}): Promise<void> {
    if (!this.shuttingDown) {
      this.shuttingDown = true;
      for (const { timer } of this.delayed.values()) timer.cancel();
      this.delayed.clear();
      this.queue.length = 0;
      this.lowQueue.clear();
      this.low.clear();
      this.dirty.clear();
      this.addedAt.clear();
      this.onDepthChange?.(0);
      this.waiters.splice(0).forEach((w) => w(undefined));
    }
    if ((opts.drain ?? true) && this.processing.size > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  private push(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(this.take(key));
      return;
    }
    if (this.low.has(key)) this.lowQueue.add(key);
    else this.queue.push(key);
    this.onDepthChange?.(this.depth);
  }

  /** A dirty key just raised from low to normal: its wait counts from the change; if it is queued, it moves. */
  private promote(key: string): void {
    if (this.onLatency) this.addedAt.set(key, this.clock.now());
    if (!this.lowQueue.delete(key)) return; // being processed: done() queues it, now at normal priority
    this.queue.push(key);
  }

  private shiftLow(): string | undefined {
    const first = this.lowQueue.values().next();
    if (first.done) return undefined;
    this.lowQueue.delete(first.value);
    return first.value;
  }

  private take(key: string): string {
    this.dirty.delete(key);
    const priority: QueuePriority = this.low.delete(key) ? 'low' : 'normal';
    const added = this.addedAt.get(key);
    if (added !== undefined) {
      this.addedAt.delete(key);
      this.onLatency?.(this.clock.now() - added, priority);
    }
    this.processing.add(key);
    this.onDepthChange?.(this.depth);
    return key;
  }
}

/**
 * Runs `concurrency` workers that take keys from `queue` and call `handle(key)`, always calling
 * `done(key)` afterwards. Resolves when the queue is shut down and every worker has finished.
 * `handle` must not throw; if it does, the error goes to `onUnexpectedError` and the key is `done`.
 */
export async function runWorkers(
  queue: WorkQueue,
  concurrency: number,
  handle: (key: string) => Promise<void>,
  onUnexpectedError: (key: string, err: unknown) => void = () => undefined,
): Promise<void> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(`could not start workers: concurrency must be a positive integer, got ${concurrency}`);
  }
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await handle(key);
      } catch (err) {
        onUnexpectedError(key, err);
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
