/**
 * FakeClock: a Clock whose time only moves when a test calls `advance`.
 * Timers fire in due-time order, synchronously inside `advance`.
 */
import type { Clock, TimerHandle } from '../clock';

interface Pending {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/** A manually driven clock for deterministic tests. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const p: Pending = { id: this.seq++, at: this.t + Math.max(0, ms), fn };
    this.pending.push(p);
    return { cancel: () => void (this.pending = this.pending.filter((x) => x !== p)) };
  }

  /** Number of timers not yet fired or cancelled. */
  get timerCount(): number {
    return this.pending.length;
  }

  /** Due times (relative to now) of pending timers, soonest first. */
  pendingDelays(): number[] {
    return this.pending.map((p) => p.at - this.t).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing every timer that falls due (including ones scheduled while advancing). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.pending.filter((p) => p.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.pending = this.pending.filter((p) => p !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
  }

  /** Advances `ms` in steps, letting promises settle between steps (for async code driven by this clock). */
  async advanceAsync(ms: number, step = ms): Promise<void> {
    for (let left = ms; left > 0; left -= step) {
      this.advance(Math.min(step, left));
      await flushPromises();
    }
  }
}

/** Lets pending promise callbacks run (a few macrotask turns). */
export async function flushPromises(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}
