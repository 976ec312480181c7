/** DaskJob lifecycle on the real control plane: cluster + runner, then Successful (or Failed) and the cluster removed. */
import { App, Chart } from 'cdk8s';
import { DaskJob, RestartPolicy } from '../../lib/index';
import { eventually, kubectl, kubectlJson, withNamespace } from './support';
import { withOperator } from './support/dask';

jest.setTimeout(180_000);
const ns = withNamespace('daskjob');
const operator = withOperator(ns);

interface JobStatus { jobStatus?: string; clusterName?: string; jobRunnerPodName?: string; startTime?: string; endTime?: string }
const jobStatus = async (name: string): Promise<JobStatus> => (await kubectlJson<{ status?: JobStatus }>(['get', 'daskjob', name, '-n', ns.name, '-o', 'json'])).status ?? {};
const exists = async (kind: string, name: string): Promise<boolean> => (await kubectl(['get', kind, name, '-n', ns.name], { allowFailure: true })).code === 0;

async function applyJob(name: string, runner: ConstructorParameters<typeof DaskJob>[2]['runner']): Promise<void> {
  const app = new App();
  new DaskJob(new Chart(app, 'j', { namespace: ns.name }), name, { runner, cluster: { workers: 2 } });
  await kubectl(['apply', '-f', '-'], { input: app.synthYaml() });
}

operator.it('a runner that exits 0: cluster created, job Running then Successful, cluster deleted, runner kept', async () => {
  // kwok completes a restartPolicy OnFailure/Never pod after the run-for annotation (docs/control-plane.md).
  await applyJob('etl', { args: ['python', '-c', 'print(1)'], metadata: { annotations: { 'fake.cdk8s-dask.io/run-for': '3s' } } });
  await eventually(async () => {
    if (!(await exists('daskcluster', 'etl'))) throw new Error('no cluster yet');
    const pod = await kubectlJson<{ spec: { containers: { env?: { name: string; value?: string }[] }[]; restartPolicy: string } }>(['get', 'pod', 'etl-runner', '-n', ns.name, '-o', 'json']);
    expect(pod.spec.restartPolicy).toBe('OnFailure');
    expect(pod.spec.containers[0].env).toContainEqual({ name: 'DASK_SCHEDULER_ADDRESS', value: `tcp://etl-scheduler.${ns.name}.svc.cluster.local:8786` });
  }, { timeoutMs: 30_000, describe: 'DaskCluster etl and runner Pod etl-runner' });
  await eventually(async () => expect((await jobStatus('etl')).jobStatus).toBe('Running'), { timeoutMs: 30_000, describe: 'job Running' });
  const done = await eventually(async () => {
    const s = await jobStatus('etl');
    expect(s.jobStatus).toBe('Successful');
    return s;
  }, { timeoutMs: 60_000, describe: 'job Successful' });
  expect(done).toEqual({ clusterName: 'etl', jobRunnerPodName: 'etl-runner', jobStatus: 'Successful', startTime: expect.stringMatching(/Z$/), endTime: expect.stringMatching(/Z$/) });
  await eventually(async () => expect(await exists('daskcluster', 'etl')).toBe(false), { timeoutMs: 30_000, describe: 'cluster deleted' });
  expect(await exists('pod', 'etl-runner')).toBe(true);
});

operator.it('a runner that fails with restartPolicy Never: job Failed, cluster deleted', async () => {
  await applyJob('broken', { args: ['python', '-c', 'raise SystemExit(1)'], restartPolicy: RestartPolicy.NEVER, metadata: { annotations: { 'fake.cdk8s-dask.io/outcome': 'Failed', 'fake.cdk8s-dask.io/run-for': '1s' } } });
  await eventually(async () => expect((await jobStatus('broken')).jobStatus).toBe('Failed'), { timeoutMs: 60_000, describe: 'job Failed' });
  await eventually(async () => expect(await exists('daskcluster', 'broken')).toBe(false), { timeoutMs: 30_000, describe: 'cluster deleted' });
  const events = await kubectlJson<{ items: { reason: string; type: string }[] }>(['get', 'events', '-n', ns.name, '--field-selector', 'involvedObject.name=broken,involvedObject.kind=DaskJob', '-o', 'json']);
  expect(events.items).toContainEqual(expect.objectContaining({ reason: 'JobFailed', type: 'Warning' }));
});

operator.it('deleting the DaskJob removes its runner and cluster', async () => {
  await applyJob('cancelled', { args: ['sleep', '3600'], metadata: { annotations: { 'fake.cdk8s-dask.io/outcome': 'Running' } } });
  await eventually(async () => expect((await jobStatus('cancelled')).jobStatus).toBe('Running'), { timeoutMs: 30_000, describe: 'job Running' });
  await kubectl(['delete', 'daskjob', 'cancelled', '-n', ns.name]);
  await eventually(async () => {
    expect(await exists('daskcluster', 'cancelled')).toBe(false);
    expect(await exists('pod', 'cancelled-runner')).toBe(false);
  }, { timeoutMs: 60_000, describe: 'runner and cluster garbage-collected' });
});
