/** The TypeScript KubeCluster client against the real API server with the operator running. */
import { Duration, Size } from 'cdk8s';
import { KubeCluster, KubeClusterError, KubeJob, RestartPolicy } from '../../client';
import { eventually, kubeConfig, kubectlJson, withNamespace } from './support';
import { withOperator } from './support/dask';

jest.setTimeout(180_000);
const ns = withNamespace('client');
const other = withNamespace('client-no-operator');
const operator = withOperator(ns);

const workerPods = async (cluster: string): Promise<string[]> =>
  (await kubectlJson<{ items: { metadata: { name: string } }[] }>(['get', 'pods', '-n', ns.name, '-l', `dask.org/cluster-name=${cluster},dask.org/component=worker`, '-o', 'json'])).items.map((p) => p.metadata.name);

operator.it('create, scale, adapt, worker groups, logs, fromName, close', async () => {
  const cluster = await KubeCluster.create({ name: 'ts-client', namespace: ns.name, workers: 2, env: { FOO: 'bar' }, kubeConfig: kubeConfig() });
  expect(await cluster.schedulerAddress()).toBe(`tcp://ts-client-scheduler.${ns.name}.svc.cluster.local:8786`);
  await eventually(async () => expect(await workerPods('ts-client')).toHaveLength(2), { timeoutMs: 30_000, describe: '2 workers' });

  await cluster.adapt({ minimum: 1, maximum: 5 });
  const scaler = await kubectlJson<{ spec: unknown }>(['get', 'daskautoscaler', 'ts-client', '-n', ns.name, '-o', 'json']);
  expect(scaler.spec).toEqual({ cluster: 'ts-client', minimum: 1, maximum: 5 });

  await cluster.scale(4); // also turns adaptivity off
  await eventually(async () => expect(await workerPods('ts-client')).toHaveLength(4), { timeoutMs: 30_000, describe: '4 workers' });
  const scalers = await kubectlJson<{ items: unknown[] }>(['get', 'daskautoscalers', '-n', ns.name, '-o', 'json']);
  expect(scalers.items).toHaveLength(0);

  await cluster.addWorkerGroup('highmem', { workers: 1, resources: { memory: { request: Size.gibibytes(1) } } });
  await eventually(async () => expect((await workerPods('ts-client')).filter((n) => n.startsWith('ts-client-highmem-worker-'))).toHaveLength(1), { timeoutMs: 30_000, describe: 'highmem worker' });
  await cluster.deleteWorkerGroup('highmem');
  await eventually(async () => expect((await workerPods('ts-client')).filter((n) => n.startsWith('ts-client-highmem-'))).toHaveLength(0), { timeoutMs: 30_000, describe: 'highmem gone' });

  const logs = await cluster.getLogs();
  expect(Object.keys(logs)).toContain('ts-client-scheduler');

  const again = await KubeCluster.fromName('ts-client', { namespace: ns.name, kubeConfig: kubeConfig() });
  await again.close(); // fromName: does not delete
  expect((await again.status())?.phase).toBe('Running');

  await cluster.close();
  await expect(kubectlJson(['get', 'daskcluster', 'ts-client', '-n', ns.name, '-o', 'json'], { allowFailure: true })).rejects.toThrow();
});

operator.it('bad input is refused before anything is sent', async () => {
  await expect(KubeCluster.create({ name: 'Bad_Name', namespace: ns.name, kubeConfig: kubeConfig() })).rejects.toThrow(/invalid cluster name: "Bad_Name" is not an RFC 1123 label/);
  await expect(KubeCluster.create({ name: 'ok', namespace: ns.name, workers: -1, kubeConfig: kubeConfig() })).rejects.toThrow(/workers: worker count must be a whole number >= 0, got -1/);
  await expect(KubeCluster.fromName('nope', { namespace: ns.name, kubeConfig: kubeConfig() })).rejects.toThrow(KubeClusterError);
});

operator.it('without an operator, create() times out with a hint and removes what it created', async () => {
  await expect(KubeCluster.create({ name: 'orphan', namespace: other.name, resourceTimeout: Duration.seconds(2), kubeConfig: kubeConfig() })).rejects.toThrow(/did not become ready within 2000 ms \(no status yet\); is the Dask Operator running\?/);
  const left = await kubectlJson<{ items: unknown[] }>(['get', 'daskclusters', '-n', other.name, '-o', 'json']);
  expect(left.items).toHaveLength(0);
});

operator.it('KubeJob: submit suspended, resume, wait for the result, find the current runner, delete', async () => {
  const job = await KubeJob.submit({
    name: 'ts-job', namespace: ns.name, cluster: { workers: 1 }, suspend: true, backoffLimit: 1,
    runner: { args: ['python', '-c', 'print(1)'], restartPolicy: RestartPolicy.NEVER, metadata: { annotations: { 'fake.cdk8s-dask.io/run-for': '1s' } } },
    kubeConfig: kubeConfig(),
  });
  await eventually(async () => expect((await job.status())?.conditions?.find((c) => c.type === 'Suspended')?.status).toBe('True'), { timeoutMs: 30_000, describe: 'suspended' });
  await job.resume();
  const result = await job.wait(Duration.seconds(60), Duration.millis(250));
  expect(result).toMatchObject({ succeeded: true, reason: 'RunnerSucceeded', status: { jobStatus: 'Successful', attempts: 1 } });
  const again = await KubeJob.fromName('ts-job', { namespace: ns.name, kubeConfig: kubeConfig() });
  expect((await again.status())?.jobRunnerPodName).toMatch(/^ts-job-runner-[0-9a-f]{5}-1$/);
  await job.delete();
  await expect(job.wait(Duration.seconds(10), Duration.millis(250))).rejects.toThrow(/was deleted before it finished|did not finish/);
  await expect(KubeJob.submit({ name: 'bad', namespace: ns.name, runner: { args: ['true'] }, backoffLimit: -1, kubeConfig: kubeConfig() })).rejects.toThrow(/backoffLimit must be a whole number >= 0/);
});
