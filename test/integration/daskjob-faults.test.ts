/**
 * Terminal DaskJob handling is idempotent under API errors (dask/dask-kubernetes#975: upstream deletes the cluster,
 * then a single 429 on the status write that follows leaves the job Running forever). The operator talks to the API
 * server through a fault-injecting proxy that refuses, once each, the status write that records Successful and the
 * deletion of the job's cluster, with 429 TooManyRequests; the job still ends Successful and Complete, cluster gone.
 */
import { App, Chart } from 'cdk8s';
import { DaskJob } from '../../lib/index';
import { eventually, kubectl, withNamespace } from './support';
import { condition, getObj, type Obj } from './support/dask';
import { FaultProxy } from './support/fault-proxy';
import { ensureOperatorBuilt, OperatorProcess } from './support/operator';

jest.setTimeout(180_000);
const ns = withNamespace('jobfaults');
let proxy: FaultProxy;
let op: OperatorProcess;

beforeAll(async () => {
  await ensureOperatorBuilt();
  const base = `/apis/kubernetes.dask.org/v1/namespaces/${ns.name}`;
  proxy = new FaultProxy([
    { method: 'PATCH', path: new RegExp(`^${base}/daskjobs/final/status$`), body: /"Successful"/, times: 1 },
    { method: 'DELETE', path: new RegExp(`^${base}/daskclusters/final$`), times: 1 },
  ]);
  await proxy.start();
  op = new OperatorProcess({ namespaces: [ns.name], kubeconfig: proxy.kubeconfig });
  op.start();
});

afterAll(async () => {
  const failed = Boolean((expect.getState() as { numFailingTests?: number }).numFailingTests);
  await op?.dispose(failed);
  await proxy?.stop();
});

test('a 429 on the final status write and on the cluster deletion: the job still ends Successful/Complete and its cluster goes', async () => {
  const app = new App();
  new DaskJob(new Chart(app, 'j', { namespace: ns.name }), 'final', { runner: { args: ['true'], metadata: { annotations: { 'fake.cdk8s-dask.io/run-for': '2s' } } }, cluster: { workers: 1 } });
  await kubectl(['apply', '-f', '-'], { input: app.synthYaml() });
  const done = await eventually(async () => {
    if (!op.running) throw new Error(`the operator exited:\n${op.tail(40)}`);
    const j = await getObj<Obj>(ns.name, 'daskjob', 'final');
    expect(j?.status?.jobStatus).toBe('Successful');
    expect(condition(j, 'Complete')).toMatchObject({ status: 'True', reason: 'RunnerSucceeded' });
    expect(await getObj(ns.name, 'daskcluster', 'final')).toBeUndefined();
    return j;
  }, { timeoutMs: 90_000, describe: 'DaskJob final Successful, Complete, its cluster deleted' }).catch((e: Error) => {
    e.message += `\n--- operator log tail ---\n${op.tail(40)}`;
    throw e;
  });
  expect(done?.status?.endTime).toMatch(/Z$/);
  expect(proxy.injected.map((f) => `${f.method} ${f.status} ${f.path.split('/').slice(-2).join('/')}`)).toEqual([
    'PATCH 429 final/status',
    'DELETE 429 daskclusters/final',
  ]);
});
