/**
 * DaskJob on a real node: a runner that connects through the injected DASK_SCHEDULER_ADDRESS and computes ends
 * Successful, one that raises ends Failed, and both jobs' clusters are removed.
 */
import { randomBytes } from 'node:crypto';
import { eventually } from '../integration/support/eventually';
import { kubectl, kubectlJson } from '../integration/support/kube';
import type { Obj } from '../integration/support/dask';
import { installOperator, operatorLog, synthesize } from './support/real-dask';

jest.setTimeout(600_000);

const NS = `job-${randomBytes(3).toString('hex')}`;
const IMAGE = 'ghcr.io/dask/dask:2026.8.0';

function job(name: string, code: string): object {
  const worker = { containers: [{ name: 'worker', image: IMAGE, args: ['dask', 'worker', '--name', '$(DASK_WORKER_NAME)', '--nthreads', '1'] }] };
  return {
    apiVersion: 'kubernetes.dask.org/v1',
    kind: 'DaskJob',
    metadata: { name, namespace: NS },
    spec: {
      job: { spec: { restartPolicy: 'Never', containers: [{ name: 'job', image: IMAGE, args: ['python', '-c', code] }] } },
      cluster: {
        spec: {
          worker: { replicas: 1, spec: worker },
          scheduler: {
            spec: {
              containers: [{
                name: 'scheduler', image: IMAGE, args: ['dask', 'scheduler', '--host', '0.0.0.0'],
                ports: [{ name: 'tcp-comm', containerPort: 8786 }, { name: 'http-dashboard', containerPort: 8787 }],
                readinessProbe: { httpGet: { path: '/health', port: 'http-dashboard' }, initialDelaySeconds: 2, periodSeconds: 2, timeoutSeconds: 5 },
              }],
            },
            service: { selector: { 'dask.org/cluster-name': name, 'dask.org/component': 'scheduler' }, ports: [{ name: 'tcp-comm', port: 8786, targetPort: 'tcp-comm' }, { name: 'http-dashboard', port: 8787, targetPort: 'http-dashboard' }] },
          },
        },
      },
    },
  };
}

const status = async (name: string): Promise<Record<string, string> | undefined> =>
  (await kubectlJson<Obj>(['get', 'daskjob', name, '-n', NS, '-o', 'json'])).status;

beforeAll(async () => {
  const synth = synthesize();
  await installOperator(synth.operator);
  await kubectl(['create', 'namespace', NS]);
});
afterAll(async () => {
  await kubectl(['delete', 'namespace', NS, '--wait=false'], { allowFailure: true });
});

test.each([
  ['ok', 'from distributed import Client\nc = Client(timeout=60)\nassert c.submit(lambda x: x * 2, 21).result() == 42\nprint("computed")', 'Successful'],
  ['fails', 'from distributed import Client\nc = Client(timeout=60)\nc.submit(lambda: 1).result()\nraise SystemExit("the job failed on purpose")', 'Failed'],
])('runner %s: ends %s and its cluster is removed', async (name, code, expected) => {
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(job(name, code)) });
  try {
    const s = await eventually(() => status(name), {
      describe: `DaskJob ${name} to finish`,
      until: (v) => v?.jobStatus === 'Successful' || v?.jobStatus === 'Failed',
      timeoutMs: 240_000,
      intervalMs: 1000,
    });
    expect(s?.jobStatus).toBe(expected);
    await eventually(() => kubectl(['get', 'daskcluster', name, '-n', NS, '--ignore-not-found', '-o', 'name']), {
      describe: `the DaskCluster of job ${name} to be deleted`,
      until: (r) => r.stdout.trim() === '',
      timeoutMs: 60_000,
    });
    await eventually(() => kubectl(['get', 'pods', '-n', NS, '-l', `dask.org/cluster-name=${name},dask.org/component in (scheduler,worker)`, '-o', 'name']), {
      describe: `the scheduler and worker Pods of job ${name} to be gone`,
      until: (r) => r.stdout.trim() === '',
      timeoutMs: 90_000,
    });
    expect(s?.jobRunnerPodName).toMatch(new RegExp(`^${name}-runner-[0-9a-f]{5}-1$`));
    const logs = await kubectl(['logs', '-n', NS, s?.jobRunnerPodName as string], { allowFailure: true });
    if (expected === 'Successful') expect(logs.stdout).toContain('computed');
    else expect(logs.stdout + logs.stderr).toContain('the job failed on purpose');
  } catch (err) {
    (err as Error).message += `\n--- operator log ---\n${await operatorLog()}`;
    throw err;
  }
});
