/**
 * The Dask operator (a separate `node build/.../operator/main.js` process, watching only this file's namespace)
 * against the full-tier control plane: the seed's DaskCluster yields the seed's `kubectl get all` shape; kubectl
 * scale on the worker group and on the cluster; self-healing of worker and scheduler Pods (deleted or Failed);
 * a pod-template change rolls out; `kubectl delete daskcluster` removes every child through the garbage collector
 * while the operator is stopped.
 */
import { kubectl, kubectlJson, withNamespace } from './support';
import { eventually } from './support/eventually';
import {
  apply, condition, controllerOf, events, getObj, isLive, isRunning, listObjs, Obj, PodObj, SEED_AUTOSCALER_FILE, SEED_CLUSTER_FILE, withOperator, workerPods,
} from './support/dask';

jest.setTimeout(120_000);

const ns = withNamespace('operator');
const op = withOperator(ns);
const WORKER_NAME = /^my-cluster-default-worker-[0-9a-f]{10}$/;

async function liveWorkers(group: string): Promise<PodObj[]> {
  return (await workerPods(ns.name, group)).filter(isLive);
}

/** Waits until the group has exactly `n` live worker Pods, all Running, and nothing terminating. */
function settledWorkers(group: string, n: number, timeoutMs = 60_000): Promise<PodObj[]> {
  return eventually(() => workerPods(ns.name, group), {
    describe: `${group} to have exactly ${n} Running workers and none terminating`,
    until: (pods) => pods.length === n && pods.every(isRunning),
    timeoutMs,
  });
}

describe('Dask operator on the full tier', () => {
  op.it('the seed DaskCluster yields the seed `kubectl get all` shape, status, env, labels and owners', async () => {
    await kubectl(['apply', '-n', ns.name, '-f', SEED_CLUSTER_FILE]);
    const all = await eventually(() => kubectlJson<{ items: PodObj[] }>(['get', 'all', '-n', ns.name, '-l', 'dask.org/cluster-name=my-cluster', '-o', 'json']), {
      describe: 'one scheduler pod, 3 Running workers and one Service',
      until: ({ items }) => {
        const pods = items.filter((i) => i.kind === 'Pod');
        return pods.length === 4 && pods.every(isRunning) && items.filter((i) => i.kind === 'Service').length === 1;
      },
      timeoutMs: 60_000,
    });
    const kinds = all.items.map((i) => i.kind).sort();
    expect(kinds).toEqual(['Pod', 'Pod', 'Pod', 'Pod', 'Service']);
    const pods = all.items.filter((i) => i.kind === 'Pod');
    const names = pods.map((p) => p.metadata.name);
    expect(names).toContain('my-cluster-scheduler');
    const workers = pods.filter((p) => p.metadata.name !== 'my-cluster-scheduler');
    expect(workers).toHaveLength(3);
    for (const w of workers) expect(w.metadata.name).toMatch(WORKER_NAME);
    const svc = all.items.find((i) => i.kind === 'Service') as unknown as Obj;
    expect(svc.metadata.name).toBe('my-cluster-scheduler');
    expect((svc.spec.ports as { port: number; protocol: string }[]).map((p) => `${p.port}/${p.protocol}`)).toEqual(['8786/TCP', '8787/TCP']);
    expect(svc.spec.type).toBe('ClusterIP');

    // The human-readable listing has the same shape.
    const table = (await kubectl(['get', 'all', '-n', ns.name, '-l', 'dask.org/cluster-name=my-cluster'])).stdout;
    expect(table).toMatch(/pod\/my-cluster-scheduler\s+1\/1\s+Running/);
    expect(table.match(/pod\/my-cluster-default-worker-[0-9a-f]{10}\s+1\/1\s+Running/g)).toHaveLength(3);
    expect(table).toMatch(/service\/my-cluster-scheduler\s+ClusterIP\s+\S+\s+<none>\s+8786\/TCP,8787\/TCP/);

    // Status through the status subresource.
    const cluster = await eventually(() => getObj(ns.name, 'daskcluster', 'my-cluster'), {
      describe: 'DaskCluster status Running / Ready / 3 of 3',
      until: (c) => c?.status?.phase === 'Running' && condition(c, 'Ready')?.status === 'True' && c.status.replicas === 3 && c.status.readyReplicas === 3,
    });
    expect(cluster?.status.observedGeneration).toBe(cluster?.metadata.generation);
    expect(condition(cluster, 'SchedulerReady')?.status).toBe('True');
    expect(condition(cluster, 'WorkersReady')?.status).toBe('True');
    expect(cluster?.status.selector).toBe('dask.org/workergroup-name=my-cluster-default,dask.org/component=worker');
    const clusterUid = cluster?.metadata.uid;

    // Env injection: user env first and kept, then DASK_WORKER_NAME = Pod name and DASK_SCHEDULER_ADDRESS.
    const address = `tcp://my-cluster-scheduler.${ns.name}.svc.cluster.local:8786`;
    const group = await getObj(ns.name, 'daskworkergroup', 'my-cluster-default');
    expect(group).toBeDefined();
    expect(controllerOf(group as Obj)).toMatchObject({ kind: 'DaskCluster', name: 'my-cluster', uid: clusterUid, blockOwnerDeletion: true });
    for (const w of workers) {
      expect(w.spec.containers[0].env).toEqual([
        { name: 'FOO', value: 'bar' },
        { name: 'DASK_WORKER_NAME', value: w.metadata.name },
        { name: 'DASK_SCHEDULER_ADDRESS', value: address },
      ]);
      expect(w.metadata.labels).toMatchObject({
        'dask.org/cluster-name': 'my-cluster',
        'dask.org/workergroup-name': 'my-cluster-default',
        'dask.org/component': 'worker',
      });
      expect(w.metadata.ownerReferences).toEqual([
        expect.objectContaining({ apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskWorkerGroup', name: 'my-cluster-default', uid: group?.metadata.uid, controller: true }),
      ]);
    }
    const scheduler = pods.find((p) => p.metadata.name === 'my-cluster-scheduler') as PodObj;
    expect(scheduler.metadata.labels).toMatchObject({ 'dask.org/cluster-name': 'my-cluster', 'dask.org/component': 'scheduler' });
    expect(scheduler.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'DaskCluster', name: 'my-cluster', uid: clusterUid, controller: true })]);
    expect(scheduler.spec.containers[0].env?.[0]).toEqual({ name: 'FOO', value: 'bar' });
    expect(svc.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'DaskCluster', name: 'my-cluster', uid: clusterUid, controller: true })]);
    expect(svc.spec.selector).toEqual({ 'dask.org/cluster-name': 'my-cluster', 'dask.org/component': 'scheduler' });
  });

  op.it('kubectl scale on the worker group and on the cluster; the scale subresource reports replicas and selector', async () => {
    await kubectl(['scale', '-n', ns.name, '--replicas=5', 'daskworkergroup', 'my-cluster-default']);
    await settledWorkers('my-cluster-default', 5);
    await eventually(() => getObj(ns.name, 'daskcluster', 'my-cluster'), {
      describe: 'cluster status to count 5 workers',
      until: (c) => c?.status?.replicas === 5 && c.status.readyReplicas === 5,
    });

    await kubectl(['scale', '-n', ns.name, 'daskcluster', 'my-cluster', '--replicas=2']);
    const pods = await settledWorkers('my-cluster-default', 2);
    for (const p of pods) expect(p.metadata.name).toMatch(WORKER_NAME);
    const group = await getObj(ns.name, 'daskworkergroup', 'my-cluster-default');
    expect(group?.spec.worker.replicas).toBe(2);

    const path = (plural: string, name: string) => `/apis/kubernetes.dask.org/v1/namespaces/${ns.name}/${plural}/${name}/scale`;
    const selector = 'dask.org/workergroup-name=my-cluster-default,dask.org/component=worker';
    for (const [plural, name] of [['daskclusters', 'my-cluster'], ['daskworkergroups', 'my-cluster-default']]) {
      const scale = await eventually(() => kubectlJson<{ kind: string; spec: { replicas: number }; status: { replicas: number; selector: string } }>(['get', '--raw', path(plural, name)]), {
        describe: `${plural}/${name}/scale to report 2 replicas`,
        until: (s) => s.status.replicas === 2,
      });
      expect(scale).toMatchObject({ kind: 'Scale', spec: { replicas: 2 }, status: { replicas: 2, selector } });
    }
    // The selector of the scale subresource selects exactly the group's workers.
    const selected = (await listObjs<PodObj>(ns.name, 'pods', selector)).filter(isLive);
    expect(selected.map((p) => p.metadata.name).sort()).toEqual(pods.map((p) => p.metadata.name).sort());
    await eventually(() => getObj(ns.name, 'daskcluster', 'my-cluster'), {
      describe: 'cluster Ready with 2 workers',
      until: (c) => c?.status?.replicas === 2 && c.status.readyReplicas === 2 && condition(c, 'Ready')?.status === 'True',
    });
  });

  op.it('a deleted worker Pod and a deleted scheduler Pod come back', async () => {
    const before = await settledWorkers('my-cluster-default', 2);
    const victim = before[0].metadata.name;
    await kubectl(['delete', 'pod', '-n', ns.name, victim, '--wait=false']);
    const after = await eventually(() => workerPods(ns.name, 'my-cluster-default'), {
      describe: `worker ${victim} to be replaced`,
      until: (pods) => pods.length === 2 && pods.every(isRunning) && !pods.some((p) => p.metadata.name === victim),
    });
    expect(after.map((p) => p.metadata.name)).toContain(before[1].metadata.name);

    const oldScheduler = await getObj<PodObj>(ns.name, 'pod', 'my-cluster-scheduler');
    await kubectl(['delete', 'pod', '-n', ns.name, 'my-cluster-scheduler', '--wait=false']);
    const fresh = await eventually(() => getObj<PodObj>(ns.name, 'pod', 'my-cluster-scheduler'), {
      describe: 'a new scheduler Pod, Running',
      until: (p) => p !== undefined && p.metadata.uid !== oldScheduler?.metadata.uid && isRunning(p),
    });
    expect(controllerOf(fresh as Obj)?.name).toBe('my-cluster');
    await eventually(() => getObj(ns.name, 'daskcluster', 'my-cluster'), {
      describe: 'cluster Ready again',
      until: (c) => condition(c, 'SchedulerReady')?.status === 'True' && condition(c, 'Ready')?.status === 'True',
    });
  });

  op.it('a worker Pod that ends Failed is replaced', async () => {
    // kwok keeps restartPolicy Never pods Running while fake.cdk8s-dask.io/outcome=Running; switching the annotation
    // to Failed makes kwok fail the pod after its run-for (docs: hack/cluster/kwok/stages.yaml).
    const base = (await getObj(ns.name, 'daskworkergroup', 'my-cluster-default')) as Obj;
    const group = {
      apiVersion: 'kubernetes.dask.org/v1',
      kind: 'DaskWorkerGroup',
      metadata: { name: 'my-cluster-held' },
      spec: {
        cluster: 'my-cluster',
        worker: {
          replicas: 2,
          metadata: { annotations: { 'fake.cdk8s-dask.io/outcome': 'Running', 'fake.cdk8s-dask.io/run-for': '100ms' } },
          spec: { ...base.spec.worker.spec, restartPolicy: 'Never' },
        },
      },
    };
    await apply(ns.name, group);
    const before = await settledWorkers('my-cluster-held', 2);
    const victim = before[0].metadata.name;
    await kubectl(['annotate', 'pod', '-n', ns.name, victim, '--overwrite', 'fake.cdk8s-dask.io/outcome=Failed']);
    await eventually(() => workerPods(ns.name, 'my-cluster-held'), {
      describe: `failed worker ${victim} to be removed and replaced`,
      until: (pods) => pods.length === 2 && pods.every(isRunning) && !pods.some((p) => p.metadata.name === victim),
    });
    const evs = await events(ns.name, 'my-cluster-held');
    expect(evs.some((e) => e.reason === 'WorkersReplaced' && e.message.includes(victim))).toBe(true);
    // A user-made group on the cluster is adopted by it (so deleting the cluster removes it too).
    const adopted = await getObj(ns.name, 'daskworkergroup', 'my-cluster-held');
    expect(controllerOf(adopted as Obj)).toMatchObject({ kind: 'DaskCluster', name: 'my-cluster' });
  });

  op.it('a pod template change (image) on a DaskWorkerGroup rolls out to every worker; the count stays at replicas', async () => {
    const group = (await getObj(ns.name, 'daskworkergroup', 'my-cluster-held')) as Obj;
    const replicas = 4;
    await kubectl(['scale', '-n', ns.name, `--replicas=${replicas}`, 'daskworkergroup', 'my-cluster-held']);
    await settledWorkers('my-cluster-held', replicas);
    const oldNames = new Set((await liveWorkers('my-cluster-held')).map((p) => p.metadata.name));
    const containers = (group.spec.worker.spec.containers as { image: string }[]).map((c) => ({ ...c, image: 'ghcr.io/dask/dask:2025.1.0' }));
    await kubectl(['patch', '-n', ns.name, 'daskworkergroup', 'my-cluster-held', '--type=merge', '-p', JSON.stringify({ spec: { worker: { spec: { containers } } } })]);
    let maxLive = 0;
    const done = await eventually(async () => {
      const pods = await workerPods(ns.name, 'my-cluster-held');
      maxLive = Math.max(maxLive, pods.filter(isLive).length);
      return pods;
    }, {
      describe: 'every worker on the new image',
      until: (pods) => pods.length === replicas && pods.every((p) => isRunning(p) && p.spec.containers[0].image === 'ghcr.io/dask/dask:2025.1.0'),
      timeoutMs: 60_000,
    });
    expect(done.some((p) => oldNames.has(p.metadata.name))).toBe(false);
    // Surge is bounded (25% of replicas, at least 1) while old workers are retired.
    expect(maxLive).toBeLessThanOrEqual(replicas + 1);
    await eventually(() => getObj(ns.name, 'daskworkergroup', 'my-cluster-held'), {
      describe: 'group Ready after the rollout',
      until: (g) => condition(g, 'Ready')?.status === 'True' && g?.status?.replicas === replicas,
    });
  });

  op.it('kubectl delete daskcluster removes every child through the garbage collector, also while the operator is stopped', async () => {
    await kubectl(['apply', '-n', ns.name, '-f', SEED_AUTOSCALER_FILE]);
    // The autoscaler and the user-made group are adopted by the cluster (ownerReferences), then the operator stops.
    await eventually(() => listObjs(ns.name, 'daskautoscalers'), {
      describe: 'the autoscaler to be adopted by the cluster',
      until: (items) => items.length === 1 && controllerOf(items[0])?.name === 'my-cluster',
    });
    const children = (await Promise.all(['pods', 'services', 'daskworkergroups', 'daskautoscalers'].map((k) => listObjs(ns.name, k)))).flat();
    expect(children.length).toBeGreaterThanOrEqual(1 + 1 + 2 + 2 + 4 + 1);
    await op.process.stop();
    expect(op.process.running).toBe(false);

    await kubectl(['delete', '-n', ns.name, 'daskcluster', 'my-cluster', '--wait=false']);
    await eventually(async () => (await Promise.all(['pods', 'services', 'daskworkergroups', 'daskautoscalers', 'daskclusters'].map((k) => listObjs(ns.name, k)))).flat(), {
      describe: 'every child of my-cluster to be gone',
      until: (left) => left.length === 0,
      timeoutMs: 60_000,
    });
    op.process.start(); // afterAll stops it again
  });
});
