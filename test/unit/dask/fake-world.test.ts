/**
 * The in-memory world behaves like the cache and the API server where reconcilers can get it wrong: cached objects
 * are frozen, every write gets a new resourceVersion, and a status write guarded by a stale one gets 409.
 */
import { reconcileCluster } from '../../../operator/dask/cluster-reconciler';
import { reconcileWorkerGroup } from '../../../operator/dask/worker-group-reconciler';
import { isConflict } from '../../../operator/runtime/kube';
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
});
