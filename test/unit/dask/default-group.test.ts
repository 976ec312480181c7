import { reconcileCluster } from '../../../operator/dask/cluster-reconciler';
import { mergeDiff } from '../../../operator/dask/desired';
import type { DaskCluster, DaskWorkerGroup } from '../../../lib/schema/generated/types';
import { dropNulls } from '../../../lib/validation/crd-schema';
import { loadYaml } from '../../support/yaml';
import { FakeWorld, rc } from './fake';

const NS = 'ns';
const req = { namespace: NS, name: 'my-cluster' };
const group = (w: FakeWorld): DaskWorkerGroup => w.stores.daskworkergroups.get(NS, 'my-cluster-default') as unknown as DaskWorkerGroup;
const groupPatches = (w: FakeWorld) => w.writesOf('patch', 'daskworkergroups');

function world(edit: (c: DaskCluster) => void = () => undefined): FakeWorld {
  const w = new FakeWorld();
  const c = dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0]) as unknown as DaskCluster;
  c.metadata = { name: 'my-cluster', namespace: NS, uid: 'cluster-uid' };
  edit(c);
  w.stores.daskclusters.put(c as never);
  return w;
}

describe('the default worker group follows the cluster template exactly', () => {
  test('no patch once converged, although the API server filled in defaults the template does not spell out', async () => {
    // A port without protocol: the API server stores protocol TCP (the CRD default), the template keeps none.
    const w = world((c) => void (c.spec.worker.spec.containers[0]!.ports = [{ name: 'http-dashboard', containerPort: 8788 }]));
    for (let i = 0; i < 3; i++) await reconcileCluster(w.context(), req, rc);
    expect(group(w).spec?.worker.spec.containers[0]!.ports![0]).toMatchObject({ protocol: 'TCP' });
    expect(groupPatches(w)).toEqual([]);
  });

  test('a field removed from the cluster\'s worker template is removed from the group (nulls in the patch)', async () => {
    const w = world((c) => {
      c.spec.worker.spec.nodeSelector = { disktype: 'ssd' };
      c.spec.worker.metadata = { labels: { team: 'data', tier: 'gold' } };
    });
    await reconcileCluster(w.context(), req, rc);
    expect(group(w).spec?.worker.spec.nodeSelector).toEqual({ disktype: 'ssd' });
    w.stores.daskclusters.edit(NS, 'my-cluster', (o) => {
      const c = o as unknown as DaskCluster;
      delete c.spec.worker.spec.nodeSelector;
      c.spec.worker.metadata = { labels: { team: 'data' } };
    });
    await reconcileCluster(w.context(), req, rc);
    expect(group(w).spec?.worker.spec.nodeSelector).toBeUndefined();
    expect(group(w).spec?.worker.metadata).toEqual({ labels: { team: 'data' } });
    const [patch] = groupPatches(w);
    expect(patch?.body).toMatchObject({ spec: { worker: { spec: { nodeSelector: null }, metadata: { labels: { tier: null } } } } });
    await reconcileCluster(w.context(), req, rc);
    expect(groupPatches(w)).toHaveLength(1); // and then nothing more
  });

  test('a default group edited by hand converges with one patch (the edit removed), not a patch on every pass', async () => {
    const w = world();
    await reconcileCluster(w.context(), req, rc);
    w.stores.daskworkergroups.edit(NS, 'my-cluster-default', (g) => void ((g as unknown as DaskWorkerGroup).spec!.worker.spec.nodeSelector = { zone: 'a' }));
    for (let i = 0; i < 4; i++) await reconcileCluster(w.context(), req, rc);
    expect(group(w).spec?.worker.spec.nodeSelector).toBeUndefined();
    expect(groupPatches(w)).toHaveLength(1);
  });

  test('the patch is guarded by the group\'s resourceVersion: a change made meanwhile is never overwritten', async () => {
    const w = world();
    await reconcileCluster(w.context(), req, rc);
    w.stores.daskclusters.edit(NS, 'my-cluster', (o) => void ((o as unknown as DaskCluster).spec.worker.spec.containers[0]!.image = 'ghcr.io/dask/dask:2026.8.0'));
    // Someone scales the group between the reconciler's read and its patch.
    w.beforeWrite = (wr) => {
      if (wr.op === 'patch' && wr.plural === 'daskworkergroups') {
        w.beforeWrite = undefined;
        w.stores.daskworkergroups.edit(NS, 'my-cluster-default', (g) => void ((g as unknown as DaskWorkerGroup).spec!.worker.replicas = 7));
      }
    };
    await expect(reconcileCluster(w.context(), req, rc)).rejects.toThrow(/409/);
    expect(group(w).spec?.worker.replicas).toBe(7);
    await reconcileCluster(w.context(), req, rc); // the retry, from the fresh cache
    expect(group(w).spec?.worker.replicas).toBe(7);
    expect(group(w).spec?.worker.spec.containers[0]!.image).toBe('ghcr.io/dask/dask:2026.8.0');
  });

  test('mergeDiff: changed keys, nulls for removed keys, arrays replaced whole', () => {
    expect(mergeDiff({ a: 1, b: { c: 2, d: 3 }, e: [1, 2] }, { a: 1, b: { c: 5 }, e: [1], f: 'new' })).toEqual({ b: { c: 5, d: null }, e: [1], f: 'new' });
    expect(mergeDiff({ a: 1 }, { a: 1 })).toEqual({});
  });
});
