import { WorkQueue, runWorkers } from '../../../operator/runtime/workqueue';
import { FakeClock, flushPromises } from '../../../operator/runtime/testing/fake-clock';

describe('WorkQueue', () => {
  it('de-duplicates a key added several times while it waits', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/b');
    q.add('ns/a');
    expect(q.depth).toBe(2);
    expect(await q.get()).toBe('ns/a');
    expect(await q.get()).toBe('ns/b');
    expect(q.depth).toBe(0);
  });

  it('never hands out a key that is being processed; an add during processing re-queues it after done', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    const k = await q.get();
    expect(k).toBe('ns/a');
    q.add('ns/a');
    q.add('ns/a');
    expect(q.depth).toBe(0); // held back while processing
    let second: string | undefined;
    void q.get().then((x) => (second = x));
    await flushPromises();
    expect(second).toBeUndefined();
    q.done('ns/a');
    await flushPromises();
    expect(second).toBe('ns/a');
    q.done('ns/a');
    expect(q.depth).toBe(0);
    expect(q.inFlight).toBe(0);
  });

  it('does not re-queue on done when nothing was added meanwhile', async () => {
    const q = new WorkQueue();
    q.add('k');
    q.done((await q.get())!);
    expect(q.depth).toBe(0);
  });

  it('backs off per key, doubling from 5 ms up to the cap, and forget resets it', () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, backoff: { maxMs: 40 } });
    const delays = [1, 2, 3, 4, 5, 6].map(() => q.addRateLimited('ns/a'));
    expect(delays).toEqual([5, 10, 20, 40, 40, 40]);
    expect(q.retries('ns/a')).toBe(6);
    expect(q.addRateLimited('ns/b')).toBe(5); // independent per key
    q.forget('ns/a');
    expect(q.retries('ns/a')).toBe(0);
    expect(q.addRateLimited('ns/a')).toBe(5);
  });

  it('uses a 5 minute default cap', () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    let last = 0;
    for (let i = 0; i < 30; i++) last = q.addRateLimited('x');
    expect(last).toBe(300_000);
  });

  it('addRateLimited delivers the key only once its delay has passed', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addRateLimited('k'); // 5 ms
    q.addRateLimited('k'); // 10 ms: the earlier (5 ms) schedule wins
    clock.advance(4);
    expect(q.depth).toBe(0);
    clock.advance(1);
    expect(q.depth).toBe(1);
    expect(await q.get()).toBe('k');
  });

  it('addAfter keeps the earliest schedule and adds immediately for non-positive delays', () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 1000);
    q.addAfter('a', 5000); // later: ignored
    q.addAfter('a', 200); // earlier: replaces
    expect(q.pendingDelayed).toBe(1);
    clock.advance(199);
    expect(q.depth).toBe(0);
    clock.advance(1);
    expect(q.depth).toBe(1);
    clock.advance(10_000);
    expect(q.depth).toBe(1); // the replaced timers never fire
    q.addAfter('b', 0);
    expect(q.depth).toBe(2);
  });

  it('shutDown stops accepting keys, releases waiting getters, cancels timers, and drains in-flight work', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.add('busy');
    const busy = await q.get();
    q.addAfter('later', 100);
    q.add('queued');
    const waiting = [q.get(), q.get()]; // first gets 'queued', second waits
    expect(await waiting[0]).toBe('queued');
    q.done('queued');
    let drained = false;
    const sd = q.shutDown({ drain: true }).then(() => (drained = true));
    expect(await waiting[1]).toBeUndefined();
    expect(await q.get()).toBeUndefined();
    q.add('new');
    expect(q.depth).toBe(0);
    expect(clock.timerCount).toBe(0);
    await flushPromises();
    expect(drained).toBe(false);
    q.done(busy!);
    await sd;
    expect(drained).toBe(true);
  });

  it('shutDown without drain resolves at once', async () => {
    const q = new WorkQueue();
    q.add('k');
    await q.get();
    await q.shutDown({ drain: false });
    expect(q.inFlight).toBe(1);
  });

  it('reports depth changes', () => {
    const seen: number[] = [];
    const q = new WorkQueue({ onDepthChange: (d) => seen.push(d) });
    q.add('a');
    q.add('b');
    void q.get();
    expect(seen).toEqual([1, 2, 1]);
  });
});

describe('runWorkers', () => {
  it('never runs more than `concurrency` handlers at once, and never the same key twice at once', async () => {
    const q = new WorkQueue();
    let running = 0;
    let maxRunning = 0;
    const active = new Set<string>();
    const releases: Array<() => void> = [];
    const handled: string[] = [];
    const done = runWorkers(q, 3, async (key) => {
      expect(active.has(key)).toBe(false);
      active.add(key);
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise<void>((r) => releases.push(r));
      running--;
      active.delete(key);
      handled.push(key);
    });
    for (let i = 0; i < 10; i++) q.add(`k${i}`);
    q.add('k0'); // k0 is in flight: re-queued after it finishes
    const deadline = Date.now() + 5000;
    while (handled.length < 11 && Date.now() < deadline) {
      await flushPromises();
      releases.splice(0).forEach((r) => r());
    }
    expect(handled).toHaveLength(11);
    expect(maxRunning).toBe(3);
    expect(handled.filter((k) => k === 'k0')).toHaveLength(2);
    await q.shutDown();
    await done;
  });

  it('rejects a non-positive concurrency', async () => {
    await expect(runWorkers(new WorkQueue(), 0, async () => undefined)).rejects.toThrow(/positive integer/);
  });

  it('keeps going when a handler throws, reporting the key', async () => {
    const q = new WorkQueue();
    const errors: string[] = [];
    const done = runWorkers(q, 1, async (k) => {
      if (k === 'bad') throw new Error('boom');
    }, (k) => errors.push(k));
    q.add('bad');
    q.add('good');
    const deadline = Date.now() + 5000;
    while ((errors.length < 1 || q.depth > 0 || q.inFlight > 0) && Date.now() < deadline) await flushPromises();
    expect(errors).toEqual(['bad']);
    await q.shutDown();
    await done;
  });

  it('priorities: low keys (a resync) go only when no normal key waits; a waiting low key added as normal moves up', async () => {
    const q = new WorkQueue();
    for (const k of ['r1', 'r2', 'r3']) q.add(k, 'low');
    q.add('c1');
    q.add('r2'); // a change to an object the resync queued: promoted, behind c1
    q.add('c1', 'low'); // already queued at normal: stays there
    expect(q.depth).toBe(4);
    const order = [];
    for (let i = 0; i < 4; i++) {
      const k = (await q.get()) as string;
      order.push(k);
      q.done(k);
    }
    expect(order).toEqual(['c1', 'r2', 'r1', 'r3']);
    // A low key added while it is processed is queued low on done(); a normal add meanwhile raises it.
    q.add('p', 'low');
    expect(await q.get()).toBe('p');
    q.add('p', 'low');
    q.add('x', 'low');
    q.done('p');
    q.add('c2');
    expect([await q.get(), await q.get(), await q.get()]).toEqual(['c2', 'x', 'p']);
    q.done('c2');
    q.done('x');
    q.done('p');
    q.add('p', 'low');
    expect(await q.get()).toBe('p');
    q.add('p', 'low');
    q.add('p'); // raised while processing
    q.add('y', 'low');
    q.done('p');
    expect(await q.get()).toBe('p');
    await q.shutDown({ drain: false });
  });

  it('reports the priority a key was taken at; a promoted key waits from the change', async () => {
    const clock = new FakeClock();
    const waited: Array<[number, string]> = [];
    const q = new WorkQueue({ clock, onLatency: (ms, p) => waited.push([ms, p]) });
    q.add('r', 'low');
    q.add('s', 'low');
    clock.advance(40);
    q.add('s'); // the change comes 40 ms after the resync queued it
    clock.advance(10);
    expect(await q.get()).toBe('s');
    expect(await q.get()).toBe('r');
    expect(waited).toEqual([[10, 'normal'], [50, 'low']]);
    await q.shutDown({ drain: false });
  });

  it('reports how long each key waited, from its first add to a worker taking it (adds while processing wait for done)', async () => {
    const clock = new FakeClock();
    const waited: number[] = [];
    const q = new WorkQueue({ clock, onLatency: (ms) => waited.push(ms) });
    q.add('a');
    clock.advance(30);
    q.add('a'); // de-duplicated: the first add's time counts
    clock.advance(20);
    expect(await q.get()).toBe('a');
    expect(waited).toEqual([50]);
    q.add('a'); // while processing
    clock.advance(100);
    q.done('a');
    clock.advance(5);
    expect(await q.get()).toBe('a');
    expect(waited).toEqual([50, 105]);
    q.done('a');
    q.addAfter('b', 1_000); // a delayed key waits from when it is due
    clock.advance(1_000);
    clock.advance(7);
    expect(await q.get()).toBe('b');
    expect(waited).toEqual([50, 105, 7]);
    await q.shutDown({ drain: false });
  });
});

