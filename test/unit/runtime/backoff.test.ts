import { Backoff, backoffDelay } from '../../../operator/runtime/backoff';

describe('backoff', () => {
  it('doubles from the base up to the cap', () => {
    const b = new Backoff({ baseMs: 1000, maxMs: 30_000 });
    expect([1, 2, 3, 4, 5, 6, 7].map(() => b.next())).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(b.attempts).toBe(7);
    b.reset();
    expect(b.next()).toBe(1000);
  });

  it('adds bounded jitter', () => {
    expect(backoffDelay(2, { baseMs: 100, maxMs: 1000, jitter: 0.5, random: () => 0.999 })).toBeCloseTo(400 * 1.4995);
    expect(backoffDelay(2, { baseMs: 100, maxMs: 1000, jitter: 0.5, random: () => 0 })).toBe(400);
    expect(backoffDelay(50, { baseMs: 100, maxMs: 1000, jitter: 0.5, random: () => 0.999 })).toBeLessThanOrEqual(1500);
  });
});
