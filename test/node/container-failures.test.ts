/**
 * Containers that cannot start, on a real kubelet: the seed's YAML as written (with `dask-scheduler` / `dask-worker`,
 * which distributed 2026.6 removed) is accepted, never reported Running, and says why with the kubelet's own words and
 * a hint; an image that is not there says so too.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { parse } from 'yaml';
import { eventually } from '../integration/support/eventually';
import { kubectl, kubectlJson } from '../integration/support/kube';
import { condition, SEED_CLUSTER_FILE, type EventObj, type Obj } from '../integration/support/dask';
import { installOperator, operatorLog, synthesize } from './support/real-dask';
import { clusterManifest } from './support/manifests';

jest.setTimeout(600_000);

const NS = `fail-${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  await installOperator(synthesize().operator);
  await kubectl(['create', 'namespace', NS]);
});
afterAll(async () => {
  await kubectl(['delete', 'namespace', NS, '--wait=false'], { allowFailure: true });
});

const get = (kind: string, name: string): Promise<Obj> => kubectlJson<Obj>(['get', kind, name, '-n', NS, '-o', 'json']);
const warnings = async (name: string): Promise<EventObj[]> =>
  (await kubectlJson<{ items: EventObj[] }>(['get', 'events', '-n', NS, '--field-selector', `involvedObject.name=${name},type=Warning`, '-o', 'json'])).items;

test('the seed YAML with the removed commands: accepted, phase Pending (never Running), condition and Event quote the kubelet with the hint', async () => {
  const seed = parse(fs.readFileSync(SEED_CLUSTER_FILE, 'utf8')) as Obj;
  // The one change: the seed's `:latest` tag would make the kubelet pull (no registry here); the pinned tag is imported.
  for (const c of [seed.spec.scheduler.spec.containers[0], seed.spec.worker.spec.containers[0]]) c.image = 'ghcr.io/dask/dask:2026.8.0';
  seed.spec.worker.replicas = 1;
  await kubectl(['apply', '--validate=strict', '-n', NS, '-f', '-'], { input: JSON.stringify(seed) });
  try {
    const cluster = await eventually(() => get('daskcluster', 'my-cluster'), {
      describe: 'SchedulerReady=False naming the missing command',
      until: (c) => /removed the `dask-scheduler` command/.test(condition(c, 'SchedulerReady')?.message ?? ''),
      timeoutMs: 120_000,
      intervalMs: 1000,
    });
    expect(cluster.status.phase).toBe('Pending');
    const sched = condition(cluster, 'SchedulerReady');
    // The image's entrypoint (tini, like upstream's) cannot exec dask-scheduler and exits 127; the kubelet reports
    // CrashLoopBackOff with that exit code (runc alone would say "executable file not found": see the unit tests).
    expect(sched?.reason).toBe('CommandNotFound');
    expect(sched?.message).toContain('exit code 127: command not found');
    expect(sched?.message).toContain('distributed 2026.6.0 removed the `dask-scheduler` command');
    const events = await eventually(() => warnings('my-cluster'), { describe: 'a SchedulerFailed Warning Event', until: (e) => e.some((x) => x.reason === 'SchedulerFailed'), timeoutMs: 30_000 });
    expect(events.find((x) => x.reason === 'SchedulerFailed')?.message).toContain('`dask scheduler`');
    const group = await eventually(() => get('daskworkergroup', 'my-cluster-default'), {
      describe: 'the worker group ContainersHealthy=False naming the missing command',
      until: (g) => /removed the `dask-worker` command/.test(condition(g, 'ContainersHealthy')?.message ?? ''),
      timeoutMs: 120_000,
      intervalMs: 1000,
    });
    expect(condition(group, 'ContainersHealthy')?.message).toContain('removed the `dask-worker` command');
    const printed = await kubectl(['get', 'daskcluster', 'my-cluster', '-n', NS]);
    expect(printed.stdout).not.toMatch(/Running/);
  } catch (err) {
    (err as Error).message += `\n--- operator log ---\n${await operatorLog()}`;
    throw err;
  }
});

test('an image the node does not have: ErrImageNeverPull quoted, with the image hint', async () => {
  const obj = clusterManifest('noimage', 0);
  const sched = obj.spec.scheduler.spec.containers[0];
  sched.image = 'ghcr.io/dask/dask:0.0.0-missing';
  sched.imagePullPolicy = 'Never';
  await kubectl(['apply', '-n', NS, '-f', '-'], { input: JSON.stringify(obj) });
  const cluster = await eventually(() => get('daskcluster', 'noimage'), {
    describe: 'SchedulerReady=False reason ErrImageNeverPull',
    until: (c) => condition(c, 'SchedulerReady')?.reason === 'ErrImageNeverPull',
    timeoutMs: 120_000,
    intervalMs: 1000,
  });
  expect(cluster.status.phase).toBe('Pending');
  expect(condition(cluster, 'SchedulerReady')?.message).toContain('ghcr.io/dask/dask:0.0.0-missing');
  expect(condition(cluster, 'Ready')?.reason).toBe('SchedulerFailed');
});
