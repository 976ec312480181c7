/**
 * DaskJob lifecycle on the real control plane (kwok plays the runner: fake.cdk8s-dask.io/outcome and run-for decide
 * how it ends, docs/control-plane.md): cluster + runner, then Successful (or Failed) and the cluster removed; retries
 * (backoffLimit) as new runner attempts on the same cluster; activeDeadlineSeconds; ttlSecondsAfterFinished; suspend
 * and resume.
 */
import { App, Chart, Duration } from 'cdk8s';
import { DaskJob, RestartPolicy, type DaskJobProps } from '../../lib/index';
import { eventually, kubectl, kubectlJson, withNamespace } from './support';
import { condition, events, getObj, listObjs, withOperator, type Obj, type PodObj } from './support/dask';

jest.setTimeout(180_000);
const ns = withNamespace('daskjob');
const operator = withOperator(ns);

interface JobStatus {
  jobStatus?: string; clusterName?: string; jobRunnerPodName?: string; startTime?: string; endTime?: string;
  attempts?: number; failed?: number; conditions?: { type: string; status: string; reason?: string; message?: string }[];
}
const job = async (name: string): Promise<Obj | undefined> => getObj(ns.name, 'daskjob', name);
const jobStatus = async (name: string): Promise<JobStatus> => ((await job(name))?.status ?? {}) as JobStatus;
const exists = async (kind: string, name: string): Promise<boolean> => (await kubectl(['get', kind, name, '-n', ns.name], { allowFailure: true })).code === 0;
const runners = (name: string): Promise<PodObj[]> => listObjs<PodObj>(ns.name, 'pods', `dask.org/cluster-name=${name},dask.org/component=job-runner`);
const annotate = (pod: string, outcome: string) => kubectl(['annotate', '--overwrite', '-n', ns.name, `pod/${pod}`, `fake.cdk8s-dask.io/outcome=${outcome}`]);
const setSuspend = (name: string, suspend: boolean) => kubectl(['patch', 'daskjob', name, '-n', ns.name, '--type=merge', '-p', JSON.stringify({ spec: { suspend } })]);

async function applyJob(name: string, runner: DaskJobProps['runner'], lifecycle: Pick<DaskJobProps, 'backoffLimit' | 'activeDeadline' | 'ttlAfterFinished' | 'suspend'> = {}): Promise<void> {
  const app = new App();
  new DaskJob(new Chart(app, 'j', { namespace: ns.name }), name, { runner, cluster: { workers: 2 }, ...lifecycle });
  await kubectl(['apply', '-f', '-'], { input: app.synthYaml() });
}

async function waitFor(name: string, jobStatusValue: string, timeoutMs = 60_000): Promise<JobStatus> {
  return eventually(async () => {
    const s = await jobStatus(name);
    expect(s.jobStatus).toBe(jobStatusValue);
    return s;
  }, { timeoutMs, describe: `DaskJob ${name} ${jobStatusValue}` });
}

operator.it('a runner that exits 0: cluster created, job Running then Successful (Complete), cluster deleted, runner kept', async () => {
  await applyJob('etl', { args: ['python', '-c', 'print(1)'], metadata: { annotations: { 'fake.cdk8s-dask.io/run-for': '3s' } } });
  const created = await eventually(async () => {
    const s = await jobStatus('etl');
    expect(s.jobRunnerPodName).toMatch(/^etl-runner-[0-9a-f]{5}-1$/);
    expect(await exists('daskcluster', 'etl')).toBe(true);
    const pod = await kubectlJson<{ spec: { containers: { env?: { name: string; value?: string }[] }[]; restartPolicy: string } }>(['get', 'pod', s.jobRunnerPodName as string, '-n', ns.name, '-o', 'json']);
    expect(pod.spec.restartPolicy).toBe('OnFailure');
    expect(pod.spec.containers[0].env).toContainEqual({ name: 'DASK_SCHEDULER_ADDRESS', value: `tcp://etl-scheduler.${ns.name}.svc.cluster.local:8786` });
    return s;
  }, { timeoutMs: 30_000, describe: 'DaskCluster etl and its runner Pod' });
  await waitFor('etl', 'Running', 30_000);
  const done = await waitFor('etl', 'Successful');
  // The keys upstream clients read, with the upstream values; attempts and conditions come on top.
  expect(done).toMatchObject({ clusterName: 'etl', jobRunnerPodName: created.jobRunnerPodName, jobStatus: 'Successful', startTime: expect.stringMatching(/Z$/), endTime: expect.stringMatching(/Z$/), attempts: 1 });
  expect(done.conditions).toContainEqual(expect.objectContaining({ type: 'Complete', status: 'True', reason: 'RunnerSucceeded' }));
  await eventually(async () => expect(await exists('daskcluster', 'etl')).toBe(false), { timeoutMs: 30_000, describe: 'cluster deleted' });
  expect(await exists('pod', created.jobRunnerPodName as string)).toBe(true);
});

operator.it('a runner that fails with restartPolicy Never and no backoffLimit: job Failed (BackoffLimitExceeded) at once, cluster deleted', async () => {
  await applyJob('broken', { args: ['python', '-c', 'raise SystemExit(1)'], restartPolicy: RestartPolicy.NEVER, metadata: { annotations: { 'fake.cdk8s-dask.io/outcome': 'Failed', 'fake.cdk8s-dask.io/run-for': '1s' } } });
  const s = await waitFor('broken', 'Failed');
  expect(s).toMatchObject({ attempts: 1, failed: 1 });
  expect(s.conditions).toContainEqual(expect.objectContaining({ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }));
  await eventually(async () => expect(await exists('daskcluster', 'broken')).toBe(false), { timeoutMs: 30_000, describe: 'cluster deleted' });
  const evs = await events(ns.name, 'broken');
  expect(evs).toContainEqual(expect.objectContaining({ reason: 'JobFailed', type: 'Warning' }));
});

operator.it('backoffLimit: a failed runner is retried as a new attempt on the same cluster; the second attempt succeeds', async () => {
  await applyJob('retry', { args: ['python', 'etl.py'], restartPolicy: RestartPolicy.NEVER, metadata: { annotations: { 'fake.cdk8s-dask.io/outcome': 'Running' } } }, { backoffLimit: 2 });
  const first = await eventually(async () => {
    const s = await jobStatus('retry');
    expect(s.jobStatus).toBe('Running');
    return s;
  }, { timeoutMs: 30_000, describe: 'attempt 1 running' });
  const clusterUid = (await getObj(ns.name, 'daskcluster', 'retry'))?.metadata.uid;
  await annotate(first.jobRunnerPodName as string, 'Failed');
  const second = await eventually(async () => {
    const s = await jobStatus('retry');
    expect(s).toMatchObject({ attempts: 2, failed: 1, jobStatus: 'Running' });
    const pod = await getObj<PodObj>(ns.name, 'pod', s.jobRunnerPodName as string);
    expect(pod?.status?.phase).toBe('Running');
    return s;
  }, { timeoutMs: 30_000, describe: 'attempt 2 running after attempt 1 failed' });
  expect(second.jobRunnerPodName).toMatch(/^retry-runner-[0-9a-f]{5}-2$/);
  expect((await getObj(ns.name, 'daskcluster', 'retry'))?.metadata.uid).toBe(clusterUid);
  await annotate(second.jobRunnerPodName as string, 'Succeeded');
  const done = await waitFor('retry', 'Successful');
  expect(done).toMatchObject({ attempts: 2, failed: 1 });
  const pods = await runners('retry');
  expect(pods.map((p) => [p.metadata.name, p.status?.phase]).sort()).toEqual([[first.jobRunnerPodName, 'Failed'], [second.jobRunnerPodName, 'Succeeded']]);
  expect(await events(ns.name, 'retry')).toContainEqual(expect.objectContaining({ reason: 'RunnerFailed', type: 'Warning' }));
});

operator.it('activeDeadlineSeconds: a runner still running when the deadline passes is deleted with the cluster; Failed DeadlineExceeded', async () => {
  await applyJob('slow', { args: ['sleep', '3600'], metadata: { annotations: { 'fake.cdk8s-dask.io/outcome': 'Running' } } }, { activeDeadline: Duration.seconds(6) });
  await waitFor('slow', 'Running', 30_000);
  const s = await waitFor('slow', 'Failed', 30_000);
  expect(s.conditions).toContainEqual(expect.objectContaining({ type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }));
  await eventually(async () => {
    expect(await exists('daskcluster', 'slow')).toBe(false);
    expect(await runners('slow')).toEqual([]);
  }, { timeoutMs: 30_000, describe: 'runner and cluster deleted' });
});

operator.it('ttlSecondsAfterFinished: the DaskJob itself is deleted once it finished that long ago', async () => {
  await applyJob('shortlived', { args: ['true'], metadata: { annotations: { 'fake.cdk8s-dask.io/run-for': '1s' } } }, { ttlAfterFinished: Duration.seconds(3) });
  await waitFor('shortlived', 'Successful');
  await eventually(async () => expect(await job('shortlived')).toBeUndefined(), { timeoutMs: 30_000, describe: 'DaskJob shortlived deleted' });
  await eventually(async () => expect(await runners('shortlived')).toEqual([]), { timeoutMs: 30_000, describe: 'its runner garbage-collected' });
});

operator.it('suspend: created suspended it creates nothing; resumed it runs; suspended again its Pods go; resumed again a new cluster and attempt', async () => {
  await applyJob('paused', { args: ['sleep', '3600'], metadata: { annotations: { 'fake.cdk8s-dask.io/outcome': 'Running' } } }, { suspend: true });
  const held = await eventually(async () => {
    const j = await job('paused');
    expect(condition(j, 'Suspended')).toMatchObject({ status: 'True', reason: 'JobSuspended', message: 'the job holds no Pods' });
    return j;
  }, { timeoutMs: 30_000, describe: 'Suspended=True' });
  expect(held?.status?.jobStatus).toBe('JobCreated');
  expect(await exists('daskcluster', 'paused')).toBe(false);
  expect(await listObjs(ns.name, 'pods', 'dask.org/cluster-name=paused')).toEqual([]);

  await setSuspend('paused', false);
  const first = await waitFor('paused', 'Running', 30_000);
  expect(first.attempts).toBe(1);
  const firstCluster = (await getObj(ns.name, 'daskcluster', 'paused'))?.metadata.uid;
  await eventually(async () => expect((await listObjs<PodObj>(ns.name, 'pods', 'dask.org/cluster-name=paused')).length).toBe(4), { timeoutMs: 30_000, describe: 'scheduler, 2 workers and the runner' });

  await setSuspend('paused', true);
  await eventually(async () => {
    const j = await job('paused');
    expect(condition(j, 'Suspended')).toMatchObject({ status: 'True', message: 'the job holds no Pods' });
    expect(await listObjs(ns.name, 'pods', 'dask.org/cluster-name=paused')).toEqual([]);
    expect(await exists('daskcluster', 'paused')).toBe(false);
  }, { timeoutMs: 60_000, describe: 'every Pod of the suspended job gone' });
  const suspended = await events(ns.name, 'paused');
  expect(suspended).toContainEqual(expect.objectContaining({ reason: 'Suspended', message: expect.stringContaining(`deleted runner Pod ${first.jobRunnerPodName} and DaskCluster paused`) }));

  await setSuspend('paused', false);
  const second = await eventually(async () => {
    const s = await jobStatus('paused');
    expect(s).toMatchObject({ jobStatus: 'Running', attempts: 2 });
    return s;
  }, { timeoutMs: 30_000, describe: 'resumed: attempt 2 running' });
  expect(second.jobRunnerPodName).not.toBe(first.jobRunnerPodName);
  expect((await getObj(ns.name, 'daskcluster', 'paused'))?.metadata.uid).not.toBe(firstCluster);
  expect(condition(await job('paused'), 'Suspended')).toMatchObject({ status: 'False', reason: 'JobResumed' });
});

operator.it('deleting the DaskJob removes its runner and cluster', async () => {
  await applyJob('cancelled', { args: ['sleep', '3600'], metadata: { annotations: { 'fake.cdk8s-dask.io/outcome': 'Running' } } });
  await waitFor('cancelled', 'Running', 30_000);
  await kubectl(['delete', 'daskjob', 'cancelled', '-n', ns.name]);
  await eventually(async () => {
    expect(await exists('daskcluster', 'cancelled')).toBe(false);
    expect(await runners('cancelled')).toEqual([]);
  }, { timeoutMs: 60_000, describe: 'runner and cluster garbage-collected' });
});

operator.it('a DaskJob deleted and re-created at once gets a runner of its own (dask/dask-kubernetes#829)', async () => {
  await applyJob('again', { args: ['sleep', '3600'], metadata: { annotations: { 'fake.cdk8s-dask.io/outcome': 'Running' } } });
  const before = await waitFor('again', 'Running', 30_000);
  await kubectl(['delete', 'daskjob', 'again', '-n', ns.name, '--wait=false']);
  await eventually(async () => expect(await job('again')).toBeUndefined(), { timeoutMs: 30_000, describe: 'old DaskJob gone' });
  await applyJob('again', { args: ['sleep', '3600'], metadata: { annotations: { 'fake.cdk8s-dask.io/outcome': 'Running' } } });
  const after = await waitFor('again', 'Running', 60_000);
  expect(after.jobRunnerPodName).not.toBe(before.jobRunnerPodName);
});
