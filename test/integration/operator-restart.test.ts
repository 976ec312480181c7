/**
 * Crash safety: the operator killed with SIGKILL in the middle of scaling a worker group 0 → 50 converges after a
 * restart with exactly 50 workers (none created twice, none deleted, every Pod owned by the group); then the same
 * cluster is created, scaled and deleted with the operator restarted between each step (some steps happen while it
 * is down).
 */
import { Informer, type InformerEvent } from '../../operator/runtime/informer';
import type { KubeObject } from '../../operator/runtime/object';
import { KubeRest } from '../../operator/runtime/rest';
import { eventually, kubeConfig, kubectl, withNamespace } from './support';
import { apply, condition, controllerOf, getObj, isLive, isRunning, listObjs, Obj, PodObj, seedCluster, withOperator, workerPods } from './support/dask';

jest.setTimeout(150_000);

const ns = withNamespace('op-restart');
// Small creation batches so that a scale-up takes several reconciles and the kill lands in the middle of one.
const op = withOperator(ns, ['--create-parallelism=2', '--create-batch-size=10']);
const TARGET = 50;

interface PodWatch {
  added: Set<string>;
  deleted: Set<string>;
  stop: () => Promise<void>;
}

/** Watches worker Pods of the namespace (names added / deleted), calling `onAdded` for each new one. */
async function watchWorkers(onAdded: (count: number) => void): Promise<PodWatch> {
  const added = new Set<string>();
  const deleted = new Set<string>();
  const inf = new Informer<KubeObject>({
    path: `/api/v1/namespaces/${ns.name}/pods`,
    client: new KubeRest(kubeConfig()),
    labelSelector: 'dask.org/component=worker',
    resyncPeriodMs: 0,
  });
  inf.addHandler((ev: InformerEvent<KubeObject>) => {
    const name = ev.object.metadata?.name ?? '';
    if (ev.type === 'add' && !added.has(name)) {
      added.add(name);
      onAdded(added.size);
    }
    if (ev.type === 'delete' || ev.object.metadata?.deletionTimestamp) deleted.add(name);
  });
  inf.start();
  await inf.waitForSync({ timeoutMs: 30_000 });
  return { added, deleted, stop: () => inf.stop() };
}

async function restart(how: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
  if (how === 'SIGKILL') await op.process.kill();
  else await op.process.stop();
  expect(op.process.running).toBe(false);
  op.process.start();
}

function settledWorkers(group: string, n: number, timeoutMs = 60_000): Promise<PodObj[]> {
  return eventually(() => workerPods(ns.name, group), {
    describe: `${group} to have exactly ${n} Running workers and none terminating`,
    until: (pods) => pods.length === n && pods.every(isRunning),
    timeoutMs,
  });
}

/** Every Pod in the namespace is the scheduler (owned by the cluster) or a worker controlled by a live group. */
async function expectNoOrphans(): Promise<void> {
  const pods = await listObjs<PodObj>(ns.name, 'pods');
  const groups = new Map((await listObjs(ns.name, 'daskworkergroups')).map((g) => [g.metadata.uid, g]));
  const clusters = new Map((await listObjs(ns.name, 'daskclusters')).map((c) => [c.metadata.uid, c]));
  for (const p of pods) {
    const owner = controllerOf(p);
    expect({ pod: p.metadata.name, owner: owner?.kind }).toEqual({ pod: p.metadata.name, owner: p.metadata.labels?.['dask.org/component'] === 'worker' ? 'DaskWorkerGroup' : 'DaskCluster' });
    expect(owner && (groups.has(owner.uid) || clusters.has(owner.uid))).toBe(true);
    expect(p.metadata.ownerReferences).toHaveLength(1);
  }
}

describe('operator restarts', () => {
  op.it(`SIGKILL in the middle of scaling 0 → ${TARGET} converges after a restart: exactly ${TARGET} workers, no duplicates, no orphans`, async () => {
    await apply(ns.name, seedCluster({ name: 'crash', replicas: 0 }));
    await eventually(() => getObj(ns.name, 'daskcluster', 'crash'), {
      describe: 'cluster crash Running with 0 workers',
      until: (c) => c?.status?.phase === 'Running' && condition(c, 'SchedulerReady')?.status === 'True',
    });
    expect(await workerPods(ns.name, 'crash-default')).toHaveLength(0);

    let killedAt = -1;
    let kill: Promise<void> | undefined;
    const watch = await watchWorkers((count) => {
      if (count === 12 && !kill) kill = op.process.kill().then(() => {
        killedAt = watch.added.size;
      });
    });
    try {
      await kubectl(['scale', '-n', ns.name, `--replicas=${TARGET}`, 'daskworkergroup', 'crash-default']);
      await eventually(() => kill !== undefined, { describe: 'the operator to be killed mid-scale', until: (k) => k });
      await kill;
      expect(op.process.running).toBe(false);
      // Killed part-way: some, not all, workers exist; nothing more appears while the operator is down.
      const during = (await workerPods(ns.name, 'crash-default')).length;
      expect(killedAt).toBeLessThan(TARGET);
      expect(during).toBeGreaterThanOrEqual(12);
      expect(during).toBeLessThan(TARGET);

      op.process.start();
      const pods = await settledWorkers('crash-default', TARGET);
      expect(new Set(pods.map((p) => p.metadata.name)).size).toBe(TARGET);
      await eventually(() => getObj(ns.name, 'daskworkergroup', 'crash-default'), {
        describe: `group status ${TARGET}/${TARGET}`,
        until: (g) => g?.status?.replicas === TARGET && g.status.readyReplicas === TARGET && condition(g, 'Ready')?.status === 'True',
      });
      // No duplicates: the restarted operator created exactly the missing ones and never had to delete a surplus.
      expect(watch.added.size).toBe(TARGET);
      expect([...watch.deleted]).toEqual([]);
      await expectNoOrphans();
    } finally {
      await watch.stop();
    }

    await kubectl(['delete', '-n', ns.name, 'daskcluster', 'crash', '--wait=false']);
    await eventually(() => listObjs(ns.name, 'pods'), { describe: 'every Pod of crash to be gone', until: (p) => p.length === 0, timeoutMs: 60_000 });
  }, 150_000);

  op.it('the same cluster is created, scaled and deleted with the operator restarted between each step', async () => {
    // 1. Created while the operator is down; it starts afterwards.
    await op.process.kill();
    await apply(ns.name, seedCluster());
    op.process.start();
    let pods = await settledWorkers('my-cluster-default', 3);
    const first = new Set(pods.map((p) => p.metadata.name));
    await eventually(() => getObj(ns.name, 'daskcluster', 'my-cluster'), {
      describe: 'my-cluster Ready',
      until: (c) => c?.status?.phase === 'Running' && condition(c, 'Ready')?.status === 'True',
    });

    // 2. Restart (crash), then scale up through the cluster while it runs.
    await restart('SIGKILL');
    await kubectl(['scale', '-n', ns.name, 'daskcluster', 'my-cluster', '--replicas=7']);
    pods = await settledWorkers('my-cluster-default', 7);
    // The workers from before the restart were kept, not replaced.
    for (const n of first) expect(pods.map((p) => p.metadata.name)).toContain(n);

    // 3. Scaled down through the group while the operator is down; it catches up after a graceful restart.
    await op.process.stop();
    await kubectl(['scale', '-n', ns.name, '--replicas=2', 'daskworkergroup', 'my-cluster-default']);
    expect((await workerPods(ns.name, 'my-cluster-default')).filter(isLive)).toHaveLength(7);
    op.process.start();
    await settledWorkers('my-cluster-default', 2);
    await expectNoOrphans();

    // 4. Restart, then deleted while the operator is down: the garbage collector removes everything, and the
    //    operator started afterwards recreates nothing.
    await restart('SIGKILL');
    await eventually(() => getObj(ns.name, 'daskcluster', 'my-cluster'), {
      describe: 'my-cluster Ready with 2 workers after the restart',
      until: (c) => c?.status?.replicas === 2 && condition(c, 'Ready')?.status === 'True',
    });
    await op.process.kill();
    await kubectl(['delete', '-n', ns.name, 'daskcluster', 'my-cluster', '--wait=false']);
    const kinds = ['pods', 'services', 'daskworkergroups', 'daskclusters'];
    const left = async (): Promise<Obj[]> => (await Promise.all(kinds.map((k) => listObjs(ns.name, k)))).flat().filter((o) => o.kind === 'DaskCluster' || o.metadata.labels?.['dask.org/cluster-name'] === 'my-cluster');
    await eventually(left, {
      describe: 'every object of my-cluster to be gone',
      until: (left) => left.length === 0,
      timeoutMs: 60_000,
    });
    op.process.start();
    // The restarted operator has synced (its readiness shows in the log) and still nothing exists.
    await eventually(() => op.process.log().split('--- start #').pop() ?? '', {
      describe: 'the restarted operator to start its controllers',
      until: (log) => /controller.*start|starting workers|caches synced/i.test(log),
    });
    expect(await left()).toEqual([]);
  }, 150_000);
});
