/**
 * Clock: the one seam through which the runtime reads time and schedules timers.
 *
 * Every timer in operator/runtime goes through a Clock so unit tests can drive
 * backoff, delayed requeues, watchdogs and lease renewals with a fake clock
 * (see `testing/fake-clock.ts`) instead of sleeping.
 */

/** An opaque handle for a scheduled callback. */
export interface TimerHandle {
  /** Cancels the callback. Safe to call more than once. */
  cancel(): void;
}

/** Reads time and schedules callbacks. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. Real timers are unref'd so they never keep the process alive on their own. */
  setTimer(fn: () => void, ms: number): TimerHandle;
}

/** The wall clock, backed by `setTimeout`. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/**
 * Resolves after `ms` on `clock`, or early (without rejecting) when `signal` aborts.
 * Returns true if the full delay elapsed, false if it was cut short.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = (): void => {
      timer.cancel();
      resolve(false);
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
