/**
 * DaskAutoscaler under real load: slow tasks raise the scheduler's adaptive target and the operator adds workers; once
 * the work is done the target falls and the extra workers are retired gracefully, down to the minimum.
 */
import { randomBytes } from 'node:crypto';
import { eventually } from '../integration/support/eventually';
import { kubectl, kubectlJson } from '../integration/support/kube';
import type { Obj } from '../integration/support/dask';
import { installOperator, liveWorkerPods, operatorLog, SchedulerSession, synthesize, waitForRegisteredWorkers } from './support/real-dask';
import { clusterManifest } from './support/manifests';

jest.setTimeout(600_000);

const NS = `adapt-${randomBytes(3).toString('hex')}`;
const CLUSTER = 'adaptive';
const GROUP = `${CLUSTER}-default`;

beforeAll(async () => {
  await installOperator(synthesize().operator);
  await kubectl(['create', 'namespace', NS]);
});
afterAll(async () => {
  await kubectl(['delete', 'namespace', NS, '--wait=false'], { allowFailure: true });
});

test('slow tasks scale 1 -> 3 workers; idle, they are retired gracefully back to 1', async () => {
  try {
    await kubectl(['apply', '-n', NS, '-f', '-'], { input: JSON.stringify(clusterManifest(CLUSTER, 1)) });
    await kubectl(['apply', '-n', NS, '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskAutoscaler', metadata: { name: CLUSTER }, spec: { cluster: CLUSTER, minimum: 1, maximum: 3 } }),
    });
    await waitForRegisteredWorkers(NS, CLUSTER, GROUP, 1);
    // 40 tasks of 3 s on one-thread workers: far more work than the adaptive target's 5 s per worker.
    const session = new SchedulerSession(NS, CLUSTER, [
      'import json, sys, time',
      'from distributed import Client',
      'c = Client("tcp://127.0.0.1:8786", timeout=20)',
      'def slow(i):',
      '    time.sleep(3)',
      '    return i',
      'futures = c.map(slow, range(40), pure=False)',
      'print("SUBMITTED " + json.dumps(len(futures)))',
      'print("DONE " + json.dumps(sum(c.gather(futures))))',
      'sys.stdin.readline()',
    ].join('\n'));
    try {
      await session.read('SUBMITTED');
      const peak = await eventually(() => liveWorkerPods(NS, GROUP), { describe: 'the autoscaler to add workers', until: (p) => p.length >= 3, timeoutMs: 120_000, intervalMs: 1000 });
      expect(peak.length).toBe(3);
      await waitForRegisteredWorkers(NS, CLUSTER, GROUP, 3);
      expect(await session.read<number>('DONE', 240_000)).toBe(780);
    } finally {
      session.send('bye');
      await session.close();
    }
    await waitForRegisteredWorkers(NS, CLUSTER, GROUP, 1, 240_000);
    const group = await kubectlJson<Obj>(['get', 'daskworkergroup', GROUP, '-n', NS, '-o', 'json']);
    expect(group.status.conditions.find((c: { type: string }) => c.type === 'ScaledDownGracefully')).toMatchObject({ status: 'True', reason: 'Retired' });
    const scaler = await kubectlJson<Obj>(['get', 'daskautoscaler', CLUSTER, '-n', NS, '-o', 'json']);
    expect(scaler.status.desiredWorkers).toBe(1);
  } catch (err) {
    (err as Error).message += `\n--- operator log ---\n${await operatorLog()}`;
    throw err;
  }
});
