/**
 * The in-memory world behaves like the cache and the API server where reconcilers can get it wrong: cached objects
 * are frozen, every write gets a new resourceVersion, and a status write guarded by a stale one gets 409.
 */
import { reconcileCluster } from '../../../operator/dask/cluster-reconciler';
import { reconcileWorkerGroup } from '../../../operator/dask/worker-group-reconciler';
import { reconcileAutoscaler } from '../../../operator/dask/autoscaler-reconciler';
import { reconcileJob } from '../../../operator/dask/job-reconciler';
import { isConflict } from '../../../operator/runtime/kube-errors';
import type { DaskCluster, DaskWorkerGroup } from '../../../lib/schema/generated/types';
import { dropNulls } from '../../../lib/validation/crd-schema';
import { loadYaml } from '../../support/yaml';
import { FakeWorld, rc } from './fake';

const NS = 'ns';
function world(): FakeWorld {
  const w = new FakeWorld();
  const c = dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0]) as unknown as DaskCluster;
  c.metadata = { name: 'my-cluster', namespace: NS, uid: 'cluster-uid' };
  c.spec.worker.replicas = 2;
  w.stores.daskclusters.put(c as never);
  return w;
}
const group = (w: FakeWorld): DaskWorkerGroup => w.stores.daskworkergroups.get(NS, 'my-cluster-default') as unknown as DaskWorkerGroup;

describe('FakeWorld', () => {
  test('hands out frozen objects, versions every write, bumps generation on spec changes only', async () => {
    const w = world();
    const c = w.stores.daskclusters.get(NS, 'my-cluster') as unknown as DaskCluster;
    expect(() => {
      c.spec.worker.replicas = 9;
    }).toThrow(TypeError);
    const rv = c.metadata.resourceVersion;
    const edited = w.stores.daskclusters.edit(NS, 'my-cluster', (o) => void ((o as unknown as DaskCluster).spec.worker.replicas = 3)) as unknown as DaskCluster;
    expect(edited.metadata.resourceVersion).not.toBe(rv);
    expect(edited.metadata.generation).toBe(2);
    await w.api.patchStatus({ plural: 'daskclusters', namespace: NS, name: 'my-cluster' }, { phase: 'Running' });
    expect((w.stores.daskclusters.get(NS, 'my-cluster') as unknown as DaskCluster).metadata.generation).toBe(2);
  });

  test('a status write guarded by a stale resourceVersion gets 409 Conflict', async () => {
    const w = world();
    const rv = w.stores.daskclusters.get(NS, 'my-cluster')!.metadata as { resourceVersion?: string };
    const stale = rv.resourceVersion;
    w.stores.daskclusters.edit(NS, 'my-cluster', (o) => void ((o as unknown as DaskCluster).status = { phase: 'Pending' }));
    const err = await w.api.patchStatus({ plural: 'daskclusters', namespace: NS, name: 'my-cluster' }, { phase: 'Running' }, stale).catch((e: unknown) => e);
    expect(isConflict(err)).toBe(true);
    expect((w.stores.daskclusters.get(NS, 'my-cluster') as unknown as DaskCluster).status?.phase).toBe('Pending');
  });

  test('a worker-group status write racing another writer is redone on top of the newer object: nothing it wrote is lost', async () => {
    const w = world();
    await reconcileCluster(w.context(), { namespace: NS, name: 'my-cluster' }, rc);
    await reconcileWorkerGroup(w.context(), { namespace: NS, name: 'my-cluster-default' }, rc);
    w.runAllPods();
    // Between the reconciler's read and its status write, another writer adds a condition to the group's status.
    let raced = false;
    w.beforeWrite = (write) => {
      if (raced || write.op !== 'status' || write.plural !== 'daskworkergroups') return;
      raced = true;
      w.stores.daskworkergroups.edit(NS, 'my-cluster-default', (g) => {
        const s = ((g as unknown as DaskWorkerGroup).status ??= {});
        s.conditions = [...(s.conditions ?? []), { type: 'ScaledDownGracefully', status: 'True', reason: 'Retired', message: 'retired 1 worker(s)', lastTransitionTime: '2026-11-26T11:00:00Z' }];
      });
    };
    await reconcileWorkerGroup(w.context(), { namespace: NS, name: 'my-cluster-default' }, rc);
    expect(raced).toBe(true);
    expect(w.conflicts).toBe(1);
    const types = (group(w).status?.conditions ?? []).map((c) => c.type).sort();
    expect(types).toEqual(expect.arrayContaining(['ScaledDownGracefully', 'Ready']));
    expect(group(w).status?.readyReplicas).toBe(2);
  });

  const external = { type: 'External', status: 'True' as const, reason: 'SetElsewhere', message: 'written by another client', lastTransitionTime: '2026-11-26T11:00:00Z' };
  /** On the first status write of `plural`, another client adds a condition first (the reconciler read before it). */
  const raceOn = (w: FakeWorld, plural: 'daskclusters' | 'daskautoscalers' | 'daskjobs', name: string): (() => boolean) => {
    let raced = false;
    w.beforeWrite = (write) => {
      if (raced || write.op !== 'status' || write.plural !== plural) return;
      raced = true;
      w.stores[plural].edit(NS, name, (o) => {
        const st = ((o as { status?: { conditions?: unknown[] } }).status ??= {});
        st.conditions = [...(st.conditions ?? []), external];
      });
    };
    return () => raced;
  };
  const conditionTypes = (w: FakeWorld, plural: 'daskclusters' | 'daskautoscalers' | 'daskjobs', name: string): string[] =>
    (((w.stores[plural].get(NS, name) as { status?: { conditions?: Array<{ type: string }> } }).status?.conditions) ?? []).map((c) => c.type);

  test('DaskCluster status goes through the guarded path: a condition another client wrote meanwhile survives', async () => {
    const c = world();
    const cRaced = raceOn(c, 'daskclusters', 'my-cluster');
    await reconcileCluster(c.context(), { namespace: NS, name: 'my-cluster' }, rc);
    expect(cRaced()).toBe(true);
    expect(conditionTypes(c, 'daskclusters', 'my-cluster')).toEqual(expect.arrayContaining(['External', 'Ready', 'SchedulerReady']));
    expect(c.conflicts).toBeGreaterThanOrEqual(1);
  });

  test('DaskAutoscaler status goes through the guarded path', async () => {
    const a = world();
    await reconcileCluster(a.context(), { namespace: NS, name: 'my-cluster' }, rc);
    a.runAllPods();
    a.stores.daskautoscalers.put({ apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskAutoscaler', metadata: { name: 'my-cluster', namespace: NS, uid: 'as', ownerReferences: [{ apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskCluster', name: 'my-cluster', uid: 'cluster-uid', controller: true }] }, spec: { cluster: 'my-cluster', minimum: 1, maximum: 5 } } as never);
    a.scheduler = { adaptiveTarget: async () => 2, close: async () => undefined } as never;
    const aRaced = raceOn(a, 'daskautoscalers', 'my-cluster');
    await reconcileAutoscaler(a.context(), { namespace: NS, name: 'my-cluster' }, rc);
    expect(aRaced()).toBe(true);
    expect(conditionTypes(a, 'daskautoscalers', 'my-cluster')).toEqual(expect.arrayContaining(['External', 'ClusterFound', 'ScalingActive']));
  });

  test('DaskJob status goes through the guarded path (its conditions: a namesake cluster makes it write ComponentsHealthy)', async () => {
    const j = new FakeWorld();
    j.stores.daskjobs.put({ apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskJob', metadata: { name: 'nightly', namespace: NS, uid: 'job-uid', generation: 1 }, spec: { job: { spec: { containers: [{ name: 'job', image: 'x' }] } }, cluster: { spec: {} } }, status: { jobStatus: 'JobCreated' } } as never);
    j.stores.daskclusters.put({ apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskCluster', metadata: { name: 'nightly', namespace: NS, uid: 'not-the-jobs' }, spec: {} } as never);
    const jRaced = raceOn(j, 'daskjobs', 'nightly');
    await reconcileJob(j.context(), { namespace: NS, name: 'nightly' }, rc);
    expect(jRaced()).toBe(true);
    expect(conditionTypes(j, 'daskjobs', 'nightly')).toEqual(expect.arrayContaining(['External', 'ComponentsHealthy']));
  });

  test('status is written only when it changes: a second pass over an unchanged world writes nothing', async () => {
    const w = world();
    for (let i = 0; i < 3; i++) {
      await reconcileCluster(w.context(), { namespace: NS, name: 'my-cluster' }, rc);
      await reconcileWorkerGroup(w.context(), { namespace: NS, name: 'my-cluster-default' }, rc);
      w.runAllPods();
    }
    const before = w.writes.length;
    await reconcileCluster(w.context(), { namespace: NS, name: 'my-cluster' }, rc);
    await reconcileWorkerGroup(w.context(), { namespace: NS, name: 'my-cluster-default' }, rc);
    expect(w.writes.slice(before)).toEqual([]);
  });
});

