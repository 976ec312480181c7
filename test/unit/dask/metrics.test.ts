/**
 * The operator's Dask metrics (operator/dask/metrics.ts) from the reconcilers' point of view, and the DaskCluster's
 * RollingOut readiness (the cluster's health in Argo CD follows its default group's rollout).
 */
import { Registry } from 'prom-client';
import { reconcileCluster } from '../../../operator/dask/cluster-reconciler';
import { DaskMetrics } from '../../../operator/dask/metrics';
import { reconcileJob } from '../../../operator/dask/job-reconciler';
import { reconcileWorkerGroup } from '../../../operator/dask/worker-group-reconciler';
import type { DaskCaches, DaskContext } from '../../../operator/dask/context';
import type { DaskCluster, DaskJob, DaskWorkerGroup } from '../../../lib/schema/generated/types';
import { dropNulls } from '../../../lib/validation/crd-schema';
import { loadYaml } from '../../support/yaml';
import { FakeWorld, rc, fakeScheduler } from './fake';

const NS = 'ns';
const req = (name: string) => ({ namespace: NS, name });

function setup(replicas = 3): { w: FakeWorld; registry: Registry; metrics: DaskMetrics; ctx: () => DaskContext } {
  const w = new FakeWorld();
  const cluster = dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0]) as unknown as DaskCluster;
  cluster.metadata = { name: 'my-cluster', namespace: NS, uid: 'cluster-uid', generation: 1 };
  cluster.spec.worker.replicas = replicas;
  w.stores.daskclusters.put(cluster as never);
  const registry = new Registry();
  const metrics = new DaskMetrics(registry, w.context().caches as DaskCaches);
  return { w, registry, metrics, ctx: () => ({ ...w.context(), metrics }) };
}

async function converge(w: FakeWorld, ctx: () => DaskContext, rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await reconcileCluster(ctx(), req('my-cluster'), rc);
    await reconcileWorkerGroup(ctx(), req('my-cluster-default'), rc);
    w.runAllPods();
  }
}

/** One sample's value from the exposition, or undefined. */
async function sample(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of (await registry.metrics()).split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const braces = line.match(/\{(.*)\}/)?.[1] ?? '';
    const have = braces ? braces.split(',') : [];
    if (want.every((l) => have.includes(l)) && have.length === want.length) return Number(line.split(' ').pop());
  }
  return undefined;
}

describe('Dask metrics', () => {
  test('clusters by phase, cluster readiness and worker groups desired / live / ready, from the caches at scrape time', async () => {
    const { w, registry, ctx } = setup(3);
    expect(await sample(registry, 'dask_operator_clusters', { namespace: NS, phase: 'None' })).toBe(1);
    await converge(w, ctx);
    expect(await sample(registry, 'dask_operator_clusters', { namespace: NS, phase: 'Running' })).toBe(1);
    expect(await sample(registry, 'dask_operator_clusters', { namespace: NS, phase: 'Error' })).toBe(0);
    expect(await sample(registry, 'dask_operator_cluster_ready', { namespace: NS, cluster: 'my-cluster' })).toBe(1);
    const group = { namespace: NS, cluster: 'my-cluster', workergroup: 'my-cluster-default' };
    expect(await sample(registry, 'dask_operator_workergroup_desired_workers', group)).toBe(3);
    expect(await sample(registry, 'dask_operator_workergroup_workers', group)).toBe(3);
    expect(await sample(registry, 'dask_operator_workergroup_ready_workers', group)).toBe(3);
    expect(await sample(registry, 'dask_operator_scale_downs_total', { outcome: 'deleted_without_retirement' })).toBe(0);
  });

  test('scale-downs: graceful retirement vs the fallback, and the Pods each deleted', async () => {
    const { w, registry, ctx } = setup(4);
    await converge(w, ctx);
    const scale = (n: number) => void w.stores.daskworkergroups.edit(NS, 'my-cluster-default', (g) => void ((g as unknown as DaskWorkerGroup).spec!.worker.replicas = n));
    // No scheduler reachable: the fallback deletes newest first.
    w.scheduler = undefined;
    scale(3);
    await reconcileWorkerGroup(ctx(), req('my-cluster-default'), rc);
    expect(await sample(registry, 'dask_operator_scale_downs_total', { outcome: 'deleted_without_retirement' })).toBe(1);
    expect(await sample(registry, 'dask_operator_workers_deleted_total', { reason: 'without_retirement' })).toBe(1);
    // A scheduler that retires what it is asked to: graceful.
    const live = (w.stores.pods.list(NS) as { metadata: { name: string; deletionTimestamp?: string }; status?: { podIP?: string } }[]).filter((p) => p.metadata.name.includes('-worker-') && !p.metadata.deletionTimestamp);
    w.scheduler = fakeScheduler({
      workers: async () => live.map((p) => ({ name: p.metadata.name, address: `tcp://${p.status?.podIP}:1`, host: p.status?.podIP ?? '' })),
      workersToClose: async () => live.map((p) => p.metadata.name),
      retireWorkers: async (r) => ({ retired: (r.names ?? []).map((name) => ({ name, address: '', host: '' })), notRetired: [], confirmedBy: 'reply' }),
    });
    scale(2);
    w.expectations.forget(`${NS}/my-cluster-default`);
    await reconcileWorkerGroup(ctx(), req('my-cluster-default'), rc);
    expect(await sample(registry, 'dask_operator_scale_downs_total', { outcome: 'retired' })).toBe(1);
    expect(await sample(registry, 'dask_operator_workers_deleted_total', { reason: 'retired' })).toBeGreaterThanOrEqual(1);
  });

  test('scheduler calls counted by call and result, and timed', async () => {
    const { registry, metrics } = setup();
    const client = metrics.instrument(fakeScheduler({ adaptiveTarget: async () => { throw new Error('connection refused'); }, health: async () => false }));
    await expect(client.adaptiveTarget()).rejects.toThrow('connection refused');
    expect(await client.health()).toBe(false);
    expect(await client.idleSince()).toBeNull();
    expect(await sample(registry, 'dask_operator_scheduler_calls_total', { call: 'adaptive_target', result: 'error' })).toBe(1);
    expect(await sample(registry, 'dask_operator_scheduler_calls_total', { call: 'health', result: 'error' })).toBe(1);
    expect(await sample(registry, 'dask_operator_scheduler_calls_total', { call: 'idle_since', result: 'success' })).toBe(1);
    expect(await sample(registry, 'dask_operator_scheduler_calls_total', { call: 'retire_workers', result: 'error' })).toBe(0);
    expect(await sample(registry, 'dask_operator_scheduler_call_duration_seconds_count', { call: 'adaptive_target' })).toBe(1);
  });

  test('a finished DaskJob: its run time, by result; jobs by status', async () => {
    const { w, registry, ctx } = setup();
    const job = { apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskJob', metadata: { name: 'etl', namespace: NS, uid: 'job-uid', generation: 1 }, spec: { job: { spec: { containers: [{ name: 'job', image: 'x' }] } }, cluster: { spec: (w.stores.daskclusters.get(NS, 'my-cluster') as unknown as DaskCluster).spec } } } as unknown as DaskJob;
    w.stores.daskjobs.put(job as never);
    await reconcileJob(ctx(), req('etl'), rc);
    w.runAllPods();
    await reconcileJob(ctx(), req('etl'), rc);
    const stored = w.stores.daskjobs.get(NS, 'etl') as unknown as DaskJob;
    expect(stored.status?.jobStatus).toBe('Running');
    expect(await sample(registry, 'dask_operator_jobs', { namespace: NS, job_status: 'Running' })).toBe(1);
    const runner = stored.status?.jobRunnerPodName as string;
    w.stores.pods.edit(NS, runner, (p) => void ((p as unknown as { status: Record<string, unknown> }).status = { phase: 'Succeeded' }));
    w.clock = new Date(w.clock.getTime() + 90_000);
    await reconcileJob(ctx(), req('etl'), rc);
    expect(await sample(registry, 'dask_operator_job_execution_duration_seconds_count', { result: 'succeeded' })).toBe(1);
    expect(await sample(registry, 'dask_operator_job_execution_duration_seconds_sum', { result: 'succeeded' })).toBe(90);
    // Reconciling the finished job again observes nothing more.
    await reconcileJob(ctx(), req('etl'), rc);
    expect(await sample(registry, 'dask_operator_job_execution_duration_seconds_count', { result: 'succeeded' })).toBe(1);
  });
});

describe('DaskCluster readiness during a rollout of the default group', () => {
  test('WorkersReady and Ready say RollingOut while old Pods are being replaced, then Ready again', async () => {
    const { w, ctx } = setup(4);
    await converge(w, ctx);
    const cluster = () => w.stores.daskclusters.get(NS, 'my-cluster') as unknown as DaskCluster;
    const cond = (type: string) => cluster().status?.conditions?.find((c) => c.type === type);
    expect(cond('Ready')?.status).toBe('True');
    w.stores.daskclusters.edit(NS, 'my-cluster', (c) => void ((c as unknown as DaskCluster).spec.worker.spec.containers[0].image = 'ghcr.io/dask/dask:2026.8.0'));
    await reconcileCluster(ctx(), req('my-cluster'), rc); // patches the default group's template
    await reconcileWorkerGroup(ctx(), req('my-cluster-default'), rc); // Ready=False RollingOut on the group
    await reconcileCluster(ctx(), req('my-cluster'), rc);
    expect(cond('WorkersReady')).toMatchObject({ status: 'False', reason: 'RollingOut', message: expect.stringMatching(/^my-cluster-default: \d\/4 workers Ready, 4 on an old template being replaced$/) });
    expect(cond('Ready')).toMatchObject({ status: 'False', reason: 'RollingOut' });
    for (let i = 0; i < 12; i++) await converge(w, ctx, 1);
    expect(cond('Ready')?.status).toBe('True');
  });
});

describe('own status writes held (read-your-own-writes entries)', () => {
  test('dask_operator_own_status_writes counts the entries at scrape time; none are left once every object was reconciled after its last write', async () => {
    const w = new FakeWorld();
    const cluster = dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0]) as unknown as DaskCluster;
    cluster.metadata = { name: 'my-cluster', namespace: NS, uid: 'cluster-uid', generation: 1 };
    w.stores.daskclusters.put(cluster as never);
    const registry = new Registry();
    const metrics = new DaskMetrics(registry, w.context().caches as DaskCaches, { ownWrites: w.ownWrites });
    const ctx = () => ({ ...w.context(), metrics });
    expect(await sample(registry, 'dask_operator_own_status_writes', {})).toBe(0);
    await reconcileCluster(ctx(), req('my-cluster'), rc); // writes the cluster's first status
    expect(w.ownWrites.size).toBeGreaterThan(0);
    expect(await sample(registry, 'dask_operator_own_status_writes', {})).toBe(w.ownWrites.size);
    await converge(w, ctx);
    // One more reconcile of each object after the last write: what it read from the cache was the written version.
    await reconcileCluster(ctx(), req('my-cluster'), rc);
    await reconcileWorkerGroup(ctx(), req('my-cluster-default'), rc);
    expect(await sample(registry, 'dask_operator_own_status_writes', {})).toBe(0);
  });

  test('without an OwnWrites the series is not served', async () => {
    const { registry } = setup(1);
    expect(await sample(registry, 'dask_operator_own_status_writes', {})).toBeUndefined();
  });
});
