import { reconcileCluster } from '../../../operator/dask/cluster-reconciler';
import { computeRemovals, reconcileWorkerGroup } from '../../../operator/dask/worker-group-reconciler';
import { nextReplicas } from '../../../operator/dask/autoscaler-reconciler';
import type { DaskCluster, DaskWorkerGroup, Pod } from '../../../lib/schema/generated/types';
import { dropNulls } from '../../../lib/validation/crd-schema';
import { loadYaml } from '../../support/yaml';
import { FakeWorld, rc, fakeScheduler } from './fake';
import { KubeHttpError } from '../../../operator/runtime/rest';

const NS = 'ns';
const req = (name: string) => ({ namespace: NS, name });

function world(replicas = 3): { w: FakeWorld; cluster: DaskCluster } {
  const w = new FakeWorld();
  const cluster = dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0]) as unknown as DaskCluster;
  cluster.metadata = { name: 'my-cluster', namespace: NS, uid: 'cluster-uid', generation: 1 };
  cluster.spec.worker.replicas = replicas;
  w.stores.daskclusters.put(cluster as never);
  return { w, cluster };
}
const group = (w: FakeWorld): DaskWorkerGroup => w.stores.daskworkergroups.get(NS, 'my-cluster-default') as unknown as DaskWorkerGroup;
const editPod = (w: FakeWorld, name: string, fn: (p: Pod) => void): void => void w.stores.pods.edit(NS, name, fn as never);
const editGroup = (w: FakeWorld, fn: (g: DaskWorkerGroup) => void): void => void w.stores.daskworkergroups.edit(NS, 'my-cluster-default', fn as never);
const editCluster = (w: FakeWorld, fn: (c: DaskCluster) => void): void => void w.stores.daskclusters.edit(NS, 'my-cluster', fn as never);
const workers = (w: FakeWorld): Pod[] => (w.stores.pods.list(NS) as unknown as Pod[]).filter((p) => p.metadata.labels?.['dask.org/component'] === 'worker');

async function converge(w: FakeWorld, rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    await reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc);
    w.runAllPods();
  }
}

describe('DaskCluster reconciler', () => {
  test('writes phase Created first, then creates the Service, scheduler Pod and default group', async () => {
    const { w } = world();
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    expect(w.writes[0]).toEqual({ op: 'status', plural: 'daskclusters', name: 'my-cluster', body: { phase: 'Created', observedGeneration: 1 } });
    expect(w.writes.slice(1, 4).map((x) => `${x.op} ${x.plural} ${x.name}`)).toEqual([
      'create services my-cluster-scheduler', 'create pods my-cluster-scheduler', 'create daskworkergroups my-cluster-default',
    ]);
  });

  test('reaches Running/Ready with replicas and selector; a second pass writes nothing', async () => {
    const { w, cluster } = world();
    await converge(w);
    const status = (w.stores.daskclusters.get(NS, 'my-cluster') as unknown as DaskCluster).status;
    expect(status).toMatchObject({ phase: 'Running', replicas: 3, readyReplicas: 3, selector: 'dask.org/workergroup-name=my-cluster-default,dask.org/component=worker' });
    expect(status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    const before = w.writes.length;
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    await reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc);
    expect(w.writes.slice(before)).toEqual([]);
    void cluster;
  });

  test('invalid name: phase Error, Warning Event, nothing created', async () => {
    const w = new FakeWorld();
    const c = dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0]) as unknown as DaskCluster;
    c.metadata = { name: 'my.cluster', namespace: NS, uid: 'u', generation: 1 };
    w.stores.daskclusters.put(c as never);
    await reconcileCluster(w.context(), req('my.cluster'), rc);
    expect(w.writes.filter((x) => x.op === 'create')).toEqual([]);
    expect((w.stores.daskclusters.get(NS, 'my.cluster') as unknown as DaskCluster).status?.phase).toBe('Error');
    expect(w.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'InvalidName' })]);
  });

  test('a deleted or finished scheduler Pod is replaced', async () => {
    const { w } = world(1);
    await converge(w);
    editPod(w, 'my-cluster-scheduler', (p) => void (p.status = { phase: 'Failed' }));
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    expect(w.stores.pods.get(NS, 'my-cluster-scheduler')).toBeUndefined();
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    expect(w.stores.pods.get(NS, 'my-cluster-scheduler')).toBeDefined();
  });

  test('a scheduler that cannot start: phase stays Pending, SchedulerReady quotes the kubelet, one Warning Event with the hint', async () => {
    const { w } = world(1);
    await converge(w);
    editPod(w, 'my-cluster-scheduler', (sched) => {
    sched.status = {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False' }],
      containerStatuses: [{
        name: 'scheduler',
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=scheduler' } },
        lastState: { terminated: { exitCode: 128, reason: 'StartError', message: 'exec: "dask-scheduler": executable file not found in $PATH: unknown' } },
      }],
    };
    (sched.spec.containers[0] as { args?: string[] }).args = ['dask-scheduler', '--host', '0.0.0.0'];
    });
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    const status = (w.stores.daskclusters.get(NS, 'my-cluster') as unknown as DaskCluster).status;
    expect(status?.phase).toBe('Pending');
    const cond = status?.conditions?.find((c) => c.type === 'SchedulerReady');
    expect(cond).toMatchObject({ status: 'False', reason: 'StartError' });
    expect(cond?.message).toContain('executable file not found');
    expect(status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'SchedulerFailed' });
    const events = w.events.filter((e) => e.reason === 'SchedulerFailed');
    expect(events).toHaveLength(1);
    expect(events[0].type).toBe('Warning');
    expect(events[0].message).toContain('removed the `dask-scheduler` command');
  });

  test('worker containers that cannot start: the group says so (ContainersHealthy=False, Warning Event), and so does the cluster', async () => {
    const { w } = world(2);
    await converge(w);
    for (const w0 of workers(w)) {
      editPod(w, w0.metadata.name as string, (p) => {
        p.status = {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'False' }],
          containerStatuses: [{ name: 'worker', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off' } }, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }],
        };
      });
    }
    await reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc);
    await reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc);
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    const g = group(w);
    expect(g.status?.conditions?.find((c) => c.type === 'ContainersHealthy')).toMatchObject({ status: 'False', reason: 'OOMKilled' });
    expect(g.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'WorkersFailed' });
    expect(w.events.filter((e) => e.reason === 'WorkerFailed' && e.type === 'Warning')).toHaveLength(1);
    const status = (w.stores.daskclusters.get(NS, 'my-cluster') as unknown as DaskCluster).status;
    expect(status?.conditions?.find((c) => c.type === 'WorkersReady')).toMatchObject({ status: 'False', reason: 'OOMKilled' });
    expect(status?.phase).toBe('Running');
  });

  test('a Service with the scheduler\'s name that the cluster does not control is left alone (condition NameTaken)', async () => {
    const { w } = world(1);
    w.stores.services.put({ metadata: { name: 'my-cluster-scheduler', namespace: NS, uid: 'foreign' }, spec: {} } as never);
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    expect(w.writes.filter((x) => x.plural === 'services')).toEqual([]);
    const conds = (w.stores.daskclusters.get(NS, 'my-cluster') as unknown as DaskCluster).status?.conditions ?? [];
    expect(conds.find((c) => c.type === 'ComponentsHealthy')).toMatchObject({ status: 'False', reason: 'NameTaken' });
  });

  test('a foreign object the cache cannot see (no cluster label) is found by a live read on AlreadyExists: NameTaken + Event; a lagging cache of our own is not', async () => {
    const { w } = world(1);
    const foreign = { metadata: { name: 'my-cluster-scheduler', namespace: NS, uid: 'foreign' }, spec: {} };
    const base = w.context();
    // The Service exists on the server but not in the (label-selected) cache.
    const ctx = { ...base, api: { ...w.api, create: async (plural: string, ns: string, body: object) => (plural === 'services' ? false : w.api.create(plural as never, ns, body)), get: async () => foreign } };
    await reconcileCluster(ctx, req('my-cluster'), rc);
    const conds = (w.stores.daskclusters.get(NS, 'my-cluster') as unknown as DaskCluster).status?.conditions ?? [];
    expect(conds.find((c) => c.type === 'ComponentsHealthy')).toMatchObject({ status: 'False', reason: 'NameTaken', message: expect.stringContaining('Service my-cluster-scheduler') });
    expect(w.events.filter((e) => e.reason === 'NameTaken')).toHaveLength(1);
    await reconcileCluster(ctx, req('my-cluster'), rc);
    expect(w.events.filter((e) => e.reason === 'NameTaken')).toHaveLength(1); // once per transition

    // Our own Service, just created but not in the cache yet: AlreadyExists is not a problem.
    const w2 = world(1).w;
    const cluster = w2.stores.daskclusters.get(NS, 'my-cluster') as unknown as DaskCluster;
    const ours = { metadata: { name: 'my-cluster-scheduler', uid: 'ours', ownerReferences: [{ uid: cluster.metadata.uid as string, controller: true }] } };
    const ctx2 = { ...w2.context(), api: { ...w2.api, create: async (plural: string, ns: string, body: object) => (plural === 'services' ? false : w2.api.create(plural as never, ns, body)), get: async () => ours } };
    await reconcileCluster(ctx2, req('my-cluster'), rc);
    const conds2 = (w2.stores.daskclusters.get(NS, 'my-cluster') as unknown as DaskCluster).status?.conditions ?? [];
    expect(conds2.find((c) => c.type === 'ComponentsHealthy')).toBeUndefined();
    expect(w2.events.filter((e) => e.reason === 'NameTaken')).toEqual([]);
  });

  test('kubectl scale daskcluster propagates to the default group; scaling the group directly sticks', async () => {
    const { w, cluster } = world(3);
    await converge(w);
    editGroup(w, (g) => void (g.spec!.worker.replicas = 5));
    await converge(w);
    expect(group(w).spec?.worker.replicas).toBe(5);
    expect(workers(w)).toHaveLength(5);
    editCluster(w, (c) => void (c.spec.worker.replicas = 2));
    await converge(w);
    expect(group(w).spec?.worker.replicas).toBe(2);
  });
});

describe('DaskWorkerGroup reconciler', () => {
  test('scale-up creates exactly the missing Pods even when the cache lags (expectations)', async () => {
    const { w } = world(5);
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    w.applyCreates = false;
    await reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc);
    await reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc);
    expect(w.writesOf('create', 'pods').filter((x) => x.name.includes('-worker-'))).toHaveLength(5);
  });

  test('scale-up goes in batches of --create-batch-size: each pass creates at most that many and comes back at once until the group is full', async () => {
    const { w } = world(7);
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    const ctx = w.context({ createBatchSize: 3 });
    const seen: { created: number; result: unknown }[] = [];
    for (let i = 0; i < 3; i++) {
      const result = await reconcileWorkerGroup(ctx, req('my-cluster-default'), rc);
      seen.push({ created: w.writesOf('create', 'pods').filter((x) => x.name.includes('-worker-')).length, result });
    }
    expect(seen).toEqual([
      { created: 3, result: { requeueAfter: 0 } },
      { created: 6, result: { requeueAfter: 0 } },
      { created: 7, result: undefined },
    ]);
  });

  test('worker Pods: names, owner, env', async () => {
    const { w } = world(2);
    await converge(w);
    for (const p of workers(w)) {
      expect(p.metadata.name).toMatch(/^my-cluster-default-worker-[0-9a-f]{10}$/);
      expect(p.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'DaskWorkerGroup', name: 'my-cluster-default', controller: true });
      expect(p.spec.containers[0].env).toContainEqual({ name: 'DASK_WORKER_NAME', value: p.metadata.name });
    }
  });

  test('finished worker Pods are replaced', async () => {
    const { w } = world(2);
    await converge(w);
    const victim = workers(w)[0];
    editPod(w, victim.metadata.name as string, (p) => void (p.status = { phase: 'Failed' }));
    await converge(w);
    expect(workers(w).map((p) => p.metadata.name)).not.toContain(victim.metadata.name);
    expect(workers(w)).toHaveLength(2);
  });

  test('a worker Pod delete that fails (a 500, a lost answer) leaves the Pod counted: the next run deletes it again', async () => {
    const { w } = world(3);
    await converge(w);
    editGroup(w, (g) => void (g.spec!.worker.replicas = 0));
    const realDelete = w.api.delete;
    let refused = 0;
    w.api.delete = async (ref, opts) => {
      if (ref.plural === 'pods' && refused++ === 0) throw new KubeHttpError(500, 'DELETE', ref.name, '', { kind: 'Status', code: 500, reason: 'InternalError' });
      return realDelete(ref, opts);
    };
    await expect(reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc)).rejects.toThrow(/HTTP 500/);
    expect(workers(w)).toHaveLength(1);
    // The retry (the work queue's backoff) finds the survivor live and deletes it; it does not wait out the expectation.
    await reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc);
    expect(workers(w)).toEqual([]);
    await reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc); // the deletion's watch event
    expect(group(w).status?.replicas).toBe(0);
  });

  test('a failed worker Pod create stops the batch and the run returns only once the creates it started have settled', async () => {
    const { w } = world(0);
    await converge(w);
    editGroup(w, (g) => void (g.spec!.worker.replicas = 20));
    const realCreate = w.api.create;
    let calls = 0;
    let inFlight = 0;
    w.api.create = async (plural, ns, body) => {
      if (plural !== 'pods') return realCreate(plural, ns, body);
      const n = calls++;
      inFlight++;
      try {
        await new Promise((r) => setTimeout(r, n === 0 ? 1 : 20));
        if (n === 0) throw new KubeHttpError(500, 'POST', 'pods', '', { kind: 'Status', code: 500, reason: 'InternalError' });
        return await realCreate(plural, ns, body);
      } finally {
        inFlight--;
      }
    };
    await expect(reconcileWorkerGroup(w.context({ createParallelism: 4 }), req('my-cluster-default'), rc)).rejects.toThrow(/HTTP 500/);
    expect(inFlight).toBe(0);
    // The three other lanes finished the creates they had started and took nothing more.
    expect(calls).toBe(4);
    expect(workers(w)).toHaveLength(3);
    w.api.create = realCreate;
    await converge(w);
    expect(workers(w)).toHaveLength(20);
  });

  test('a worker Pod created with its answer lost (500 after the write) is asked about, not created twice; a 429 is not', async () => {
    const { w } = world(0);
    await converge(w);
    editGroup(w, (g) => void (g.spec!.worker.replicas = 3));
    const realCreate = w.api.create;
    const realGet = w.api.get;
    const onServer = new Set<string>();
    let n = 0;
    // The first create reaches the API server but its answer is lost, and the cache has not seen the Pod yet.
    w.api.create = async (plural, ns, body) => {
      if (plural !== 'pods' || n++ > 0) return realCreate(plural, ns, body);
      onServer.add((body as { metadata: { name: string } }).metadata.name);
      throw new KubeHttpError(500, 'POST', 'pods', '', { kind: 'Status', code: 500, reason: 'InternalError' });
    };
    w.api.get = async (ref) => (ref.plural === 'pods' && onServer.has(ref.name) ? { metadata: { name: ref.name } } : realGet(ref));
    await expect(reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc)).rejects.toThrow(/HTTP 500/);
    expect(workers(w)).toHaveLength(2);
    await reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc);
    expect(w.writesOf('create', 'pods').filter((x) => x.name.includes('-worker-'))).toHaveLength(2); // nothing more
    // A 429 is refused before the API server does anything: that Pod is missing and made again at once.
    editGroup(w, (g) => void (g.spec!.worker.replicas = 4));
    w.api.create = async () => {
      throw new KubeHttpError(429, 'POST', 'pods', '', { kind: 'Status', code: 429, reason: 'TooManyRequests' });
    };
    await expect(reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc)).rejects.toThrow(/HTTP 429/);
    w.api.create = realCreate;
    await reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc);
    expect(workers(w)).toHaveLength(3); // 2 + 1: the lost one is still only expected (on the server, not in the cache)
  });

  test('scale-down removes Pending Pods first, newest first', async () => {
    const { w } = world(3);
    await converge(w);
    editGroup(w, (g) => void (g.spec!.worker.replicas = 5));
    await reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc); // two new Pods, still Pending
    const pending = workers(w).filter((p) => !p.status).map((p) => p.metadata.name);
    expect(pending).toHaveLength(2);
    editGroup(w, (g) => void (g.spec!.worker.replicas = 3));
    await reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc);
    expect(w.writesOf('delete', 'pods').map((x) => x.name).sort()).toEqual(pending.sort());
    expect(w.events.filter((e) => e.type === 'Warning')).toEqual([]);
  });

  test('graceful scale-down: retires through the scheduler and deletes exactly the retired Pods (by name, then by IP)', async () => {
    const { w } = world(4);
    await converge(w);
    const pods = workers(w);
    const retiredByName = pods[1];
    const retiredByIp = pods[2];
    const asked: unknown[] = [];
    w.scheduler = fakeScheduler({
      workers: async () => pods.map((p) => ({ name: p.metadata.name as string, address: `tcp://${p.status?.podIP}:1`, host: p.status?.podIP as string })),
      workersToClose: async () => [retiredByName.metadata.name as string, retiredByIp.metadata.name as string],
      retireWorkers: async (r) => {
        asked.push(r);
        return {
          retired: [
            { name: retiredByName.metadata.name as string, address: 'tcp://x:1', host: 'x' },
            { name: 'renamed-by-user', address: `tcp://${retiredByIp.status?.podIP}:1`, host: retiredByIp.status?.podIP as string },
          ],
          notRetired: [],
          confirmedBy: 'reply',
        };
      },
    });
    editGroup(w, (g) => void (g.spec!.worker.replicas = 2));
    await reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc);
    expect(asked).toEqual([{ names: [retiredByName.metadata.name, retiredByIp.metadata.name] }]);
    expect(w.writesOf('delete', 'pods').map((x) => x.name).sort()).toEqual([retiredByName.metadata.name, retiredByIp.metadata.name].sort());
    expect(w.events).toContainEqual(expect.objectContaining({ type: 'Normal', reason: 'WorkersRetired' }));
  });

  test('scheduler unreachable: fallback deletes newest first and says so; with "wait" it keeps the Pods', async () => {
    const { w } = world(3);
    await converge(w);
    const refused = async (): Promise<never> => { throw new Error('connect ECONNREFUSED'); };
    w.scheduler = fakeScheduler({ workers: refused, workersToClose: refused, retireWorkers: refused });
    editGroup(w, (g) => void (g.spec!.worker.replicas = 2));
    const waitWorld = w.context({ scaleDownFallback: 'wait' });
    const r = await reconcileWorkerGroup(waitWorld, req('my-cluster-default'), rc);
    expect(w.writesOf('delete', 'pods')).toEqual([]);
    expect(r).toEqual({ requeueAfter: 15_000 });
    expect(w.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'RetireFailed' }));
    const newest = [...workers(w)].sort((a, b) => (a.metadata.creationTimestamp! < b.metadata.creationTimestamp! ? 1 : -1))[0];
    await reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc);
    expect(w.writesOf('delete', 'pods').map((x) => x.name)).toEqual([newest.metadata.name]);
    expect(w.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'WorkersDeletedWithoutRetirement' }));
  });

  test('missing cluster: condition ClusterFound=False and a Warning Event, nothing created', async () => {
    const w = new FakeWorld();
    w.stores.daskworkergroups.put({ apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskWorkerGroup', metadata: { name: 'orphan', namespace: NS, uid: 'g', generation: 1 }, spec: { cluster: 'nope', worker: { replicas: 2, spec: { containers: [{ name: 'w', image: 'x' }] } } } } as never);
    await reconcileWorkerGroup(w.context(), req('orphan'), rc);
    expect(w.writes.filter((x) => x.op === 'create')).toEqual([]);
    expect(w.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'ClusterNotFound' })]);
    const g = w.stores.daskworkergroups.get(NS, 'orphan') as unknown as DaskWorkerGroup;
    expect(g.status?.conditions?.find((c) => c.type === 'ClusterFound')).toMatchObject({ status: 'False', reason: 'ClusterNotFound' });
  });

  test('a Pod spec the API server rejects: condition and Warning Event with its message, no crash', async () => {
    const { w } = world(2);
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    w.rejectPodCreate = 'spec.containers[0].env[0].name: Invalid value: "1BAD"';
    const r = await reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc);
    expect(r).toEqual({ requeueAfter: 30_000 });
    expect(w.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'CreateFailed', message: expect.stringContaining('Invalid value: "1BAD"') }));
    expect(group(w).status?.conditions?.find((c) => c.type === 'PodsCreated')).toMatchObject({ status: 'False', reason: 'CreateFailed' });
  });

  test('template change rolls out: fresh Pods first (25% surge), stale ones retired as fresh ones run', async () => {
    const { w } = world(4);
    await converge(w);
    const old = workers(w).map((p) => p.metadata.name);
    editGroup(w, (g) => void (g.spec!.worker.spec.containers[0].image = 'ghcr.io/dask/dask:2026.8.0'));
    await reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc);
    expect(workers(w)).toHaveLength(5); // one extra (25% of 4)
    for (let i = 0; i < 12; i++) {
      w.runAllPods();
      await reconcileWorkerGroup(w.context(), req('my-cluster-default'), rc);
    }
    const now = workers(w);
    expect(now).toHaveLength(4);
    expect(now.every((p) => p.spec.containers[0].image === 'ghcr.io/dask/dask:2026.8.0')).toBe(true);
    expect(now.some((p) => old.includes(p.metadata.name))).toBe(false);
  });
});

describe('pure helpers', () => {
  test('autoscaler target: clamp, then at most 25% down per step', () => {
    expect(nextReplicas(10, 50, 1, 20)).toBe(20);
    expect(nextReplicas(10, 0, 1, 20)).toBe(8);
    expect(nextReplicas(2, 0, 0, 20)).toBe(1);
    expect(nextReplicas(0, 3, 1, 20)).toBe(3);
    expect(nextReplicas(5, 5, 6, 20)).toBe(6);
  });
  test('computeRemovals keeps at least `desired` running during a rollout', () => {
    const pod = (name: string, running: boolean): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, creationTimestamp: name }, spec: { containers: [] }, ...(running ? { status: { phase: 'Running' as const } } : {}) });
    const r = computeRemovals([pod('f1', true), pod('f2', false)], [pod('s1', true), pod('s2', true), pod('s3', false)], 3, 0);
    expect(r.pending.map((p) => p.metadata.name)).toEqual(['s3']);
    expect(r.running).toEqual([]); // f1, s1, s2 run: exactly desired, so no running stale Pod goes yet
    expect(r.chooseCount).toBe(0);
    const later = computeRemovals([pod('f1', true), pod('f2', true)], [pod('s1', true), pod('s2', true)], 3, 0);
    expect(later.running.map((p) => p.metadata.name)).toEqual(['s2']); // 4 running: the newest stale one goes
  });
});

describe('scheduler updateStrategy', () => {
  async function changedTemplate(strategy: 'OnDelete' | 'Recreate' | undefined): Promise<{ w: FakeWorld; before: Pod }> {
    const { w } = world(1);
    if (strategy) editCluster(w, (c) => void (c.spec.scheduler.updateStrategy = strategy));
    await converge(w);
    const before = w.stores.pods.get(NS, 'my-cluster-scheduler') as unknown as Pod;
    editCluster(w, (c) => void (c.spec.scheduler.spec.containers[0].env = [{ name: 'NEW', value: '1' }]));
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    return { w, before };
  }

  test('OnDelete (the default): a changed scheduler template leaves the running scheduler alone', async () => {
    for (const strategy of [undefined, 'OnDelete'] as const) {
      const { w, before } = await changedTemplate(strategy);
      expect(w.stores.pods.get(NS, 'my-cluster-scheduler')).toBe(before);
      expect(w.events.map((e) => e.reason)).not.toContain('SchedulerRecreated');
    }
  });

  test('Recreate: a changed scheduler template replaces the scheduler Pod with a Warning Event; workers are untouched', async () => {
    const { w } = await changedTemplate('Recreate');
    const workersBefore = workers(w).map((p) => p.metadata.uid);
    expect(w.stores.pods.get(NS, 'my-cluster-scheduler')).toBeUndefined();
    expect(w.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'SchedulerRecreated', message: expect.stringContaining('in memory') }));
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    const fresh = w.stores.pods.get(NS, 'my-cluster-scheduler') as unknown as Pod;
    expect(fresh.spec.containers[0].env).toContainEqual({ name: 'NEW', value: '1' });
    expect(workers(w).map((p) => p.metadata.uid)).toEqual(workersBefore);
    // Unchanged template: nothing more happens.
    w.runAllPods();
    const n = w.events.length;
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    expect(w.stores.pods.get(NS, 'my-cluster-scheduler')?.metadata.uid).toBe(fresh.metadata.uid);
    expect(w.events.slice(n).map((e) => e.reason)).not.toContain('SchedulerRecreated');
  });
});

describe('idleAction', () => {
  const T = new Date('2026-11-26T12:00:00Z').getTime() / 1000;
  async function idleWorld(action: 'Delete' | 'ScaleToZero' | undefined, autoscaler = false): Promise<{ w: FakeWorld; state: { since: number | null; target: number } }> {
    const { w, cluster } = world(3);
    editCluster(w, (c) => {
      c.spec.idleTimeout = 60;
      if (action) c.spec.idleAction = action;
    });
    const state = { since: T - 120 as number | null, target: 0 };
    w.scheduler = fakeScheduler({ idleSince: async () => state.since, adaptiveTarget: async () => state.target });
    w.stores.daskworkergroups.put({ apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskWorkerGroup', metadata: { name: 'my-cluster-gpu', namespace: NS, uid: 'g2' }, spec: { cluster: 'my-cluster', worker: { replicas: 2, spec: cluster.spec.worker.spec } } } as never);
    if (autoscaler) w.stores.daskautoscalers.put({ apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskAutoscaler', metadata: { name: 'my-cluster', namespace: NS, uid: 'a' }, spec: { cluster: 'my-cluster', minimum: 1, maximum: 5 } } as never);
    state.since = null;
    await converge(w);
    state.since = T - 120;
    return { w, state };
  }
  const replicas = (w: FakeWorld, g: string) => (w.stores.daskworkergroups.get(NS, g) as unknown as DaskWorkerGroup).spec?.worker.replicas;
  const idleCondition = (w: FakeWorld) => (w.stores.daskclusters.get(NS, 'my-cluster') as unknown as DaskCluster).status?.conditions?.find((c) => c.type === 'Idle');

  test('Delete (the default): an idle cluster is deleted', async () => {
    const { w } = await idleWorld(undefined);
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    expect(w.stores.daskclusters.get(NS, 'my-cluster')).toBeUndefined();
    expect(w.events.map((e) => e.reason)).toContain('IdleTimeout');
  });

  test('ScaleToZero: every worker group goes to 0 once, the scheduler stays; work arriving restores them', async () => {
    const { w, state } = await idleWorld('ScaleToZero');
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    expect(w.stores.daskclusters.get(NS, 'my-cluster')).toBeDefined();
    expect(w.stores.pods.get(NS, 'my-cluster-scheduler')).toBeDefined();
    expect([replicas(w, 'my-cluster-default'), replicas(w, 'my-cluster-gpu')]).toEqual([0, 0]);
    expect(idleCondition(w)).toMatchObject({ status: 'True', reason: 'ScaledToZero' });
    expect(w.events).toContainEqual(expect.objectContaining({ reason: 'ScaledToZero', message: expect.stringContaining('my-cluster-default (3 → 0), my-cluster-gpu (2 → 0)') }));
    // Still idle: nothing more; a user scaling up meanwhile is not undone.
    await w.api.patch({ plural: 'daskworkergroups', namespace: NS, name: 'my-cluster-gpu' }, { spec: { worker: { replicas: 1 } } });
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    expect(replicas(w, 'my-cluster-gpu')).toBe(1);
    // The idle period restarting without work wanted (the last workers' data changing state) does not wake it.
    state.since = T - 5;
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    expect(idleCondition(w)?.status).toBe('True');
    // Work arrives: the scheduler wants workers.
    state.since = null;
    state.target = 4;
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    expect([replicas(w, 'my-cluster-default'), replicas(w, 'my-cluster-gpu')]).toEqual([3, 1]);
    expect(idleCondition(w)).toMatchObject({ status: 'False', reason: 'WorkArrived' });
    expect((w.stores.daskworkergroups.get(NS, 'my-cluster-default') as unknown as DaskWorkerGroup).metadata.annotations?.['kubernetes.dask.org/replicas-before-idle']).toBeUndefined();
  });

  test('ScaleToZero with a DaskAutoscaler: the default group is left to the autoscaler when work arrives', async () => {
    const { w, state } = await idleWorld('ScaleToZero', true);
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    expect(replicas(w, 'my-cluster-default')).toBe(0);
    state.since = null;
    state.target = 4;
    await reconcileCluster(w.context(), req('my-cluster'), rc);
    expect(replicas(w, 'my-cluster-default')).toBe(0);
    expect(replicas(w, 'my-cluster-gpu')).toBe(2);
    expect(w.events).toContainEqual(expect.objectContaining({ reason: 'IdleEnded', message: expect.stringContaining('my-cluster-default (back to its DaskAutoscaler)') }));
  });
});
