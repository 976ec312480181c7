import { Informer } from '../../../operator/runtime/informer';
import { LeaderElectionLostError, Manager } from '../../../operator/runtime/manager';
import { RuntimeMetrics } from '../../../operator/runtime/metrics';
import type { KubeObject } from '../../../operator/runtime/object';
import { KubeRest } from '../../../operator/runtime/rest';
import { FakeLeaseClient } from '../../../operator/runtime/testing/fake-lease-client';
import { FakeApiServer, eventually } from './support/fake-api-server';

const KIND = { apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskCluster' };
const FAST_LEASE = { leaseDurationMs: 600, renewDeadlineMs: 400, retryPeriodMs: 100 };

describe('Manager', () => {
  let api: FakeApiServer;
  const managers: Array<{ m: Manager; run: Promise<unknown> }> = [];

  beforeEach(async () => {
    api = await new FakeApiServer('DaskClusterList', 'kubernetes.dask.org/v1').start();
  });
  afterEach(async () => {
    for (const { m, run } of managers.splice(0)) {
      await m.stop();
      await run.catch(() => undefined);
    }
    await api.close();
  });

  function makeManager(opts: { leases?: FakeLeaseClient; identity?: string; reconciled?: string[]; metrics?: RuntimeMetrics } = {}) {
    const informer = new Informer<KubeObject>({ path: '/apis/kubernetes.dask.org/v1/daskclusters', client: new KubeRest(api.kubeConfig()), name: 'daskclusters', resyncPeriodMs: 0 });
    const m = new Manager({
      metrics: opts.metrics,
      server: { host: '127.0.0.1', port: 0 },
      leaderElection: opts.leases ? { client: opts.leases, namespace: 'ops', identity: opts.identity, ...FAST_LEASE } : undefined,
    });
    m.addController({
      name: 'daskcluster',
      kind: KIND,
      for: informer,
      concurrency: 2,
      reconcile: async (req) => {
        opts.reconciled?.push(`${req.namespace}/${req.name}`);
        if (!informer.get(req.namespace, req.name)) return; // deleted: nothing to do
      },
    });
    const run = m.start();
    managers.push({ m, run });
    return { m, run, informer };
  }

  it('syncs caches, reconciles every object, serves readiness and metrics, and stops cleanly', async () => {
    api.put({ metadata: { name: 'a', namespace: 'ns' } });
    api.put({ metadata: { name: 'b', namespace: 'ns' } });
    const reconciled: string[] = [];
    const metrics = new RuntimeMetrics();
    const { m, run } = makeManager({ reconciled, metrics });
    await eventually(() => reconciled.length === 2, { describe: () => reconciled });
    expect(reconciled.sort()).toEqual(['ns/a', 'ns/b']);
    api.put({ metadata: { name: 'c', namespace: 'ns' } });
    await eventually(() => reconciled.includes('ns/c'));
    const ready = await fetch(`${m.serverUrl}/readyz`);
    expect(ready.status).toBe(200);
    const text = await (await fetch(`${m.serverUrl}/metrics`)).text();
    expect(text).toContain('dask_operator_reconcile_total{controller="daskcluster",result="success"} 3');
    expect(text).toContain('dask_operator_informer_synced{informer="daskclusters"} 1');
    const url = m.serverUrl!;
    await m.stop();
    await run;
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    await eventually(() => api.openWatches === 0);
  });

  it('fails to start with a clear error when a cache cannot sync', async () => {
    for (let i = 0; i < 1000; i++) api.listFailures.push(403);
    const informer = new Informer<KubeObject>({ path: '/apis/x/v1/ys', client: new KubeRest(api.kubeConfig()), backoff: { baseMs: 10, maxMs: 20 } });
    const m = new Manager({ server: false, cacheSyncTimeoutMs: 200 });
    m.addController({ name: 'y', kind: KIND, for: informer, reconcile: async () => undefined });
    await expect(m.start()).rejects.toThrow(/informer \/apis\/x\/v1\/ys did not sync within 200 ms; last error: .*403/);
  });

  it('rejects duplicate controller names', () => {
    const m = new Manager({ server: false });
    const inf = new Informer<KubeObject>({ path: '/x', client: new KubeRest(api.kubeConfig()) });
    m.addController({ name: 'dup', kind: KIND, for: inf, reconcile: async () => undefined });
    expect(() => m.addController({ name: 'dup', kind: KIND, for: inf, reconcile: async () => undefined })).toThrow(/must be unique/);
  });

  it('with leader election: only the leader reconciles; release on stop lets the standby take over quickly', async () => {
    api.put({ metadata: { name: 'a', namespace: 'ns' } });
    const leases = new FakeLeaseClient();
    const r1: string[] = [];
    const r2: string[] = [];
    const one = makeManager({ leases, identity: 'one', reconciled: r1 });
    await eventually(() => one.m.isLeader && r1.length === 1);
    const two = makeManager({ leases, identity: 'two', reconciled: r2 });
    await eventually(() => two.m.cachesSynced);
    const standby = await fetch(`${two.m.serverUrl}/readyz`);
    expect(standby.status).toBe(200);
    expect(await standby.text()).toContain('standby');
    expect(r2).toEqual([]);
    await one.m.stop();
    await one.run;
    expect(leases.leases.get('ops/dask-operator-leader')?.spec?.holderIdentity).not.toBe('one');
    await eventually(() => two.m.isLeader && r2.length === 1, { timeoutMs: 3000 });
  });

  it('rejects with LeaderElectionLostError and stops reconciling when the lease is lost', async () => {
    const leases = new FakeLeaseClient();
    const { m, run } = makeManager({ leases, identity: 'one' });
    await eventually(() => m.isLeader);
    leases.down = true;
    await expect(run).rejects.toBeInstanceOf(LeaderElectionLostError);
    expect(m.isLeader).toBe(false);
    await eventually(() => api.openWatches === 0);
  });

  it('stops writing at once when the Lease is handed to another holder: a reconcile released after the handover writes nothing', async () => {
    api.put({ metadata: { name: 'a', namespace: 'ns' } });
    api.custom.push((req, res) => {
      if (req.method === 'GET') return false;
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'x', namespace: 'ns' } }));
      return true;
    });
    const leases = new FakeLeaseClient();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered = false;
    const outcomes: string[] = [];
    const informer = new Informer<KubeObject>({ path: '/apis/kubernetes.dask.org/v1/daskclusters', client: new KubeRest(api.kubeConfig()), name: 'daskclusters', resyncPeriodMs: 0 });
    const m = new Manager({ server: false, leaderElection: { client: leases, namespace: 'ops', identity: 'one', ...FAST_LEASE }, shutdownTimeoutMs: 5000 });
    const writer = new KubeRest(api.kubeConfig()).withWriteGuard(m.writeGuard);
    m.addController({
      name: 'gated',
      kind: KIND,
      for: informer,
      reconcile: async () => {
        entered = true;
        await gate;
        try {
          await writer.request('POST', '/api/v1/namespaces/ns/configmaps', { body: { metadata: { name: 'x' } } });
          outcomes.push('wrote');
        } catch (e) {
          outcomes.push((e as Error).name);
          throw e;
        }
      },
    });
    const run = m.start();
    managers.push({ m, run });
    await eventually(() => entered && m.isLeader);
    // Another replica takes the Lease over (e.g. after an API-server partition long enough for it to expire).
    const cur = (await leases.get('ops', 'dask-operator-leader'))!;
    await leases.replace({ ...cur, spec: { ...cur.spec, holderIdentity: 'two' } });
    await eventually(() => !m.isLeader, { timeoutMs: 3000 });
    const writesBefore = api.requests.filter((r) => r.method !== 'GET').length;
    release();
    await expect(run).rejects.toBeInstanceOf(LeaderElectionLostError);
    expect(outcomes).toEqual(['NotLeaderError']);
    expect(api.requests.filter((r) => r.method !== 'GET').length).toBe(writesBefore);
    expect(writesBefore).toBe(0);
  });

  it('a standby may not write at all; the leader may', async () => {
    const leases = new FakeLeaseClient();
    const one = makeManager({ leases, identity: 'one' });
    await eventually(() => one.m.isLeader);
    const two = makeManager({ leases, identity: 'two' });
    await eventually(() => two.m.cachesSynced);
    expect(() => one.m.assertMayWrite('POST', '/x')).not.toThrow();
    expect(() => two.m.assertMayWrite('POST', '/x')).toThrow(/does not hold the leader lease dask-operator-leader/);
    expect(() => new Manager({ server: false }).assertMayWrite('POST', '/x')).not.toThrow(); // no leader election
  });
});

