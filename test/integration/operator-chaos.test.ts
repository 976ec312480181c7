/**
 * Bounded chaos: the operator is SIGKILLed six times while a worker group is scaled up and down (0 → 50 → 10 → 40 →
 * 0 → 30 → 25, each change landing while the operator runs or is down). After the last restart it must converge to
 * exactly the last count, with every worker Pod controlled by the group, no Pod of the cluster without an owner, and
 * the count staying there (no late duplicates).
 */
import { eventually, kubectl, kubectlJson, withNamespace } from './support';
import { apply, isRunning, seedCluster, withOperator, workerPods } from './support/dask';

jest.setTimeout(180_000);
const ns = withNamespace('op-chaos');
const op = withOperator(ns, ['--create-parallelism=4', '--create-batch-size=10']);
const STEPS: ReadonlyArray<{ replicas: number; killAfterMs: number }> = [
  { replicas: 50, killAfterMs: 800 },
  { replicas: 10, killAfterMs: 300 },
  { replicas: 40, killAfterMs: 1200 },
  { replicas: 0, killAfterMs: 500 },
  { replicas: 30, killAfterMs: 700 },
  { replicas: 25, killAfterMs: 0 }, // changed while the operator is down
];

interface PodLite { metadata: { name: string; labels?: Record<string, string>; ownerReferences?: { controller?: boolean; uid: string; kind: string }[]; deletionTimestamp?: string } }

op.it('converges to the last requested count after repeated SIGKILLs mid-scaling', async () => {
  await apply(ns.name, seedCluster({ name: 'chaos', replicas: 0 }));
  await eventually(async () => {
    const g = await kubectlJson<{ metadata: { uid: string } }>(['get', 'daskworkergroup', 'chaos-default', '-n', ns.name, '-o', 'json']);
    return g.metadata.uid;
  }, { timeoutMs: 30_000, describe: 'default worker group' });
  for (const step of STEPS) {
    await kubectl(['scale', 'daskworkergroup', 'chaos-default', '-n', ns.name, `--replicas=${step.replicas}`]);
    if (step.killAfterMs > 0) {
      // The chaos schedule: let the operator act on the change for a while, then kill it without warning.
      // (A timed action, not a wait for some state: the assertions below poll with deadlines.)
      await new Promise((r) => setTimeout(r, step.killAfterMs));
    }
    await op.process.kill();
    op.process.start();
  }
  const last = STEPS[STEPS.length - 1].replicas;
  const group = await kubectlJson<{ metadata: { uid: string } }>(['get', 'daskworkergroup', 'chaos-default', '-n', ns.name, '-o', 'json']);
  await eventually(() => workerPods(ns.name, 'chaos-default'), {
    describe: `exactly ${last} Running workers`,
    until: (pods) => pods.length === last && pods.every(isRunning),
    timeoutMs: 90_000,
  });
  const all = (await kubectlJson<{ items: PodLite[] }>(['get', 'pods', '-n', ns.name, '-l', 'dask.org/cluster-name=chaos', '-o', 'json'])).items;
  const workers = all.filter((p) => p.metadata.labels?.['dask.org/component'] === 'worker' && !p.metadata.deletionTimestamp);
  expect(workers).toHaveLength(last);
  for (const p of all) expect(p.metadata.ownerReferences?.some((r) => r.controller)).toBe(true);
  for (const p of workers) expect(p.metadata.ownerReferences?.find((r) => r.controller)?.uid).toBe(group.metadata.uid);
  // Still exactly `last` after the operator has had time to act on every event it was sent (its status says so).
  await eventually(async () => {
    const g = await kubectlJson<{ metadata: { generation: number }; status?: { observedGeneration?: number; replicas?: number; readyReplicas?: number } }>(['get', 'daskworkergroup', 'chaos-default', '-n', ns.name, '-o', 'json']);
    expect(g.status?.observedGeneration).toBe(g.metadata.generation);
    expect(g.status?.replicas).toBe(last);
    expect(g.status?.readyReplicas).toBe(last);
  }, { timeoutMs: 30_000, describe: 'group status settled' });
  expect(await workerPods(ns.name, 'chaos-default')).toHaveLength(last);
});
