import { Informer, type InformerEvent } from '../../../operator/runtime/informer';
import { KubeRest } from '../../../operator/runtime/rest';
import type { KubeObject } from '../../../operator/runtime/object';
import { FakeApiServer, eventually } from './support/fake-api-server';
import { FakeClock } from '../../../operator/runtime/testing/fake-clock';

const pod = (name: string, ns = 'ns1', labels: Record<string, string> = { app: 'x' }) => ({ metadata: { name, namespace: ns, labels } });

describe('Informer (against a loopback fake API server)', () => {
  let server: FakeApiServer;
  let informer: Informer<KubeObject> | undefined;
  let events: Array<{ type: string; name: string; resync?: boolean }>;
  const restarts: string[] = [];

  beforeEach(async () => {
    server = await new FakeApiServer().start();
    events = [];
    restarts.length = 0;
  });
  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
    await server.close();
  });

  function make(opts: Partial<ConstructorParameters<typeof Informer>[0]> = {}): Informer<KubeObject> {
    informer = new Informer<KubeObject>({
      path: '/api/v1/pods',
      client: new KubeRest(server.kubeConfig()),
      labelSelector: 'app=x',
      backoff: { baseMs: 10, maxMs: 50, jitter: 0.2 },
      resyncPeriodMs: 0,
      onRestart: (r) => restarts.push(r),
      ...opts,
    });
    informer.addHandler((ev: InformerEvent<KubeObject>) => events.push({ type: ev.type, name: ev.object.metadata!.name!, resync: ev.resync }));
    return informer;
  }

  it('lists, syncs, then watches from the list resourceVersion with bookmarks and a server timeout', async () => {
    server.put(pod('a'));
    server.put(pod('b', 'ns2'));
    const inf = make();
    inf.start();
    await inf.waitForSync({ timeoutMs: 5000 });
    expect(inf.hasSynced()).toBe(true);
    expect(inf.get('ns1', 'a')?.metadata?.name).toBe('a');
    expect(inf.get('ns1', 'a')?.kind).toBe('Pod'); // restored from the list kind
    expect(inf.list('ns2').map((o) => o.metadata?.name)).toEqual(['b']);
    expect(inf.list()).toHaveLength(2);
    await eventually(() => server.openWatches === 1);
    const list = server.listRequests()[0];
    expect(list.query).toMatchObject({ labelSelector: 'app=x', limit: '500' });
    const w = server.watchRequests()[0];
    expect(w.query).toMatchObject({ watch: 'true', allowWatchBookmarks: 'true', timeoutSeconds: '300', resourceVersion: '102', labelSelector: 'app=x' });
    expect(events).toEqual([{ type: 'add', name: 'a' }, { type: 'add', name: 'b' }]);
  });

  it('applies ADDED/MODIFIED/DELETED to the cache and hands out frozen objects', async () => {
    const inf = make();
    inf.start();
    await inf.waitForSync();
    await eventually(() => server.openWatches === 1);
    server.put(pod('a'));
    server.put({ ...pod('a'), spec: { x: 1 } });
    server.remove('ns1', 'a');
    await eventually(() => events.length === 3, { describe: () => events });
    expect(events.map((e) => e.type)).toEqual(['add', 'update', 'delete']);
    expect(inf.size).toBe(0);
    server.put(pod('c'));
    await eventually(() => inf.get('ns1', 'c') !== undefined);
    const c = inf.get('ns1', 'c') as { metadata: { labels: Record<string, string> } };
    expect(() => {
      c.metadata.labels.app = 'mutated';
    }).toThrow();
  });

  it('caches objects without metadata.managedFields by default, from lists and watches; a transform decides otherwise', async () => {
    const managed = (name: string) => ({ ...pod(name), metadata: { ...pod(name).metadata, managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': {} } }] } });
    server.put(managed('listed'));
    const inf = make();
    inf.start();
    await inf.waitForSync();
    await eventually(() => server.openWatches === 1);
    server.put(managed('watched'));
    await eventually(() => inf.get('ns1', 'watched') !== undefined);
    for (const name of ['listed', 'watched']) {
      expect(inf.get('ns1', name)?.metadata).toEqual({ name, namespace: 'ns1', labels: { app: 'x' }, resourceVersion: expect.any(String) });
    }
    await inf.stop();
    const whole = make({ transform: (o) => o });
    whole.start();
    await whole.waitForSync();
    expect((whole.get('ns1', 'listed')?.metadata as { managedFields?: unknown[] }).managedFields).toHaveLength(1);
  });

  it('bookmarks only advance the resourceVersion used for the next watch', async () => {
    const inf = make();
    inf.start();
    await inf.waitForSync();
    await eventually(() => server.openWatches === 1);
    const rv = server.bookmark();
    await eventually(() => inf.lastResourceVersion === rv);
    expect(events).toEqual([]);
    server.endWatches(); // a normal server-side close: re-watch from the bookmark, no relist
    await eventually(() => server.watchRequests().length === 2);
    expect(server.watchRequests()[1].query.resourceVersion).toBe(rv);
    expect(server.listRequests()).toHaveLength(1);
    expect(restarts).toEqual([]);
  });

  it('relists on a 410 mid-watch and emits deletes for objects that vanished', async () => {
    server.put(pod('keep'));
    server.put(pod('vanish'));
    const inf = make();
    inf.start();
    await inf.waitForSync();
    await eventually(() => server.openWatches === 1);
    // Changes the watch never delivers, then the server says the resourceVersion is too old.
    server.remove('ns1', 'vanish', { silently: true });
    server.put(pod('new'), { silently: true });
    server.watchError(410);
    await eventually(() => server.listRequests().length === 2 && server.openWatches === 1, { describe: () => server.requests.length });
    await eventually(() => events.some((e) => e.type === 'delete'), { describe: () => events });
    expect(events.slice(2)).toEqual(expect.arrayContaining([{ type: 'delete', name: 'vanish' }, { type: 'add', name: 'new' }]));
    expect(inf.list().map((o) => o.metadata?.name).sort()).toEqual(['keep', 'new']);
    expect(restarts).toContain('gone');
  });

  it('relists when the watch request itself answers 410', async () => {
    const inf = make();
    server.watchFailures.push(410);
    inf.start();
    await inf.waitForSync();
    await eventually(() => server.listRequests().length === 2 && server.openWatches === 1);
    expect(restarts).toEqual(['gone']);
  });

  const gaps = (reqs: Array<{ at: number }>): number[] => reqs.slice(1).map((r, i) => r.at - reqs[i]!.at);

  it('restarts with growing backoff after 500s, then recovers; a watch that delivers an event resets the backoff', async () => {
    server.put(pod('a'));
    server.listFailures.push(500, 500, 500);
    const inf = make({ backoff: { baseMs: 50, maxMs: 5000, jitter: 0 } });
    inf.start();
    await inf.waitForSync({ timeoutMs: 5000 });
    expect(server.listRequests()).toHaveLength(4);
    expect(restarts).toEqual(['error', 'error', 'error']);
    expect(inf.lastError).toMatch(/HTTP 500/);
    // The waits between the lists double: 50, 100, 200 ms (measured where the requests arrive).
    const listGaps = gaps(server.listRequests());
    expect(listGaps[0]).toBeGreaterThanOrEqual(45);
    expect(listGaps[1]).toBeGreaterThanOrEqual(95);
    expect(listGaps[2]).toBeGreaterThanOrEqual(190);
    // A watch that receives an event resets the backoff: the next failures wait 50, then 100 ms again (not 400, 800).
    await eventually(() => server.openWatches === 1);
    server.put(pod('b'));
    await eventually(() => inf.get('ns1', 'b') !== undefined);
    server.watchFailures.push(500, 500);
    server.endWatches();
    await eventually(() => server.watchRequests().length === 4 && server.openWatches === 1, { timeoutMs: 3000, describe: () => server.watchRequests().length });
    expect(server.listRequests()).toHaveLength(4); // watch failures resume from the resourceVersion: no relist
    expect(restarts).toEqual(['error', 'error', 'error', 'error', 'error']);
    const [afterFirstFailure, afterSecondFailure] = gaps(server.watchRequests()).slice(1);
    expect(afterFirstFailure).toBeGreaterThanOrEqual(45);
    expect(afterFirstFailure).toBeLessThan(350);
    expect(afterSecondFailure).toBeGreaterThanOrEqual(95);
  });

  it('a server that answers every request with 410 gets a bounded number of LISTs (backoff across relists)', async () => {
    for (let i = 0; i < 100_000; i++) server.listFailures.push(410);
    const inf = make({ backoff: { baseMs: 50, maxMs: 400, jitter: 0 } });
    inf.start();
    await new Promise((r) => setTimeout(r, 2000));
    await inf.stop();
    informer = undefined;
    // 0, 50, 100, 200, 400, 400, ... ms apart: about 8 lists in 2 s (a relist loop without backoff makes thousands).
    const lists = server.listRequests().length;
    expect(lists).toBeGreaterThanOrEqual(4);
    expect(lists).toBeLessThanOrEqual(12);
    expect(restarts.every((r) => r === 'gone')).toBe(true);
  });

  it('lists that succeed but watches that always answer 410 do not make a relist loop either', async () => {
    for (let i = 0; i < 100_000; i++) server.watchFailures.push(410);
    const inf = make({ backoff: { baseMs: 50, maxMs: 400, jitter: 0 } });
    inf.start();
    await inf.waitForSync();
    await new Promise((r) => setTimeout(r, 2000));
    await inf.stop();
    informer = undefined;
    expect(server.listRequests().length).toBeLessThanOrEqual(12);
    expect(server.watchRequests().length).toBeLessThanOrEqual(12);
  });

  it('waitForSync rejects with the path and the last error when it cannot list', async () => {
    for (let i = 0; i < 100; i++) server.listFailures.push(403);
    const inf = make();
    inf.start();
    await expect(inf.waitForSync({ timeoutMs: 150 })).rejects.toThrow(/informer \/api\/v1\/pods did not sync within 150 ms; last error: .*HTTP 403/);
  });

  it('restarts a silent watch through the watchdog, resuming from the last resourceVersion', async () => {
    const inf = make({ watchdogMs: 100 });
    inf.start();
    await inf.waitForSync();
    await eventually(() => server.watchRequests().length >= 2, { timeoutMs: 3000 });
    expect(restarts[0]).toBe('watchdog');
    expect(server.listRequests()).toHaveLength(1);
    expect(server.watchRequests()[1].query.resourceVersion).toBe(server.watchRequests()[0].query.resourceVersion);
    // The fake keeps at most one open watch per live informer: old ones were closed by the client.
    await eventually(() => server.openWatches <= 1);
  });

  it('a watch that keeps receiving events is not restarted by the watchdog', async () => {
    const inf = make({ watchdogMs: 300 });
    inf.start();
    await inf.waitForSync();
    await eventually(() => server.openWatches === 1);
    const until = Date.now() + 700;
    let n = 0;
    await eventually(() => {
      server.put(pod(`p${n++ % 3}`));
      return Date.now() > until;
    }, { intervalMs: 50, timeoutMs: 3000 });
    expect(restarts).toEqual([]);
    expect(server.watchRequests()).toHaveLength(1);
  });

  it('periodic resync relists and re-emits every object as an update', async () => {
    server.put(pod('a'));
    server.put(pod('b'));
    const inf = make({ resyncPeriodMs: 100 });
    inf.start();
    await inf.waitForSync();
    await eventually(() => events.filter((e) => e.resync).length >= 2, { timeoutMs: 3000, describe: () => events });
    expect(events.filter((e) => e.resync).slice(0, 2).map((e) => `${e.type}:${e.name}`).sort()).toEqual(['update:a', 'update:b']);
    expect(server.listRequests().length).toBeGreaterThanOrEqual(2);
    expect(restarts).toContain('resync');
  });

  it('resyncs are jittered: informers started together schedule their relists 0-10% apart', async () => {
    const delays: number[] = [];
    for (const r of [0, 0.5, 0.99]) {
      const clock = new FakeClock();
      const inf = new Informer<KubeObject>({ path: '/api/v1/pods', client: new KubeRest(server.kubeConfig()), clock, watchdogMs: 0, resyncPeriodMs: 600_000, random: () => r });
      inf.start();
      await inf.waitForSync();
      delays.push(...clock.pendingDelays().filter((d) => d >= 600_000));
      await inf.stop();
    }
    expect(delays).toEqual([600_000, 630_000, 659_400]);
  });

  it('stop() closes the watch and ends the loop', async () => {
    const inf = make();
    inf.start();
    await inf.waitForSync();
    await eventually(() => server.openWatches === 1);
    await inf.stop();
    await eventually(() => server.openWatches === 0);
    informer = undefined;
  });
});
