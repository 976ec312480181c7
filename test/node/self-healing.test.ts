/**
 * Self-healing with real processes: a worker whose process is killed restarts and re-registers; a deleted worker Pod
 * is replaced by one that registers under its new name; a deleted scheduler Pod is recreated and the workers reconnect.
 */
import { randomBytes } from 'node:crypto';
import { eventually } from '../integration/support/eventually';
import { kubectl, kubectlJson } from '../integration/support/kube';
import type { PodObj } from '../integration/support/dask';
import { installOperator, liveWorkerPods, operatorLog, registeredWorkers, synthesize, waitForRegisteredWorkers } from './support/real-dask';
import { clusterManifest } from './support/manifests';

jest.setTimeout(600_000);

const NS = `heal-${randomBytes(3).toString('hex')}`;
const CLUSTER = 'healing';
const GROUP = `${CLUSTER}-default`;

beforeAll(async () => {
  await installOperator(synthesize().operator);
  await kubectl(['create', 'namespace', NS]);
  await kubectl(['apply', '-n', NS, '-f', '-'], { input: JSON.stringify(clusterManifest(CLUSTER, 2)) });
}, 300_000);
afterAll(async () => {
  await kubectl(['delete', 'namespace', NS, '--wait=false'], { allowFailure: true });
});

async function logged(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    (err as Error).message += `\n--- operator log ---\n${await operatorLog()}`;
    throw err;
  }
}

type PodWithStatus = PodObj & { status: { containerStatuses?: { restartCount: number }[] } };

test('a worker whose process is killed is restarted and re-registers under the same name', () => logged(async () => {
  const [victim] = await waitForRegisteredWorkers(NS, CLUSTER, GROUP, 2);
  const before = await kubectlJson<PodWithStatus>(['get', 'pod', victim, '-n', NS, '-o', 'json']);
  // PID 1 is tini; SIGKILL to every other process in the container kills the worker (and its nanny) abruptly.
  await kubectl(['exec', '-n', NS, victim, '-c', 'worker', '--', 'sh', '-c', 'kill -9 -1'], { allowFailure: true });
  await eventually(() => kubectlJson<PodWithStatus>(['get', 'pod', victim, '-n', NS, '-o', 'json']), {
    describe: `${victim} to be restarted by the kubelet`,
    until: (p) => (p.status.containerStatuses?.[0]?.restartCount ?? 0) > (before.status.containerStatuses?.[0]?.restartCount ?? 0),
    timeoutMs: 120_000,
    intervalMs: 1000,
  });
  const names = await waitForRegisteredWorkers(NS, CLUSTER, GROUP, 2);
  expect(names).toContain(victim);
}));

test('a deleted worker Pod is replaced, and the new Pod registers under its own name', () => logged(async () => {
  const [victim, survivor] = await waitForRegisteredWorkers(NS, CLUSTER, GROUP, 2);
  await kubectl(['delete', 'pod', victim, '-n', NS, '--wait=false']);
  const names = await waitForRegisteredWorkers(NS, CLUSTER, GROUP, 2);
  expect(names).not.toContain(victim);
  expect(names).toContain(survivor);
}));

test('a deleted scheduler Pod is recreated and the workers reconnect to it', () => logged(async () => {
  await waitForRegisteredWorkers(NS, CLUSTER, GROUP, 2);
  const old = await kubectlJson<PodObj>(['get', 'pod', `${CLUSTER}-scheduler`, '-n', NS, '-o', 'json']);
  await kubectl(['delete', 'pod', `${CLUSTER}-scheduler`, '-n', NS, '--wait=true', '--timeout=60s'], { timeoutMs: 70_000 });
  await eventually(() => kubectlJson<PodObj>(['get', 'pod', `${CLUSTER}-scheduler`, '-n', NS, '-o', 'json']), {
    describe: 'a new scheduler Pod, Ready',
    until: (p) => p.metadata.uid !== old.metadata.uid && Boolean(p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')),
    timeoutMs: 120_000,
    intervalMs: 1000,
  });
  await eventually(async () => ({ pods: (await liveWorkerPods(NS, GROUP)).length, registered: await registeredWorkers(NS, CLUSTER) }), {
    describe: 'both workers registered with the new scheduler',
    until: (v) => v.registered.length === 2,
    timeoutMs: 180_000,
    intervalMs: 2000,
  });
  await waitForRegisteredWorkers(NS, CLUSTER, GROUP, 2);
}));
