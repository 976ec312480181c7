/**
 * The operator's RBAC rules against what its reconcilers actually do: every write the reconcilers make in the
 * scenarios below (recorded by the in-memory world) must be granted, and nothing may be granted that neither they,
 * the informers (get/list/watch), the Event recorder (create/patch) nor the OwnerReferencesPermissionEnforcement admission
 * plugin's checks on the ownerReferences the reconcilers write (ownerReferenceChecks) use. So the rules can drift from the code in
 * neither direction. The construct test (test/construct/operator.test.ts) checks that the ClusterRole carries them.
 */
import { LEADER_ELECTION_RULES, OPERATOR_RULES } from '../../../lib/operator-rbac';
import { kubeEventSink } from '../../../operator/runtime/events';
import { kubeLeaseClient } from '../../../operator/runtime/leader';
import type { KubeRest } from '../../../operator/runtime/rest';
import { reconcileAutoscaler } from '../../../operator/dask/autoscaler-reconciler';
import { reconcileCluster } from '../../../operator/dask/cluster-reconciler';
import { reconcileJob } from '../../../operator/dask/job-reconciler';
import { reconcileWorkerGroup } from '../../../operator/dask/worker-group-reconciler';
import type { DaskApi } from '../../../operator/dask/api';
import type { DaskCluster } from '../../../lib/schema/generated/types';
import { dropNulls } from '../../../lib/validation/crd-schema';
import { loadYaml } from '../../support/yaml';
import { FakeWorld, fakeScheduler, rc } from './fake';

const NS = 'ns';
const GROUP = 'kubernetes.dask.org';
/** What the operator's informers read (operator/dask/operator.ts), by API group. */
const INFORMED: Array<[string, string]> = [[GROUP, 'daskclusters'], [GROUP, 'daskworkergroups'], [GROUP, 'daskautoscalers'], [GROUP, 'daskjobs'], ['', 'pods'], ['', 'services']];
const groupOf = (resource: string): string => (resource.startsWith('pods') || resource.startsWith('services') ? '' : GROUP);
const key = (group: string, resource: string, verb: string): string => `${group}/${resource}:${verb}`;

const scheduler = fakeScheduler;

/** Runs the reconcilers through their write paths and returns every (group, resource, verb) they used. */
async function usedByReconcilers(): Promise<Set<string>> {
  const used = new Set<string>();
  const worlds: FakeWorld[] = [];
  const ctxOf = (w: FakeWorld, options = {}) => {
    worlds.push(w);
    const base = w.context(options);
    const api: DaskApi = { ...w.api, get: async (ref) => (used.add(key(groupOf(ref.plural), ref.plural, 'get')), w.api.get(ref)) };
    return { ...base, api };
  };
  const seed = (): DaskCluster => {
    const c = dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0]) as unknown as DaskCluster;
    c.metadata = { name: 'my-cluster', namespace: NS, uid: 'cluster-uid', generation: 1 };
    return c;
  };
  const req = (name: string) => ({ namespace: NS, name });

  // A cluster comes up, is scaled with kubectl scale daskcluster, loses its scheduler, scales down, idles out.
  const w = new FakeWorld();
  const c = seed();
  c.spec.worker.replicas = 2;
  c.spec.idleTimeout = 1;
  w.stores.daskclusters.put(c as never);
  for (let i = 0; i < 3; i++) {
    await reconcileCluster(ctxOf(w), req('my-cluster'), rc);
    await reconcileWorkerGroup(ctxOf(w), req('my-cluster-default'), rc);
    w.runAllPods();
  }
  w.stores.daskclusters.edit(NS, 'my-cluster', (o) => void ((o as unknown as DaskCluster).spec.worker.replicas = 1));
  await reconcileCluster(ctxOf(w), req('my-cluster'), rc);
  w.scheduler = scheduler({ workers: async () => { throw new Error('unreachable'); } });
  await reconcileWorkerGroup(ctxOf(w), req('my-cluster-default'), rc); // fallback: delete a worker Pod
  w.stores.pods.edit(NS, 'my-cluster-scheduler', (p) => void ((p as { status?: unknown }).status = { phase: 'Failed' }));
  await reconcileCluster(ctxOf(w), req('my-cluster'), rc); // replaces the scheduler Pod
  await reconcileCluster(ctxOf(w), req('my-cluster'), rc);
  w.runAllPods();
  w.scheduler = scheduler({ idleSince: async () => 1 });
  await reconcileCluster(ctxOf(w), req('my-cluster'), rc); // idle timeout: deletes the cluster

  // A user's worker group and autoscaler are adopted; the autoscaler scales the default group.
  const a = new FakeWorld();
  a.stores.daskclusters.put(seed() as never);
  for (let i = 0; i < 2; i++) {
    await reconcileCluster(ctxOf(a), req('my-cluster'), rc);
    a.runAllPods();
  }
  a.stores.daskworkergroups.put({ apiVersion: `${GROUP}/v1`, kind: 'DaskWorkerGroup', metadata: { name: 'extra', namespace: NS, uid: 'g2' }, spec: { cluster: 'my-cluster', worker: { replicas: 1, spec: { containers: [{ name: 'w', image: 'x' }] } } } } as never);
  await reconcileWorkerGroup(ctxOf(a), req('extra'), rc);
  a.stores.daskautoscalers.put({ apiVersion: `${GROUP}/v1`, kind: 'DaskAutoscaler', metadata: { name: 'my-cluster', namespace: NS, uid: 'as', generation: 1 }, spec: { cluster: 'my-cluster', minimum: 1, maximum: 5 } } as never);
  a.scheduler = scheduler({ adaptiveTarget: async () => 4 });
  await reconcileAutoscaler(ctxOf(a), req('my-cluster'), rc);

  // A child whose name is taken: the cluster reconciler reads it live on AlreadyExists.
  const t = new FakeWorld();
  t.stores.daskclusters.put(seed() as never);
  const taken = ctxOf(t);
  await reconcileCluster({ ...taken, api: { ...taken.api, create: async (plural, ns, body) => (plural === 'services' ? false : t.api.create(plural, ns, body)) } }, req('my-cluster'), rc);

  // A DaskJob runs to completion and, with ttlSecondsAfterFinished, is deleted.
  const j = new FakeWorld();
  j.stores.daskjobs.put({ apiVersion: `${GROUP}/v1`, kind: 'DaskJob', metadata: { name: 'nightly', namespace: NS, uid: 'job-uid', generation: 1 }, spec: { ttlSecondsAfterFinished: 0, job: { spec: { containers: [{ name: 'job', image: 'x' }] } }, cluster: { spec: seed().spec } } } as never);
  const runnerOf = () => (j.stores.daskjobs.get(NS, 'nightly') as { status?: { jobRunnerPodName?: string } } | undefined)?.status?.jobRunnerPodName;
  for (let i = 0; i < 3 && !(runnerOf() && j.stores.pods.get(NS, runnerOf() as string)); i++) await reconcileJob(ctxOf(j), req('nightly'), rc);
  j.stores.pods.edit(NS, runnerOf() as string, (p) => void ((p as { status?: unknown }).status = { phase: 'Succeeded' }));
  for (let i = 0; i < 3 && j.stores.daskjobs.get(NS, 'nightly'); i++) await reconcileJob(ctxOf(j), req('nightly'), rc);
  if (j.stores.daskjobs.get(NS, 'nightly')) throw new Error('the finished DaskJob with ttlSecondsAfterFinished: 0 was not deleted');

  const verbOf = { create: 'create', patch: 'patch', delete: 'delete' } as const;
  for (const world of worlds) {
    for (const wr of world.writes) {
      if (wr.op === 'status') used.add(key(groupOf(wr.plural), `${wr.plural}/status`, 'patch'));
      else used.add(key(groupOf(wr.plural), wr.plural, verbOf[wr.op]));
      for (const needed of ownerReferenceChecks(wr)) used.add(needed);
    }
  }
  return used;
}

/** Kind of an owner → its plural, for the finalizers subresource check. */
const PLURAL_OF: Record<string, string> = { DaskCluster: 'daskclusters', DaskWorkerGroup: 'daskworkergroups', DaskAutoscaler: 'daskautoscalers', DaskJob: 'daskjobs' };

/**
 * What the OwnerReferencesPermissionEnforcement admission plugin (run by hardened clusters, and by the test control
 * plane) checks on a write that sets ownerReferences: `delete` on the object itself when an existing object's
 * references change (a patch: adoption), and `update` on `<owner>/finalizers` for every reference with
 * blockOwnerDeletion.
 */
function ownerReferenceChecks(wr: { op: string; plural: string; body?: unknown }): string[] {
  if (wr.op !== 'create' && wr.op !== 'patch') return [];
  const refs = (wr.body as { metadata?: { ownerReferences?: { kind: string; blockOwnerDeletion?: boolean }[] } } | undefined)?.metadata?.ownerReferences;
  if (!refs) return [];
  const out = wr.op === 'patch' ? [key(groupOf(wr.plural), wr.plural, 'delete')] : [];
  for (const r of refs) {
    if (!r.blockOwnerDeletion) continue;
    const plural = PLURAL_OF[r.kind];
    if (!plural) throw new Error(`an owner reference to a ${r.kind}: add its plural to PLURAL_OF`);
    out.push(key(GROUP, `${plural}/finalizers`, 'update'));
  }
  return out;
}

/** HTTP method → RBAC verb, for what the runtime sends through KubeRest. */
const VERB: Record<string, string> = { GET: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/** The RBAC verbs of the requests `use` sends through a recording stand-in for KubeRest. */
async function restVerbs(use: (rest: KubeRest) => Promise<void>): Promise<Set<string>> {
  const verbs = new Set<string>();
  const rest = { request: async (method: string) => (verbs.add(VERB[method] ?? method), {}) } as unknown as KubeRest;
  await use(rest);
  return verbs;
}

async function eventSinkCalls(rest: KubeRest): Promise<void> {
  const sink = kubeEventSink(rest);
  await sink.create({ metadata: { namespace: NS, name: 'e' } } as never);
  await sink.patch(NS, 'e', { count: 2, lastTimestamp: 'x' } as never);
}

describe('operator RBAC', () => {
  test('the rules, as written down here (a change to them is a deliberate change to this test)', () => {
    expect(OPERATOR_RULES).toEqual([
      { apiGroups: [GROUP], resources: ['daskclusters'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
      { apiGroups: [GROUP], resources: ['daskworkergroups'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
      { apiGroups: [GROUP], resources: ['daskautoscalers'], verbs: ['get', 'list', 'watch', 'patch', 'delete'] },
      { apiGroups: [GROUP], resources: ['daskjobs'], verbs: ['get', 'list', 'watch', 'delete'] },
      { apiGroups: [GROUP], resources: ['daskclusters/status', 'daskworkergroups/status', 'daskautoscalers/status', 'daskjobs/status'], verbs: ['patch'] },
      { apiGroups: [GROUP], resources: ['daskclusters/finalizers', 'daskworkergroups/finalizers', 'daskjobs/finalizers'], verbs: ['update'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
      { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'create'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    ]);
  });

  test('grant exactly what the reconcilers, informers and Event recorder use: nothing missing, nothing extra', async () => {
    const used = await usedByReconcilers();
    for (const [g, r] of INFORMED) for (const verb of ['get', 'list', 'watch']) used.add(key(g, r, verb));
    for (const verb of await restVerbs((rest) => eventSinkCalls(rest))) used.add(key('', 'events', verb));
    const granted = new Set(OPERATOR_RULES.flatMap((rule) => rule.apiGroups.flatMap((g) => rule.resources.flatMap((r) => rule.verbs.map((v) => key(g, r, v))))));
    expect([...used].filter((k) => !granted.has(k)).sort()).toEqual([]); // used but not granted: the operator would get 403
    expect([...granted].filter((k) => !used.has(k)).sort()).toEqual([]); // granted but never used: not least privilege
  });

  test('leader election: exactly the verbs the Lease client sends', async () => {
    const verbs = await restVerbs(async (rest) => {
      const client = kubeLeaseClient(rest);
      const lease = { metadata: { name: 'l', namespace: 'ops', resourceVersion: '1' } };
      await client.get('ops', 'l');
      await client.create(lease);
      await client.replace(lease);
    });
    expect(LEADER_ELECTION_RULES).toEqual([{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: [...verbs] }]);
  });
});
