/**
 * How the reconcilers write status (operator/dask/status.ts with operator/dask/own-writes.ts), against the real API
 * server's resourceVersion preconditions on the status subresource: a cache that still shows the version our own
 * write replaced costs no conflict and no re-read, while someone else's later write still gets a 409, a fresh read,
 * and is never overwritten.
 *
 * The "cache" here is a snapshot read once and never updated: the most a lagging informer can be behind.
 */
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { DaskApi, ObjectRef } from '../../operator/dask/api';
import { RestDaskApi } from '../../operator/dask/api';
import { OwnWrites } from '../../operator/dask/own-writes';
import { updateStatus } from '../../operator/dask/status';
import { isConflict } from '../../operator/runtime/kube-errors';
import { mergePatchCustomObjectStatus } from '../../operator/runtime/kube';
import { KubeRest } from '../../operator/runtime/rest';
import type { DaskCluster } from '../../lib/schema/generated/types';
import { dropNulls } from '../../lib/validation/crd-schema';
import { loadYaml } from '../support/yaml';
import { kubeConfig, withNamespace } from './support';

jest.setTimeout(60_000);

const kc = kubeConfig();
const co = kc.makeApiClient(CustomObjectsApi);
const ns = withNamespace('status-writes');
const GROUP = { group: 'kubernetes.dask.org', version: 'v1', plural: 'daskclusters' };

/** The real API, counting what the status path sends and what the server refused. */
function countingApi(): { api: Pick<DaskApi, 'get' | 'patchStatus'>; calls: { get: number; patchStatus: number; conflicts: number } } {
  const real = new RestDaskApi(new KubeRest(kc));
  const calls = { get: 0, patchStatus: 0, conflicts: 0 };
  return {
    calls,
    api: {
      get: (ref) => {
        calls.get++;
        return real.get(ref);
      },
      patchStatus: async (ref, status, rv) => {
        calls.patchStatus++;
        try {
          return await real.patchStatus(ref, status, rv);
        } catch (e) {
          if (isConflict(e)) calls.conflicts++;
          throw e;
        }
      },
    },
  };
}

async function createCluster(name: string): Promise<{ ref: ObjectRef; snapshot: DaskCluster }> {
  const body = dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0]) as unknown as DaskCluster;
  body.metadata = { name };
  await co.createNamespacedCustomObject({ ...GROUP, namespace: ns.name, body });
  const snapshot = (await co.getNamespacedCustomObject({ ...GROUP, namespace: ns.name, name })) as DaskCluster;
  return { ref: { plural: 'daskclusters', namespace: ns.name, name }, snapshot };
}

const stored = async (name: string) => ((await co.getNamespacedCustomObject({ ...GROUP, namespace: ns.name, name })) as DaskCluster).status;

describe('status writes on the real API server, with a cache that lags behind', () => {
  it('a second write from the stale copy goes through first time: no 409, no re-read (and without OwnWrites it would cost both)', async () => {
    const { ref, snapshot } = await createCluster('lagging');
    const { api, calls } = countingApi();
    const ctx = { api: api as DaskApi, ownWrites: new OwnWrites() };
    await updateStatus(ctx, ref, snapshot, () => ({ phase: 'Created' }));
    await updateStatus(ctx, ref, snapshot, () => ({ phase: 'Pending' }));
    await updateStatus(ctx, ref, snapshot, () => ({ phase: 'Running' }));
    expect(calls).toEqual({ get: 0, patchStatus: 3, conflicts: 0 });
    expect((await stored('lagging'))?.phase).toBe('Running');

    // The control: the same stale copy with no record of our writes is refused and read again.
    const fresh = countingApi();
    const withoutOwnWrites = { api: fresh.api as DaskApi, ownWrites: new OwnWrites() };
    await updateStatus(withoutOwnWrites, ref, snapshot, () => ({ replicas: 1 }));
    expect(fresh.calls).toEqual({ get: 1, patchStatus: 2, conflicts: 1 });
    expect(await stored('lagging')).toMatchObject({ phase: 'Running', replicas: 1 });
  });

  it("someone else's write after ours still gets a 409 and a fresh read, and what they wrote is kept", async () => {
    const { ref, snapshot } = await createCluster('contended');
    const { api, calls } = countingApi();
    const ctx = { api: api as DaskApi, ownWrites: new OwnWrites() };
    await updateStatus(ctx, ref, snapshot, () => ({ phase: 'Created' }));
    await mergePatchCustomObjectStatus(co, { ...GROUP, namespace: ns.name, name: 'contended' }, { status: { phase: 'Error', schedulerAddress: 'set-by-someone-else' } });
    const seen: (string | undefined)[] = [];
    // Ours would move Created on to Pending, but never over an Error it has not seen.
    await updateStatus(ctx, ref, snapshot, (cur) => {
      seen.push(cur.status?.phase);
      return cur.status?.phase === 'Error' ? {} : { phase: 'Pending' };
    });
    expect(seen).toEqual(['Created', 'Error']);
    expect(calls).toEqual({ get: 1, patchStatus: 2, conflicts: 1 });
    expect(await stored('contended')).toMatchObject({ phase: 'Error', schedulerAddress: 'set-by-someone-else' });
  });
});
