import { updateStatus } from '../../../operator/dask/status';
import { FakeWorld } from './fake';

const NS = 'ns';
const ref = { plural: 'daskjobs' as const, namespace: NS, name: 'nightly' };
const job = (uid: string) => ({ apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskJob', metadata: { name: 'nightly', namespace: NS, uid }, spec: {}, status: {} });

describe('updateStatus', () => {
  test('a conflict is retried from a fresh read, computed again from it', async () => {
    const w = new FakeWorld();
    const stale = w.stores.daskjobs.put(job('a') as never);
    w.stores.daskjobs.edit(NS, 'nightly', (j) => void ((j as unknown as { status: object }).status = { jobStatus: 'Running' }));
    const seen: unknown[] = [];
    const written = await updateStatus(w.context(), ref, stale as never, (cur: { status?: { jobStatus?: string } }) => {
      seen.push(cur.status?.jobStatus);
      return { clusterName: 'nightly' };
    });
    expect(seen).toEqual([undefined, 'Running']);
    expect(w.conflicts).toBe(1);
    expect((written as unknown as { status: object }).status).toEqual({ jobStatus: 'Running', clusterName: 'nightly' });
  });

  test('an object deleted and created again under the same name meanwhile gets nothing', async () => {
    const w = new FakeWorld();
    const old = w.stores.daskjobs.put(job('a') as never);
    w.stores.daskjobs.remove(NS, 'nightly');
    w.stores.daskjobs.put(job('b') as never);
    const written = await updateStatus(w.context(), ref, old as never, () => ({ jobStatus: 'Failed' }));
    expect(written).toBeUndefined();
    expect((w.stores.daskjobs.get(NS, 'nightly') as unknown as { status: object }).status).toEqual({});
  });

  test('a cache behind our own last write: computed from what that write returned, with no conflict and no re-read', async () => {
    const w = new FakeWorld();
    const cached = w.stores.daskjobs.put(job('a') as never); // what the cache shows, and keeps showing
    const ctx = w.context();
    await updateStatus(ctx, ref, cached as never, () => ({ clusterName: 'nightly' }));
    const seen: unknown[] = [];
    const written = await updateStatus(ctx, ref, cached as never, (cur: { status?: { clusterName?: string } }) => {
      seen.push(cur.status?.clusterName);
      return { jobStatus: 'Running' };
    });
    expect(seen).toEqual(['nightly']);
    expect(w.conflicts).toBe(0);
    expect(w.writesOf('status', 'daskjobs')).toHaveLength(2);
    expect((written as unknown as { status: object }).status).toEqual({ clusterName: 'nightly', jobStatus: 'Running' });
  });

  test('someone else\'s write after ours still ends in a conflict and a fresh read, not in overwriting it', async () => {
    const w = new FakeWorld();
    const cached = w.stores.daskjobs.put(job('a') as never);
    const ctx = w.context();
    await updateStatus(ctx, ref, cached as never, () => ({ clusterName: 'nightly' }));
    w.stores.daskjobs.edit(NS, 'nightly', (j) => void ((j as unknown as { status: { jobStatus?: string } }).status.jobStatus = 'Successful'));
    const seen: unknown[] = [];
    await updateStatus(ctx, ref, cached as never, (cur: { status?: { jobStatus?: string } }) => {
      seen.push(cur.status?.jobStatus);
      return cur.status?.jobStatus ? {} : { jobStatus: 'Running' };
    });
    expect(seen).toEqual([undefined, 'Successful']);
    expect(w.conflicts).toBe(1);
    expect((w.stores.daskjobs.get(NS, 'nightly') as unknown as { status: object }).status).toEqual({ clusterName: 'nightly', jobStatus: 'Successful' });
  });
});
