/**
 * Autoscaling and idle shutdown end to end with a real Dask scheduler on loopback (kwok pods run no processes; the
 * operator reaches the scheduler through the DASK_OPERATOR_SCHEDULER_ADDRESS_OVERRIDE test hook):
 * - a DaskAutoscaler follows the scheduler's adaptive target within [minimum, maximum] when work is queued, and
 *   steps back down (at most 25% per step, with the 15 s cooldown) once the work is gone;
 * - a DaskCluster with spec.idleTimeout is deleted once its scheduler has been idle that long.
 */
import { App, Chart, Duration } from 'cdk8s';
import { DaskCluster } from '../../lib/index';
import { ADDRESS_OVERRIDE_ENV } from '../../operator/scheduler';
import { DaskProcesses, type SchedulerProc } from '../dask/support/dask-procs';
import { eventually, kubectl, kubectlJson, withNamespace } from './support';
import { ensureOperatorBuilt, OperatorProcess } from './support/operator';

jest.setTimeout(240_000);
const ns = withNamespace('autoscale');
let procs: DaskProcesses;
let busy: SchedulerProc;
let idle: SchedulerProc;
let op: OperatorProcess;

beforeAll(async () => {
  await ensureOperatorBuilt();
  procs = new DaskProcesses('autoscale');
  busy = await procs.startScheduler({ api: true });
  idle = await procs.startScheduler({ api: false }); // TCP fallback for check_idle
  procs.startWorker('real-worker-0', busy);
  op = new OperatorProcess({ namespaces: [ns.name], args: ['--scheduler-access=none'] });
  const before = process.env[ADDRESS_OVERRIDE_ENV];
  process.env[ADDRESS_OVERRIDE_ENV] = `${ns.name}/elastic=${busy.httpBaseUrl},${busy.tcpAddress};${ns.name}/sleepy=${idle.httpBaseUrl},${idle.tcpAddress}`;
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
