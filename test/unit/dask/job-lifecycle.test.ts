import { planJob, JobObservation, JobPlan } from '../../../operator/dask/job-lifecycle';
import { reconcileJob } from '../../../operator/dask/job-reconciler';
import type { DaskCluster, DaskJob, DaskJobStatus, Pod } from '../../../lib/schema/generated/types';
import { dropNulls } from '../../../lib/validation/crd-schema';
import { loadYaml } from '../../support/yaml';
import { FakeWorld, rc } from './fake';

const NS = 'ns';
const UID = '7f3a29c1-0b1d-4e6f-9a2b-3c4d5e6f7a8b';
const T0 = new Date('2026-11-26T12:00:00Z');
const at = (s: number): Date => new Date(T0.getTime() + s * 1000);
const runnerName = (n: number): string => `etl-runner-7f3a2-${n}`;

function job(spec: Partial<NonNullable<DaskJob['spec']>> = {}, status?: DaskJobStatus): DaskJob {
  const seed = dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0]) as unknown as DaskCluster;
  return {
    apiVersion: 'kubernetes.dask.org/v1',
    kind: 'DaskJob',
    metadata: { name: 'etl', namespace: NS, uid: UID, generation: 1, resourceVersion: '10', creationTimestamp: '2026-11-26T12:00:00Z' },
    spec: { job: { spec: { containers: [{ name: 'job', image: 'x' }], restartPolicy: 'Never' } }, cluster: { spec: seed.spec }, ...spec },
    ...(status ? { status } : {}),
  };
}
const ourCluster = (extra: Partial<DaskCluster['metadata']> = {}): DaskCluster => ({
  apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskCluster',
  metadata: { name: 'etl', namespace: NS, uid: 'c-uid', ownerReferences: [{ apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskJob', name: 'etl', uid: UID, controller: true }], ...extra },
  spec: job().spec?.cluster.spec as DaskCluster['spec'],
});
function runner(n: number, phase: string, extra: Partial<NonNullable<Pod['status']>> = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: runnerName(n), namespace: NS, uid: `r-${n}`, labels: { 'dask.org/cluster-name': 'etl', 'dask.org/component': 'job-runner' }, ownerReferences: [{ apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskJob', name: 'etl', uid: UID, controller: true }] },
    spec: { containers: [{ name: 'job', image: 'x' }] },
    status: { phase, ...extra },
  } as Pod;
}
const running = (status: DaskJobStatus = {}): DaskJobStatus => ({ jobStatus: 'Running', clusterName: 'etl', jobRunnerPodName: runnerName(1), attempts: 1, launchTime: '2026-11-26T12:00:00Z', startTime: '2026-11-26T12:00:05Z', ...status });

function plan(j: DaskJob, o: Partial<Omit<JobObservation, 'job'>> = {}): JobPlan {
  return planJob({ job: j, runners: [], podsHeld: 0, now: at(10), ...o });
}
const cond = (p: JobPlan, type: string) => p.status?.conditions?.find((c) => c.type === type);
const kinds = (p: JobPlan) => p.actions.map((a) => a.kind + ('attempt' in a ? ` ${a.attempt}` : '') + ('foreground' in a && a.foreground ? ' (foreground)' : ''));

describe('DaskJob lifecycle (planJob)', () => {
  test('a new job: JobCreated, attempt 1 recorded, then the cluster and the runner are created', () => {
    const p = plan(job());
    expect(p.status).toMatchObject({ jobStatus: 'JobCreated', attempts: 1, jobRunnerPodName: runnerName(1), clusterName: 'etl', launchTime: '2026-11-26T12:00:00Z' });
    expect(kinds(p)).toEqual(['createCluster', 'createRunner 1']);
  });

  test('cluster and runner exist: ClusterCreated; the runner runs: Running with startTime', () => {
    const created = { jobStatus: 'JobCreated', clusterName: 'etl', jobRunnerPodName: runnerName(1), attempts: 1, launchTime: '2026-11-26T12:00:00Z' };
    expect(plan(job({}, created), { cluster: ourCluster(), runners: [runner(1, 'Pending')] }).status?.jobStatus).toBe('ClusterCreated');
    const p = plan(job({}, created), { cluster: ourCluster(), runners: [runner(1, 'Running')] });
    expect(p.status).toMatchObject({ jobStatus: 'Running', startTime: '2026-11-26T12:00:10Z' });
    expect(p.actions).toEqual([]);
  });

  test('the runner succeeded: Successful and Complete are recorded, then the cluster is deleted', () => {
    const p = plan(job({}, running()), { cluster: ourCluster(), runners: [runner(1, 'Succeeded')] });
    expect(p.status).toMatchObject({ jobStatus: 'Successful', endTime: '2026-11-26T12:00:10Z' });
    expect(cond(p, 'Complete')).toMatchObject({ status: 'True', reason: 'RunnerSucceeded' });
    expect(kinds(p)).toEqual(['deleteCluster']);
    expect(p.events).toEqual([expect.objectContaining({ type: 'Normal', reason: 'JobSucceeded' })]);
  });

  test('after a refused delete, the next pass deletes again and writes nothing (idempotent terminal handling)', () => {
    const first = plan(job({}, running()), { cluster: ourCluster(), runners: [runner(1, 'Succeeded')] });
    const again = plan(job({}, first.status), { cluster: ourCluster(), runners: [runner(1, 'Succeeded')], now: at(20) });
    expect(again.status).toBeUndefined();
    expect(kinds(again)).toEqual(['deleteCluster']);
    expect(plan(job({}, first.status), { runners: [runner(1, 'Succeeded')], now: at(30) })).toEqual({ status: undefined, events: [], actions: [] });
  });

  test('no backoffLimit: the first failure fails the job (BackoffLimitExceeded), as upstream', () => {
    const p = plan(job({}, running()), { cluster: ourCluster(), runners: [runner(1, 'Failed', { containerStatuses: [{ name: 'job', ready: false, restartCount: 0, state: { terminated: { exitCode: 3, reason: 'Error' } } }] })] });
    expect(p.status).toMatchObject({ jobStatus: 'Failed', failed: 1, endTime: '2026-11-26T12:00:10Z' });
    expect(cond(p, 'Failed')).toMatchObject({ status: 'True', reason: 'BackoffLimitExceeded', message: expect.stringContaining('exited with code 3 (Error)') });
    expect(kinds(p)).toEqual(['deleteCluster']);
    expect(p.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'JobFailed' })]);
  });

  test('backoffLimit 2: two failures are retried as new attempts on the same cluster, the third fails the job', () => {
    let status = running();
    const runners: Pod[] = [];
    for (const n of [1, 2]) {
      runners.push(runner(n, 'Failed'));
      const p = plan(job({ backoffLimit: 2 }, status), { cluster: ourCluster(), runners });
      expect(p.status).toMatchObject({ jobStatus: 'Running', attempts: n + 1, failed: n, jobRunnerPodName: runnerName(n + 1) });
      expect(kinds(p)).toEqual([`createRunner ${n + 1}`]);
      expect(p.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'RunnerFailed', message: expect.stringContaining(`retrying as attempt ${n + 1}`) })]);
      status = p.status as DaskJobStatus;
    }
    runners.push(runner(3, 'Failed'));
    const last = plan(job({ backoffLimit: 2 }, status), { cluster: ourCluster(), runners });
    expect(last.status).toMatchObject({ jobStatus: 'Failed', attempts: 3, failed: 3 });
    expect(cond(last, 'Failed')?.reason).toBe('BackoffLimitExceeded');
  });

  test('restartPolicy OnFailure: container restarts count against an explicit backoffLimit, and the restarting runner is deleted', () => {
    const restarting = runner(1, 'Running', { containerStatuses: [{ name: 'job', ready: true, restartCount: 3 }] });
    const p = plan(job({ backoffLimit: 2 }, running()), { cluster: ourCluster(), runners: [restarting] });
    expect(p.status).toMatchObject({ jobStatus: 'Failed', failed: 3 });
    expect(kinds(p)).toEqual(['deleteRunner', 'deleteCluster']);
    // Without a backoffLimit restarts are the kubelet's business, as upstream.
    expect(plan(job({}, running()), { cluster: ourCluster(), runners: [restarting] }).status).toMatchObject({ conditions: [] });
  });

  test('created suspended: nothing is created, Suspended=True, jobStatus JobCreated', () => {
    const p = plan(job({ suspend: true }));
    expect(p.actions).toEqual([]);
    expect(p.status?.jobStatus).toBe('JobCreated');
    expect(cond(p, 'Suspended')).toMatchObject({ status: 'True', reason: 'JobSuspended', message: 'the job holds no Pods' });
    expect(p.events).toEqual([expect.objectContaining({ reason: 'Suspended', message: 'suspended: nothing is created until spec.suspend is false' })]);
  });

  test('suspending a running job deletes its runner and (in the foreground) its cluster, and says so', () => {
    const p = plan(job({ suspend: true }, running()), { cluster: ourCluster(), runners: [runner(1, 'Running')], podsHeld: 5 });
    expect(kinds(p)).toEqual(['deleteRunner', 'deleteCluster (foreground)']);
    expect(p.status?.jobStatus).toBe('JobCreated');
    expect(cond(p, 'Suspended')?.message).toBe('5 Pod(s) still terminating');
    expect(p.events[0].message).toBe(`suspended: deleted runner Pod ${runnerName(1)} and DaskCluster etl; resuming starts a new cluster and a new runner attempt`);
    const later = plan(job({ suspend: true }, p.status), { now: at(30) });
    expect(cond(later, 'Suspended')?.message).toBe('the job holds no Pods');
    expect(later.events).toEqual([]);
  });

  test('resuming starts afresh: a new launch, a new attempt, waiting for the old cluster to go first', () => {
    const suspended = plan(job({ suspend: true }, running()), { cluster: ourCluster(), runners: [runner(1, 'Running')] }).status as DaskJobStatus;
    const deleting = ourCluster({ deletionTimestamp: '2026-11-26T12:00:11Z' });
    const p = plan(job({}, suspended), { cluster: deleting, now: at(40) });
    expect(p.status).toMatchObject({ jobStatus: 'JobCreated', attempts: 2, jobRunnerPodName: runnerName(2), launchTime: '2026-11-26T12:00:40Z', startTime: null });
    expect(cond(p, 'Suspended')).toMatchObject({ status: 'False', reason: 'JobResumed' });
    expect(p.actions).toEqual([]);
    expect(p.requeueAfterMs).toBe(1000);
    const q = plan(job({}, p.status), { now: at(41) });
    expect(kinds(q)).toEqual(['createCluster', 'createRunner 2']);
  });

  test('activeDeadlineSeconds counts from the launch, cluster start-up included', () => {
    const before = plan(job({ activeDeadlineSeconds: 60 }, running()), { cluster: ourCluster(), runners: [runner(1, 'Running')], now: at(50) });
    expect(before.requeueAfterMs).toBe(10_000);
    const p = plan(job({ activeDeadlineSeconds: 60 }, running()), { cluster: ourCluster(), runners: [runner(1, 'Running')], now: at(60) });
    expect(p.status).toMatchObject({ jobStatus: 'Failed', endTime: '2026-11-26T12:01:00Z' });
    expect(cond(p, 'Failed')).toMatchObject({ reason: 'DeadlineExceeded' });
    expect(kinds(p)).toEqual(['deleteRunner', 'deleteCluster']);
    expect(p.events[0]).toMatchObject({ type: 'Warning', reason: 'DeadlineExceeded' });
  });

  test('ttlSecondsAfterFinished deletes the DaskJob once it has passed', () => {
    const done = { ...running(), jobStatus: 'Successful', endTime: '2026-11-26T12:00:10Z' };
    expect(plan(job({ ttlSecondsAfterFinished: 30 }, done), { now: at(20) }).requeueAfterMs).toBe(20_000);
    const p = plan(job({ ttlSecondsAfterFinished: 30 }, done), { now: at(40) });
    expect(kinds(p)).toEqual(['deleteJob']);
    expect(p.events[0]).toMatchObject({ reason: 'TTLExpired' });
  });

  test('a job started by the upstream operator ({job}-runner) is adopted as attempt 1', () => {
    const legacy: Pod = { ...runner(1, 'Succeeded'), metadata: { ...runner(1, 'Succeeded').metadata, name: 'etl-runner' } };
    const p = plan(job({}, { jobStatus: 'Running', clusterName: 'etl', jobRunnerPodName: 'etl-runner', startTime: '2026-11-26T12:00:05Z' }), { cluster: ourCluster(), runners: [legacy] });
    expect(p.status).toMatchObject({ jobStatus: 'Successful', attempts: 1, jobRunnerPodName: 'etl-runner' });
    expect(kinds(p)).toEqual(['deleteCluster']);
  });

  test('a DaskCluster with the job\'s name that the job does not control: condition and Event, nothing touched', () => {
    const foreign = { ...ourCluster(), metadata: { name: 'etl', namespace: NS, uid: 'other' } };
    const p = plan(job(), { cluster: foreign });
    expect(p.actions).toEqual([]);
    expect(cond(p, 'ComponentsHealthy')).toMatchObject({ status: 'False', reason: 'NameTaken' });
    expect(p.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'NameTaken' })]);
  });
});

describe('DaskJob reconciler', () => {
  function world(j: DaskJob): FakeWorld {
    const w = new FakeWorld();
    w.clock = at(10);
    w.stores.daskjobs.put(j as never);
    return w;
  }

  test('a refused final status write (429) deletes nothing; the retry records Successful, then deletes the cluster', async () => {
    const w = world(job({}, running()));
    w.stores.daskclusters.put(ourCluster() as never);
    w.stores.pods.put(runner(1, 'Succeeded') as never);
    const patchStatus = w.api.patchStatus;
    let refused = 0;
    (w.api as { patchStatus: typeof patchStatus }).patchStatus = async (ref, status, rv) => {
      if (refused++ === 0) throw Object.assign(new Error('PATCH daskjobs/etl/status failed with HTTP 429 TooManyRequests'), { statusCode: 429 });
      return patchStatus(ref, status, rv);
    };
    await expect(reconcileJob(w.context(), { namespace: NS, name: 'etl' }, rc)).rejects.toThrow(/429/);
    expect(w.stores.daskclusters.get(NS, 'etl')).toBeDefined();
    await reconcileJob(w.context(), { namespace: NS, name: 'etl' }, rc);
    const j = w.stores.daskjobs.get(NS, 'etl') as unknown as DaskJob;
    expect(j.status?.jobStatus).toBe('Successful');
    expect(j.status?.conditions?.find((c) => c.type === 'Complete')?.status).toBe('True');
    expect(w.stores.daskclusters.get(NS, 'etl')).toBeUndefined();
    expect(w.writes.map((x) => `${x.op} ${x.plural}`)).toEqual(['status daskjobs', 'delete daskclusters']);
  });

  test('a new job creates its cluster and attempt 1 runner with the uid in its name', async () => {
    const w = world(job());
    await reconcileJob(w.context(), { namespace: NS, name: 'etl' }, rc);
    expect(w.writes.map((x) => `${x.op} ${x.plural} ${x.name}`)).toEqual(['status daskjobs etl', 'create daskclusters etl', `create pods ${runnerName(1)}`]);
    expect(w.events.map((e) => e.reason)).toEqual(['ClusterCreated', 'RunnerCreated']);
  });
});
