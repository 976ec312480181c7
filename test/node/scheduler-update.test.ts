/**
 * spec.scheduler.updateStrategy Recreate with real processes: changing the scheduler template replaces the scheduler
 * Pod (Warning Event SchedulerRecreated), the new scheduler runs the new template, and the running workers reconnect
 * to it under their own names, without being replaced.
 */
import { randomBytes } from 'node:crypto';
import { eventually } from '../integration/support/eventually';
import { kubectl, kubectlJson } from '../integration/support/kube';
import type { EventObj, PodObj } from '../integration/support/dask';
import { installOperator, liveWorkerPods, operatorLog, pythonInScheduler, synthesize, waitForRegisteredWorkers } from './support/real-dask';
import { clusterManifest } from './support/manifests';

jest.setTimeout(600_000);

const NS = `schedup-${randomBytes(3).toString('hex')}`;
const CLUSTER = 'recreated';
const GROUP = `${CLUSTER}-default`;

beforeAll(async () => {
  await installOperator(synthesize().operator);
  await kubectl(['create', 'namespace', NS]);
  const manifest = clusterManifest(CLUSTER, 2);
  manifest.spec.scheduler.updateStrategy = 'Recreate';
  await kubectl(['apply', '-n', NS, '-f', '-'], { input: JSON.stringify(manifest) });
}, 300_000);
afterAll(async () => {
  await kubectl(['delete', 'namespace', NS, '--wait=false'], { allowFailure: true });
});

test('a changed scheduler template replaces the scheduler; the same worker Pods reconnect to the new one', async () => {
  try {
    const names = await waitForRegisteredWorkers(NS, CLUSTER, GROUP, 2);
    const workerUids = (await liveWorkerPods(NS, GROUP)).map((p) => p.metadata.uid).sort();
    const old = await kubectlJson<PodObj>(['get', 'pod', `${CLUSTER}-scheduler`, '-n', NS, '-o', 'json']);
    await kubectl(['patch', 'daskcluster', CLUSTER, '-n', NS, '--type=json', '-p',
      JSON.stringify([{ op: 'add', path: '/spec/scheduler/spec/containers/0/env', value: [{ name: 'TEMPLATE_VERSION', value: 'v2' }] }])]);
    await eventually(() => kubectlJson<PodObj>(['get', 'pod', `${CLUSTER}-scheduler`, '-n', NS, '-o', 'json']), {
      describe: 'a new scheduler Pod from the new template, Ready',
      until: (p) => p.metadata.uid !== old.metadata.uid && Boolean(p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')),
      timeoutMs: 180_000,
      intervalMs: 1000,
    });
    expect((await pythonInScheduler(NS, CLUSTER, 'import os; print(os.environ["TEMPLATE_VERSION"])')).trim()).toBe('v2');
    expect(await waitForRegisteredWorkers(NS, CLUSTER, GROUP, 2, 240_000)).toEqual(names);
    expect((await liveWorkerPods(NS, GROUP)).map((p) => p.metadata.uid).sort()).toEqual(workerUids);
    const events = (await kubectlJson<{ items: EventObj[] }>(['get', 'events', '-n', NS, '--field-selector', `involvedObject.name=${CLUSTER}`, '-o', 'json'])).items;
    expect(events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'SchedulerRecreated' }));
  } catch (err) {
    (err as Error).message += `\n--- operator log ---\n${await operatorLog()}`;
    throw err;
  }
});
