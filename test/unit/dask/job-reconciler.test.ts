import { reconcileJob } from '../../../operator/dask/job-reconciler';
import type { DaskCluster, DaskJob, Pod } from '../../../lib/schema/generated/types';
import { dropNulls } from '../../../lib/validation/crd-schema';
import { loadYaml } from '../../support/yaml';
import { FakeWorld, rc } from './fake';

const NS = 'ns';
const req = { namespace: NS, name: 'nightly' };

function world(): FakeWorld {
  const w = new FakeWorld();
  const seed = dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0]) as unknown as DaskCluster;
  w.stores.daskjobs.put({
    apiVersion: 'kubernetes.dask.org/v1',
    kind: 'DaskJob',
    metadata: { name: 'nightly', namespace: NS, uid: 'job-uid', generation: 1 },
    spec: { job: { spec: { containers: [{ name: 'job', image: 'ghcr.io/dask/dask:2026.8.0', args: ['python', '-m', 'etl'] }] } }, cluster: { spec: seed.spec } },
  } as never);
  return w;
}
const job = (w: FakeWorld): DaskJob => w.stores.daskjobs.get(NS, 'nightly') as unknown as DaskJob;
const foreignCluster = { apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskCluster', metadata: { name: 'nightly', namespace: NS, uid: 'someone-elses' }, spec: { worker: {}, scheduler: {} } };
const foreignRunner = (phase: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nightly-runner', namespace: NS, uid: 'pod-of-someone', labels: { 'dask.org/cluster-name': 'nightly' } }, spec: { containers: [] }, status: { phase } });

describe('DaskJob reconciler', () => {
  test('creates its cluster and runner, follows the runner to Running and Successful, then deletes the cluster', async () => {
    const w = world();
    await reconcileJob(w.context(), req, rc);
    expect(w.writes.filter((x) => x.op === 'create').map((x) => `${x.plural}/${x.name}`)).toEqual(['daskclusters/nightly', 'pods/nightly-runner']);
    expect(job(w).status).toMatchObject({ jobStatus: 'ClusterCreated', clusterName: 'nightly', jobRunnerPodName: 'nightly-runner' });
    w.stores.pods.edit(NS, 'nightly-runner', (p) => void ((p as unknown as Pod).status = { phase: 'Running' }));
    await reconcileJob(w.context(), req, rc);
    expect(job(w).status).toMatchObject({ jobStatus: 'Running', startTime: '2026-11-26T12:00:00Z' });
    w.stores.pods.edit(NS, 'nightly-runner', (p) => void ((p as unknown as Pod).status = { phase: 'Succeeded' }));
    await reconcileJob(w.context(), req, rc);
    expect(w.writesOf('delete', 'daskclusters').map((x) => x.name)).toEqual(['nightly']);
    expect(job(w).status).toMatchObject({ jobStatus: 'Successful' });
  });

  test('a DaskCluster with the job\'s name that the job does not control: NameTaken + one Warning Event, nothing touched', async () => {
    const w = world();
    w.stores.daskclusters.put(structuredClone(foreignCluster) as never);
    const r = await reconcileJob(w.context(), req, rc);
    expect(r).toEqual({ requeueAfter: 30_000 });
    expect(w.writes.filter((x) => x.op !== 'status')).toEqual([]); // no runner Pod, no patch or delete of the cluster
    expect(job(w).status?.conditions?.find((c) => c.type === 'ComponentsHealthy')).toMatchObject({ status: 'False', reason: 'NameTaken', message: expect.stringContaining('DaskCluster nightly exists but is not controlled by this DaskJob') });
    expect(w.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'NameTaken' })]);
    await reconcileJob(w.context(), req, rc);
    expect(w.events).toHaveLength(1); // once per transition
    expect(w.stores.daskclusters.get(NS, 'nightly')).toMatchObject({ metadata: { uid: 'someone-elses' } });
  });

  test.each(['Running', 'Succeeded'])('a foreign runner Pod (%s) is not the job\'s: NameTaken, the job neither runs nor ends, its cluster stays', async (phase) => {
    const w = world();
    w.stores.pods.put(foreignRunner(phase) as never);
    await reconcileJob(w.context(), req, rc);
    expect(w.writes.filter((x) => x.op === 'create' && x.plural === 'pods')).toEqual([]);
    expect(w.writesOf('delete', 'daskclusters')).toEqual([]);
    expect(job(w).status?.jobStatus).toBe('JobCreated');
    expect(job(w).status?.conditions?.find((c) => c.type === 'ComponentsHealthy')).toMatchObject({ reason: 'NameTaken', message: expect.stringContaining('Pod nightly-runner') });
    expect(w.events.map((e) => e.reason)).toEqual(['NameTaken']);
  });

  test('a foreign runner Pod the cache cannot see (no cluster label) is found by a live read on AlreadyExists', async () => {
    const w = world();
    const base = w.context();
    const ctx = {
      ...base,
      api: { ...w.api, create: async (plural: string, ns: string, body: object) => (plural === 'pods' ? false : w.api.create(plural as never, ns, body)), get: async () => ({ metadata: { name: 'nightly-runner', uid: 'x' } }) },
    };
    await reconcileJob(ctx, req, rc);
    expect(job(w).status?.conditions?.find((c) => c.type === 'ComponentsHealthy')).toMatchObject({ status: 'False', reason: 'NameTaken', message: expect.stringContaining('Pod nightly-runner') });
    expect(job(w).status?.jobStatus).toBe('JobCreated');
  });

  test('once the namesake is gone the job proceeds and the condition turns True', async () => {
    const w = world();
    w.stores.daskclusters.put(structuredClone(foreignCluster) as never);
    await reconcileJob(w.context(), req, rc);
    w.stores.daskclusters.remove(NS, 'nightly');
    await reconcileJob(w.context(), req, rc);
    expect(w.writes.filter((x) => x.op === 'create').map((x) => `${x.plural}/${x.name}`)).toEqual(['daskclusters/nightly', 'pods/nightly-runner']);
    expect(job(w).status?.conditions?.find((c) => c.type === 'ComponentsHealthy')).toMatchObject({ status: 'True', reason: 'Reconciled' });
  });
});
