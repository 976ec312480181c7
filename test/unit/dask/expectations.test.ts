import { reconcileCluster } from '../../../operator/dask/cluster-reconciler';
import { reconcileWorkerGroup } from '../../../operator/dask/worker-group-reconciler';
import { Expectations } from '../../../operator/dask/expectations';
import type { DaskCluster } from '../../../lib/schema/generated/types';
import { dropNulls } from '../../../lib/validation/crd-schema';
import { loadYaml } from '../../support/yaml';
import { FakeWorld, rc } from './fake';

const NS = 'ns';
const req = (name: string) => ({ namespace: NS, name });

describe('Expectations', () => {
  test('a group recreated under the same name does not inherit its predecessor\'s pending creations', async () => {
    const w = new FakeWorld();
    const c = dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0]) as unknown as DaskCluster;
    c.metadata = { name: 'my-cluster', namespace: NS, uid: 'cluster-uid' };
    c.spec.worker.replicas = 3;
    w.stores.daskclusters.put(c as never);
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    w.applyCreates = false; // the cache never shows the first group's Pods
    await reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc);
    const first = w.writesOf('create', 'pods').filter((x) => x.name.includes('-worker-')).length;
    expect(first).toBe(3);
    // Replaced before any reconcile saw it go (kubectl replace --force, a GitOps re-sync): same name, new uid.
    const old = w.stores.daskworkergroups.get(NS, 'my-cluster-default')!;
    w.stores.daskworkergroups.remove(NS, 'my-cluster-default');
    w.stores.daskworkergroups.put({ ...structuredClone(old), metadata: { ...structuredClone(old.metadata), uid: 'group-uid-2' } } as never);
    w.applyCreates = true;
    await reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc);
    expect(w.writesOf('create', 'pods').filter((x) => x.name.includes('-worker-')).length).toBe(first + 3);
  });

  test('entries of owners that vanished are swept once they expire', () => {
    let now = 0;
    const e = new Expectations(1000, () => now);
    e.expectCreate('gone-uid', 'p1');
    e.expectDelete('gone-uid', 'p2');
    expect(e.size).toBe(1);
    now = 1001;
    expect(e.pendingCreates('other-uid', () => false)).toEqual([]);
    expect(e.size).toBe(0);
  });
});
