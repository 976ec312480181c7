/**
 * The user's whole path on a real node: `npm run synth`'s YAML applied as it is, the operator image built from the
 * Dockerfile running as a Pod with the synthesized ServiceAccount/RBAC and its default in-cluster scheduler access
 * (DNS), then the example cluster: real probes, workers registered with a real scheduler, a computation, a persisted
 * dataset that survives `kubectl scale` down, and new workers joining on scale-up.
 */
import * as fs from 'node:fs';
import { eventually } from '../integration/support/eventually';
import { kubectl, kubectlJson } from '../integration/support/kube';
import type { Obj, PodObj } from '../integration/support/dask';
import { installOperator, liveWorkerPods, operatorLog, pythonInScheduler, SchedulerSession, synthesize, waitForRegisteredWorkers } from './support/real-dask';

jest.setTimeout(600_000);

const NS = 'default';
const CLUSTER = 'my-cluster';
const GROUP = `${CLUSTER}-default`;
let synth: ReturnType<typeof synthesize>;

beforeAll(() => {
  synth = synthesize();
});
afterAll(async () => {
  await kubectl(['delete', '-f', synth.cluster, '--ignore-not-found', '--wait=true', '--timeout=120s'], { allowFailure: true, timeoutMs: 130_000 });
  fs.rmSync(synth.dir, { recursive: true, force: true });
});

/** Appends the operator's log to a failure, so a red run says what the operator saw. */
async function withLog(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    e.message += `\n--- operator log ---\n${await operatorLog()}`;
    throw e;
  }
}

test('the synthesized operator install runs the locally built image as a Pod, with the synthesized ServiceAccount', async () => {
  const podName = await installOperator(synth.operator);
  const pod = await kubectlJson<PodObj & { spec: { serviceAccountName?: string; containers: { image: string; imagePullPolicy?: string }[] } }>(['get', 'pod', '-n', 'dask-operator', podName, '-o', 'json']);
  const deployed = fs.readFileSync(synth.operator, 'utf8');
  // The image is the construct's default name, under which the node tier imported the image built from the Dockerfile.
  expect(deployed).toContain(`image: ${pod.spec.containers[0].image}`);
  expect(pod.spec.containers[0].image).toMatch(/^ghcr\.io\/cdk8s-dask\/dask-operator:/);
  expect(pod.spec.serviceAccountName).toBe('dask-operator');
  const log = await operatorLog(200);
  // Its default scheduler access (auto) resolves to the Services' DNS names inside a Pod.
  expect(log).toMatch(/scheduler access resolved.*"schedulerAccess":"dns"/);
});

test('dist/0001-my-cluster: one scheduler and three workers Ready through their real probes, registered under their Pod names', () => withLog(async () => {
  await kubectl(['apply', '-f', synth.cluster]);
  const registered = await waitForRegisteredWorkers(NS, CLUSTER, GROUP, 3);
  const pods = (await liveWorkerPods(NS, GROUP)).map((p) => p.metadata.name).sort();
  expect(registered).toEqual(pods);
  const cluster = await kubectlJson<Obj>(['get', 'daskcluster', CLUSTER, '-n', NS, '-o', 'json']);
  expect(cluster.status.phase).toBe('Running');
  await eventually(async () => (await kubectlJson<Obj>(['get', 'daskcluster', CLUSTER, '-n', NS, '-o', 'json'])).status, {
    describe: 'DaskCluster Ready=True with 3 ready replicas',
    until: (s) => s?.readyReplicas === 3 && s?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True'),
    timeoutMs: 60_000,
  });
  const sched = await kubectlJson<PodObj & { status: { containerStatuses?: { ready: boolean; restartCount: number }[] } }>(['get', 'pod', `${CLUSTER}-scheduler`, '-n', NS, '-o', 'json']);
  expect(sched.status.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0 });
}));

test('a computation through the scheduler returns the right answer', () => withLog(async () => {
  const out = await pythonInScheduler(NS, CLUSTER, [
    'import json, dask.array as da',
    'from distributed import Client',
    'c = Client("tcp://127.0.0.1:8786", timeout=20)',
    'total = c.submit(sum, range(1000)).result()',
    'x = da.arange(10_000, chunks=1_000)',
    'print(json.dumps({"sum": total, "array": int(x.sum().compute()), "env": c.submit(lambda: __import__("os").environ.get("FOO")).result()}))',
  ].join('\n'));
  expect(JSON.parse(out.trim().split('\n').pop() as string)).toEqual({ sum: 499500, array: 49995000, env: 'bar' });
}));

test('a persisted dataset survives `kubectl scale` down to one worker (no key lost); new workers join on scale-up', () => withLog(async () => {
  const session = new SchedulerSession(NS, CLUSTER, [
    'import json, sys',
    'import dask.array as da',
    'from distributed import Client, wait',
    'c = Client("tcp://127.0.0.1:8786", timeout=20)',
    'x = da.arange(3_000_000, chunks=100_000).persist()',
    'wait(x)',
    'keys = [str(k) for k in x.__dask_keys__()]',
    'holders = {str(k): v for k, v in c.who_has(x).items()}',
    'print("PERSISTED " + json.dumps({"keys": len(keys), "workers": len({w for v in holders.values() for w in v})}))',
    'sys.stdin.readline()',
    'after = {str(k): v for k, v in c.who_has(x).items()}',
    'lost = [k for k in keys if not after.get(k)]',
    'print("AFTER " + json.dumps({"lost": len(lost), "sum": int(x.sum().compute()), "workers": len(c.scheduler_info()["workers"])}))',
  ].join('\n'));
  try {
    const before = await session.read<{ keys: number; workers: number }>('PERSISTED');
    expect(before.keys).toBe(30);
    expect(before.workers).toBeGreaterThan(1);
    await kubectl(['scale', 'daskcluster', CLUSTER, '-n', NS, '--replicas=1']);
    await waitForRegisteredWorkers(NS, CLUSTER, GROUP, 1);
    const group = await kubectlJson<Obj>(['get', 'daskworkergroup', GROUP, '-n', NS, '-o', 'json']);
    expect(group.status.conditions.find((c: { type: string }) => c.type === 'ScaledDownGracefully')).toMatchObject({ status: 'True', reason: 'Retired' });
    session.send('check');
    const after = await session.read<{ lost: number; sum: number; workers: number }>('AFTER');
    expect(after).toEqual({ lost: 0, sum: 4499998500000, workers: 1 });
  } finally {
    await session.close();
  }
  await kubectl(['scale', 'daskcluster', CLUSTER, '-n', NS, '--replicas=3']);
  const names = await waitForRegisteredWorkers(NS, CLUSTER, GROUP, 3);
  expect(names).toHaveLength(3);
}));
