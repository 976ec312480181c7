import { reconcileJob } from '../../../operator/dask/job-reconciler';
import type { DaskCluster, DaskJob, Pod } from '../../../lib/schema/generated/types';
import { dropNulls } from '../../../lib/validation/crd-schema';
import { loadYaml } from '../../support/yaml';
import { COMPONENT_JOB_RUNNER, jobRunnerPodName } from '../../../lib/schema/names';
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
/** A Pod carrying the runner's labels that the job does not control (someone else's). */
const foreignRunner = (phase: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nightly-runner', namespace: NS, uid: 'pod-of-someone', labels: { 'dask.org/cluster-name': 'nightly', 'dask.org/component': COMPONENT_JOB_RUNNER } }, spec: { containers: [] }, status: { phase },
});
const RUNNER = jobRunnerPodName('nightly', 'job-uid', 1);
const creates = (w: FakeWorld) => w.writes.filter((x) => x.op === 'create').map((x) => `${x.plural}/${x.name}`);

describe('DaskJob reconciler', () => {
  test('creates its cluster and runner, follows the runner to Running and Successful, then deletes the cluster', async () => {
    const w = world();
    for (let i = 0; i < 3 && !creates(w).includes(`pods/${RUNNER}`); i++) await reconcileJob(w.context(), req, rc);
    expect(creates(w)).toEqual(['daskclusters/nightly', `pods/${RUNNER}`]);
    expect(job(w).status).toMatchObject({ clusterName: 'nightly', jobRunnerPodName: RUNNER });
    w.stores.pods.edit(NS, RUNNER, (p) => void ((p as unknown as Pod).status = { phase: 'Running' }));
    await reconcileJob(w.context(), req, rc);
    expect(job(w).status).toMatchObject({ jobStatus: 'Running', startTime: '2026-11-26T12:00:00Z' });
    w.stores.pods.edit(NS, RUNNER, (p) => void ((p as unknown as Pod).status = { phase: 'Succeeded' }));
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

  test.each(['Running', 'Succeeded'])('a foreign Pod with the runner\'s labels (%s) is not the job\'s: ignored, the job runs its own runner', async (phase) => {
    const w = world();
    w.stores.pods.put(foreignRunner(phase) as never);
    for (let i = 0; i < 3; i++) await reconcileJob(w.context(), req, rc);
    expect(creates(w)).toEqual(['daskclusters/nightly', `pods/${RUNNER}`]);
    expect(w.writesOf('delete', 'daskclusters')).toEqual([]);
    expect(w.writesOf('delete', 'pods')).toEqual([]); // never deletes what it does not own
    expect(job(w).status?.jobStatus).not.toMatch(/^(Running|Successful|Failed)$/);
    expect(job(w).status?.jobRunnerPodName).toBe(RUNNER);
    expect(w.stores.pods.get(NS, 'nightly-runner')).toMatchObject({ metadata: { uid: 'pod-of-someone' } });
  });

  test('once the namesake is gone the job proceeds and the condition turns True', async () => {
    const w = world();
    w.stores.daskclusters.put(structuredClone(foreignCluster) as never);
    await reconcileJob(w.context(), req, rc);
    w.stores.daskclusters.remove(NS, 'nightly');
    await reconcileJob(w.context(), req, rc);
    for (let i = 0; i < 3 && !creates(w).includes(`pods/${RUNNER}`); i++) await reconcileJob(w.context(), req, rc);
    expect(creates(w)).toEqual(['daskclusters/nightly', `pods/${RUNNER}`]);
    expect(job(w).status?.conditions?.find((c) => c.type === 'ComponentsHealthy')).toMatchObject({ status: 'True', reason: 'Reconciled' });
  });
});
