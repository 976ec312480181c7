/**
 * spec.scheduler.updateStrategy on the real control plane (kwok): OnDelete (the default) leaves a running scheduler
 * alone when its template changes; Recreate replaces the scheduler Pod from the new template with a Warning Event,
 * leaving the worker Pods (which reconnect on their own: test/node/scheduler-update.test.ts) untouched.
 */
import { eventually, kubectl, withNamespace } from './support';
import { apply, events, getObj, seedCluster, withOperator, workerPods, type PodObj } from './support/dask';

jest.setTimeout(120_000);
const ns = withNamespace('schedupdate');
const operator = withOperator(ns);

const scheduler = (cluster: string): Promise<PodObj | undefined> => getObj<PodObj>(ns.name, 'pod', `${cluster}-scheduler`);
const running = (p: PodObj | undefined): boolean => p?.status?.phase === 'Running' && !p.metadata.deletionTimestamp;
const addEnv = (cluster: string, value: string) => kubectl(['patch', 'daskcluster', cluster, '-n', ns.name, '--type=json', '-p',
  JSON.stringify([{ op: 'add', path: '/spec/scheduler/spec/containers/0/env', value: [{ name: 'TEMPLATE_VERSION', value }] }])]);

async function start(name: string, strategy?: 'OnDelete' | 'Recreate'): Promise<PodObj> {
  const c = seedCluster({ name, replicas: 2 });
  if (strategy) c.spec.scheduler.updateStrategy = strategy;
  await apply(ns.name, c);
  return eventually(async () => {
    const s = await scheduler(name);
    expect(running(s)).toBe(true);
    expect(await workerPods(ns.name, `${name}-default`)).toHaveLength(2);
    return s as PodObj;
  }, { timeoutMs: 60_000, describe: `cluster ${name}: scheduler Running and 2 workers` });
}

operator.it('OnDelete (default): a changed scheduler template does not touch the running scheduler; deleting it applies the change', async () => {
  const before = await start('ondelete');
  await addEnv('ondelete', 'v2');
  // The operator has seen the change once the cluster's observedGeneration catches up.
  await eventually(async () => {
    const c = await getObj(ns.name, 'daskcluster', 'ondelete');
    expect(c?.status?.observedGeneration).toBe(c?.metadata.generation);
  }, { timeoutMs: 30_000, describe: 'the change observed' });
  expect((await scheduler('ondelete'))?.metadata.uid).toBe(before.metadata.uid);
  await kubectl(['delete', 'pod', 'ondelete-scheduler', '-n', ns.name]);
  const after = await eventually(async () => {
    const s = await scheduler('ondelete');
    expect(s?.metadata.uid).not.toBe(before.metadata.uid);
    return s as PodObj;
  }, { timeoutMs: 30_000, describe: 'a new scheduler Pod' });
  expect(after.spec.containers[0].env).toContainEqual({ name: 'TEMPLATE_VERSION', value: 'v2' });
  expect((await events(ns.name, 'ondelete')).map((e) => e.reason)).not.toContain('SchedulerRecreated');
});

operator.it('Recreate: a changed scheduler template replaces the scheduler Pod, with a Warning Event; the workers stay', async () => {
  const before = await start('recreate', 'Recreate');
  const workersBefore = (await workerPods(ns.name, 'recreate-default')).map((p) => p.metadata.uid).sort();
  await addEnv('recreate', 'v2');
  const after = await eventually(async () => {
    const s = await scheduler('recreate');
    expect(s?.metadata.uid).not.toBe(before.metadata.uid);
    expect(running(s)).toBe(true);
    return s as PodObj;
  }, { timeoutMs: 60_000, describe: 'the scheduler Pod replaced and Running' });
  expect(after.spec.containers[0].env).toContainEqual({ name: 'TEMPLATE_VERSION', value: 'v2' });
  expect((await workerPods(ns.name, 'recreate-default')).map((p) => p.metadata.uid).sort()).toEqual(workersBefore);
  const warning = (await events(ns.name, 'recreate')).find((e) => e.reason === 'SchedulerRecreated');
  expect(warning).toMatchObject({ type: 'Warning', message: expect.stringContaining('in memory') });
  // Once replaced, the scheduler stays: a later pass sees its template is current.
  await eventually(async () => {
    const c = await getObj(ns.name, 'daskcluster', 'recreate');
    expect(c?.status?.phase).toBe('Running');
  }, { timeoutMs: 30_000, describe: 'cluster Running again' });
  expect((await scheduler('recreate'))?.metadata.uid).toBe(after.metadata.uid);
});
