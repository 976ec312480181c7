/**
 * Autoscaling and idle shutdown end to end with a real Dask scheduler on loopback (kwok pods run no processes; the
 * operator reaches the scheduler through the DASK_OPERATOR_SCHEDULER_ADDRESS_OVERRIDE test hook):
 * - a DaskAutoscaler follows the scheduler's adaptive target within [minimum, maximum] when work is queued, and
 *   steps back down (at most 25% per step, with the 15 s cooldown) once the work is gone;
 * - a DaskCluster with spec.idleTimeout is deleted once its scheduler has been idle that long;
 * - with idleAction ScaleToZero its worker groups go to 0 instead, the scheduler stays, and work arriving scales them
 *   back up: through the DaskAutoscaler for the default group, else to the replicas they had.
 */
import { App, Chart, Duration } from 'cdk8s';
import { DaskCluster, DaskIdleAction } from '../../lib/index';
import { ADDRESS_OVERRIDE_ENV } from '../../operator/scheduler';
import { DaskProcesses, type SchedulerProc } from '../dask/support/dask-procs';
import { eventually, kubectl, kubectlJson, withNamespace } from './support';
import { ensureOperatorBuilt, OperatorProcess } from './support/operator';

jest.setTimeout(240_000);
const ns = withNamespace('autoscale');
let procs: DaskProcesses;
let busy: SchedulerProc;
let idle: SchedulerProc;
let napper: SchedulerProc;
let dozer: SchedulerProc;
let op: OperatorProcess;

beforeAll(async () => {
  await ensureOperatorBuilt();
  procs = new DaskProcesses('autoscale');
  busy = await procs.startScheduler({ api: true });
  idle = await procs.startScheduler({ api: false }); // TCP fallback for check_idle
  napper = await procs.startScheduler({ api: true }); // ScaleToZero under an autoscaler; no workers ever join
  dozer = await procs.startScheduler({ api: true }); // ScaleToZero without an autoscaler
  procs.startWorker('real-worker-0', busy);
  op = new OperatorProcess({ namespaces: [ns.name], args: ['--scheduler-access=none'] });
  const before = process.env[ADDRESS_OVERRIDE_ENV];
  process.env[ADDRESS_OVERRIDE_ENV] = [
    `${ns.name}/elastic=${busy.httpBaseUrl},${busy.tcpAddress}`,
    `${ns.name}/sleepy=${idle.httpBaseUrl},${idle.tcpAddress}`,
    `${ns.name}/napper=${napper.httpBaseUrl},${napper.tcpAddress}`,
    `${ns.name}/dozer=${dozer.httpBaseUrl},${dozer.tcpAddress}`,
  ].join(';');
  try {
    op.start();
  } finally {
    if (before === undefined) delete process.env[ADDRESS_OVERRIDE_ENV];
    else process.env[ADDRESS_OVERRIDE_ENV] = before;
  }
});

afterAll(async () => {
  const failed = Boolean((expect.getState() as { numFailingTests?: number }).numFailingTests);
  await op?.dispose(failed);
  if (failed) process.stderr.write(`--- scheduler log ---\n${procs?.logTail('scheduler')}\n`);
  await procs?.stopAll();
});

const groupReplicas = async (cluster: string): Promise<number> =>
  (await kubectlJson<{ spec: { worker: { replicas: number } } }>(['get', 'daskworkergroup', `${cluster}-default`, '-n', ns.name, '-o', 'json'])).spec.worker.replicas;

test('the autoscaler follows the adaptive target up to maximum, then steps down when the work is gone', async () => {
  const app = new App();
  new DaskCluster(new Chart(app, 'c', { namespace: ns.name }), 'elastic', { workers: 1 }).adapt({ minimum: 1, maximum: 6 });
  await kubectl(['apply', '-f', '-'], { input: app.synthYaml() });
  await eventually(async () => expect(await groupReplicas('elastic')).toBe(1), { timeoutMs: 30_000, describe: 'default group with 1 worker' });

  const load = await procs.daskctlBackground(['submit', busy.tcpAddress, '120', '1']);
  let peak = 0;
  try {
    peak = await eventually(async () => {
      const n = await groupReplicas('elastic');
      expect(n).toBe(6); // the adaptive target for 120 one-second tasks is far above 6: clamped to maximum
      return n;
    }, { timeoutMs: 60_000, describe: 'group scaled to maximum (6)' });
    const scaler = await kubectlJson<{ status?: { desiredWorkers?: number; conditions?: { type: string; status: string }[] } }>(['get', 'daskautoscaler', 'elastic', '-n', ns.name, '-o', 'json']);
    expect(scaler.status?.desiredWorkers).toBe(6);
    expect(scaler.status?.conditions?.find((c) => c.type === 'ScalingActive')?.status).toBe('True');
    await eventually(async () => {
      const pods = await kubectlJson<{ items: unknown[] }>(['get', 'pods', '-n', ns.name, '-l', 'dask.org/workergroup-name=elastic-default', '-o', 'json']);
      expect(pods.items).toHaveLength(6);
    }, { timeoutMs: 30_000, describe: '6 worker Pods' });
  } finally {
    await load.stop();
  }
  // Work gone: the target falls, and the group shrinks by at most 25% (>= 1) per step.
  const after = await eventually(async () => {
    const n = await groupReplicas('elastic');
    expect(n).toBeLessThan(peak);
    return n;
  }, { timeoutMs: 90_000, describe: 'group scaled down after the load stopped' });
  expect(after).toBeGreaterThanOrEqual(peak - Math.max(1, Math.floor(peak * 0.25)));
  const events = await kubectlJson<{ items: { reason: string }[] }>(['get', 'events', '-n', ns.name, '--field-selector', 'involvedObject.kind=DaskAutoscaler,involvedObject.name=elastic', '-o', 'json']);
  expect(events.items.map((e) => e.reason)).toContain('Scaled');
});

test('a cluster whose scheduler stays idle longer than idleTimeout is deleted, children and all', async () => {
  const app = new App();
  new DaskCluster(new Chart(app, 'c', { namespace: ns.name }), 'sleepy', { workers: 1, idleTimeout: Duration.seconds(3) });
  await kubectl(['apply', '-f', '-'], { input: app.synthYaml() });
  await eventually(async () => {
    const r = await kubectl(['get', 'daskcluster', 'sleepy', '-n', ns.name], { allowFailure: true });
    expect(r.code).not.toBe(0);
  }, { timeoutMs: 60_000, describe: 'DaskCluster sleepy deleted for idleness' });
  const events = await kubectlJson<{ items: { reason: string; message: string }[] }>(['get', 'events', '-n', ns.name, '--field-selector', 'involvedObject.kind=DaskCluster,involvedObject.name=sleepy', '-o', 'json']);
  expect(events.items).toContainEqual(expect.objectContaining({ reason: 'IdleTimeout', message: expect.stringContaining('longer than idleTimeout 3s') }));
  // The busy cluster, which has no idleTimeout, is still there.
  expect((await kubectl(['get', 'daskcluster', 'elastic', '-n', ns.name], { allowFailure: true })).code).toBe(0);
  await eventually(async () => {
    const pods = await kubectlJson<{ items: unknown[] }>(['get', 'pods', '-n', ns.name, '-l', 'dask.org/cluster-name=sleepy', '-o', 'json']);
    expect(pods.items).toHaveLength(0);
  }, { timeoutMs: 60_000, describe: 'children garbage-collected' });
});

const idleCondition = async (cluster: string): Promise<{ status: string; reason: string } | undefined> =>
  (await kubectlJson<{ status?: { conditions?: { type: string; status: string; reason: string }[] } }>(['get', 'daskcluster', cluster, '-n', ns.name, '-o', 'json'])).status?.conditions?.find((c) => c.type === 'Idle');

test('idleAction ScaleToZero under an autoscaler: idle workers go to 0, the scheduler stays; submitted work scales back up', async () => {
  const app = new App();
  const c = new DaskCluster(new Chart(app, 'c', { namespace: ns.name }), 'napper', { workers: 2, idleTimeout: Duration.seconds(3), idleAction: DaskIdleAction.SCALE_TO_ZERO });
  c.adapt({ minimum: 1, maximum: 3 });
  await kubectl(['apply', '-f', '-'], { input: app.synthYaml() });
  await eventually(async () => {
    expect(await groupReplicas('napper')).toBe(0);
    expect(await idleCondition('napper')).toMatchObject({ status: 'True', reason: 'ScaledToZero' });
  }, { timeoutMs: 60_000, describe: 'napper scaled to zero for idleness' });
  expect((await kubectl(['get', 'pod', 'napper-scheduler', '-n', ns.name], { allowFailure: true })).code).toBe(0);
  // The autoscaler's minimum (1) does not bring the workers back while nothing is wanted.
  await eventually(async () => {
    const s = await kubectlJson<{ status?: { desiredWorkers?: number } }>(['get', 'daskautoscaler', 'napper', '-n', ns.name, '-o', 'json']);
    expect(s.status?.desiredWorkers).toBe(0);
  }, { timeoutMs: 30_000, describe: 'the autoscaler keeps 0 while idle' });
  expect(await groupReplicas('napper')).toBe(0);
  const load = await procs.daskctlBackground(['submit', napper.tcpAddress, '20', '1']);
  try {
    await eventually(async () => {
      expect(await groupReplicas('napper')).toBeGreaterThanOrEqual(1);
      expect(await idleCondition('napper')).toMatchObject({ status: 'False', reason: 'WorkArrived' });
    }, { timeoutMs: 60_000, describe: 'napper scaled back up by its autoscaler once work arrived' });
  } finally {
    await load.stop();
  }
  const evs = await kubectlJson<{ items: { reason: string }[] }>(['get', 'events', '-n', ns.name, '--field-selector', 'involvedObject.kind=DaskCluster,involvedObject.name=napper', '-o', 'json']);
  expect(evs.items.map((e) => e.reason)).toEqual(expect.arrayContaining(['ScaledToZero', 'IdleEnded']));
});

test('idleAction ScaleToZero without an autoscaler: every group goes to 0, and work arriving restores their replicas', async () => {
  const app = new App();
  const c = new DaskCluster(new Chart(app, 'c', { namespace: ns.name }), 'dozer', { workers: 2, idleTimeout: Duration.seconds(3), idleAction: DaskIdleAction.SCALE_TO_ZERO });
  c.addWorkerGroup('big', { workers: 1 });
  await kubectl(['apply', '-f', '-'], { input: app.synthYaml() });
  const big = async (): Promise<number> => (await kubectlJson<{ spec: { worker: { replicas: number } } }>(['get', 'daskworkergroup', 'dozer-big', '-n', ns.name, '-o', 'json'])).spec.worker.replicas;
  await eventually(async () => {
    expect([await groupReplicas('dozer'), await big()]).toEqual([0, 0]);
    expect(await idleCondition('dozer')).toMatchObject({ status: 'True' });
  }, { timeoutMs: 60_000, describe: 'both groups of dozer at 0' });
  const load = await procs.daskctlBackground(['submit', dozer.tcpAddress, '5', '1']);
  try {
    await eventually(async () => expect([await groupReplicas('dozer'), await big()]).toEqual([2, 1]), { timeoutMs: 60_000, describe: 'replicas restored to 2 and 1' });
  } finally {
    await load.stop();
  }
});
