/**
 * The operator runtime against the real API server: an informer's list/watch/cache, leader election
 * on a real coordination.k8s.io/v1 Lease (MicroTime format, resourceVersion-guarded PUT), and the
 * EventRecorder writing and aggregating core/v1 Events.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { EventRecorder, kubeEventSink } from '../../operator/runtime/events';
import { Informer, type InformerEvent } from '../../operator/runtime/informer';
import { applyCustomObject, mergePatchCustomObject, mergePatchCustomObjectStatus } from '../../operator/runtime/kube';
import { isAlreadyExists, isConflict, isNotFound } from '../../operator/runtime/kube-errors';
import { LeaderElector, kubeLeaseClient } from '../../operator/runtime/leader';
import type { KubeObject } from '../../operator/runtime/object';
import { KubeRest } from '../../operator/runtime/rest';
import { eventually, kubeConfig, withNamespace } from './support';

jest.setTimeout(120_000);

const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const rest = new KubeRest(kc);
const co = kc.makeApiClient(CustomObjectsApi);
const ns = withNamespace('runtime');

describe('operator runtime on the real API server', () => {
  it('informer: lists, watches adds/updates/deletes with a label selector, and survives a resync', async () => {
    await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'before', labels: { app: 'rt' } }, data: { v: '1' } } });
    await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'unlabelled' } } });
    const events: string[] = [];
    const inf = new Informer<KubeObject & { data?: Record<string, string> }>({
      path: `/api/v1/namespaces/${ns.name}/configmaps`,
      client: rest,
      labelSelector: 'app=rt',
      resyncPeriodMs: 0,
    });
    inf.addHandler((ev: InformerEvent<KubeObject>) => events.push(`${ev.type}:${ev.object.metadata?.name}${ev.resync ? ':resync' : ''}`));
    try {
      inf.start();
      await inf.waitForSync({ timeoutMs: 30_000 });
      expect(inf.list(ns.name).map((o) => o.metadata?.name)).toEqual(['before']);
      expect(inf.get(ns.name, 'before')?.kind).toBe('ConfigMap');

      await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'after', labels: { app: 'rt' } } } });
      await core.patchNamespacedConfigMap({ namespace: ns.name, name: 'before', body: [{ op: 'replace', path: '/data/v', value: '2' }] });
      await core.deleteNamespacedConfigMap({ namespace: ns.name, name: 'after' });
      await eventually(() => events, { describe: 'add/update/delete events', until: (e) => e.includes('delete:after') && e.includes('update:before') });
      expect(events).toEqual(['add:before', 'add:after', 'update:before', 'delete:after']);
      expect(inf.get(ns.name, 'before')?.data?.v).toBe('2');

      inf.resync();
      await eventually(() => events, { describe: 'a resync update', until: (e) => e.includes('update:before:resync') });
      // The watch resumes after the resync's relist: later changes still arrive.
      await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'late', labels: { app: 'rt' } } } });
      await eventually(() => inf.get(ns.name, 'late'), { describe: 'configmap late in the cache', until: (o) => o !== undefined });
    } finally {
      await inf.stop();
    }
  });

  it('leader election: one leader at a time on a real Lease; release hands over without waiting out the lease', async () => {
    const client = kubeLeaseClient(rest);
    const fast = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 200 };
    const a = new LeaderElector({ client, namespace: ns.name, name: 'rt-lease', identity: 'a', ...fast });
    const b = new LeaderElector({ client, namespace: ns.name, name: 'rt-lease', identity: 'b', ...fast });
    const ca = new AbortController();
    const cb = new AbortController();
    const ra = a.run(ca.signal);
    try {
      await eventually(() => a.isLeader(), { describe: 'a to lead', until: (v) => v, timeoutMs: 10_000 });
      const rb = b.run(cb.signal);
      const lease = await client.get(ns.name, 'rt-lease');
      expect(lease?.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 3 });
      expect(lease?.spec?.renewTime).toMatch(/\.\d{6}Z$/);
      // a keeps renewing (the server accepts our MicroTime and resourceVersion-guarded PUTs); b stands by.
      await eventually(async () => (await client.get(ns.name, 'rt-lease'))?.spec?.renewTime, {
        describe: 'a renewal',
        until: (t) => t !== lease?.spec?.renewTime,
        timeoutMs: 5000,
      });
      expect(b.isLeader()).toBe(false);
      ca.abort();
      expect(await ra).toBe('stopped');
      await a.release();
      const t0 = Date.now();
      await eventually(() => b.isLeader(), { describe: 'b to take over', until: (v) => v, timeoutMs: 10_000 });
      expect(Date.now() - t0).toBeLessThan(3000);
      expect((await client.get(ns.name, 'rt-lease'))?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
      cb.abort();
      await rb;
      await b.release();
    } finally {
      ca.abort();
      cb.abort();
    }
  });

  it('events: writes a Warning Event and aggregates repeats into its count', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'evt-target' } } });
    const recorder = new EventRecorder({ sink: kubeEventSink(rest), instance: 'it' });
    const involved: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'evt-target', namespace: ns.name, uid: cm.metadata?.uid } };
    recorder.warning(involved, 'TestReason', 'something went wrong');
    await recorder.flush();
    recorder.warning(involved, 'TestReason', 'something went wrong');
    recorder.warning(involved, 'TestReason', 'something went wrong');
    await recorder.flush();
    const list = await core.listNamespacedEvent({ namespace: ns.name, fieldSelector: 'involvedObject.name=evt-target' });
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({ type: 'Warning', reason: 'TestReason', message: 'something went wrong', count: 3 });
    expect(list.items[0].involvedObject).toMatchObject({ kind: 'ConfigMap', name: 'evt-target', uid: cm.metadata?.uid });
  });

  it('kube helpers: merge patch of a custom object and its status, SSA, and error classification', async () => {
    const seed = parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'seed', 'my-cluster.yaml'), 'utf8')) as { metadata: { name: string } };
    const ref = { group: 'kubernetes.dask.org', version: 'v1', plural: 'daskclusters', namespace: ns.name, name: seed.metadata.name };
    const inf = new Informer<KubeObject & { status?: { phase?: string } }>({ path: `/apis/kubernetes.dask.org/v1/namespaces/${ns.name}/daskclusters`, client: rest, resyncPeriodMs: 0 });
    inf.start();
    try {
      await inf.waitForSync({ timeoutMs: 30_000 });
      await co.createNamespacedCustomObject({ group: ref.group, version: ref.version, plural: ref.plural, namespace: ns.name, body: seed });
      const dup = await co.createNamespacedCustomObject({ group: ref.group, version: ref.version, plural: ref.plural, namespace: ns.name, body: seed }).catch((e: unknown) => e);
      expect(isAlreadyExists(dup)).toBe(true);
      expect(isConflict(dup)).toBe(false);
      const missing = await co.getNamespacedCustomObject({ ...ref, name: 'nope' }).catch((e: unknown) => e);
      expect(isNotFound(missing)).toBe(true);

      await mergePatchCustomObjectStatus(co, ref, { status: { phase: 'Created' } });
      await eventually(() => inf.get(ns.name, ref.name)?.status?.phase, { describe: 'status.phase in the cache', until: (p) => p === 'Created' });
      await mergePatchCustomObject(co, ref, { metadata: { labels: { merged: 'yes' } } });
      await applyCustomObject(co, ref, { apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskCluster', metadata: { name: ref.name, annotations: { applied: 'yes' } } }, 'runtime-it');
      const got = (await co.getNamespacedCustomObject(ref)) as KubeObject & { status?: { phase?: string } };
      expect(got.metadata?.labels).toMatchObject({ merged: 'yes' });
      expect(got.metadata?.annotations).toMatchObject({ applied: 'yes' });
      expect(got.status?.phase).toBe('Created');
      const stale = await co
        .replaceNamespacedCustomObject({ ...ref, body: { ...seed, metadata: { ...seed.metadata, resourceVersion: '1' } } })
        .catch((e: unknown) => e);
      expect(isConflict(stale)).toBe(true);
    } finally {
      await inf.stop();
    }
  });
});
