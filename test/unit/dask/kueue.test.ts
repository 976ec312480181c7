import { reconcileJob } from '../../../operator/dask/job-reconciler';
import { admittedPlacement, jobWorkload, withPlacement } from '../../../lib/render/kueue';
import type { DaskCluster, DaskJob, Pod } from '../../../lib/schema/generated/types';
import type { Workload } from '../../../lib/schema/kueue';
import { dropNulls } from '../../../lib/validation/crd-schema';
import { loadYaml } from '../../support/yaml';
import { FakeWorld, rc } from './fake';

const NS = 'ns';
const UID = '7f3a29c1-0b1d-4e6f-9a2b-3c4d5e6f7a8b';
const WL = 'daskjob-etl-7f3a2';
const req = { namespace: NS, name: 'etl' };

function queuedJob(labels: Record<string, string> = { 'kueue.x-k8s.io/queue-name': 'batch' }): DaskJob {
  const seed = dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0]) as unknown as DaskCluster;
  seed.spec.worker.replicas = 2;
  seed.spec.worker.spec.containers[0].resources = { requests: { cpu: '500m' } };
  return {
    apiVersion: 'kubernetes.dask.org/v1',
    kind: 'DaskJob',
    metadata: { name: 'etl', namespace: NS, uid: UID, generation: 1, resourceVersion: '1', creationTimestamp: '2026-11-26T12:00:00Z', labels },
    spec: { job: { spec: { containers: [{ name: 'job', image: 'x', resources: { requests: { cpu: '250m' } } }], restartPolicy: 'Never' } }, cluster: { spec: seed.spec } },
  };
}

function world(job = queuedJob()): FakeWorld {
  const w = new FakeWorld();
  w.kueue = true;
  w.clock = new Date('2026-11-26T12:00:10Z');
  w.stores.daskjobs.put(job as never);
  w.resourceFlavors.put({ apiVersion: 'kueue.x-k8s.io/v1beta2', kind: 'ResourceFlavor', metadata: { name: 'pool-a', namespace: '' }, spec: { nodeLabels: { pool: 'a' }, tolerations: [{ key: 'batch', operator: 'Exists', effect: 'NoSchedule' }] } } as never);
  return w;
}
const jobOf = (w: FakeWorld) => w.stores.daskjobs.get(NS, 'etl') as unknown as DaskJob;
const workload = (w: FakeWorld) => w.stores.workloads.get(NS, WL) as unknown as Workload | undefined;
const cond = (o: { status?: { conditions?: { type: string; status: string; reason?: string }[] } } | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
const reconcile = async (w: FakeWorld, times = 1): Promise<void> => {
  for (let i = 0; i < times; i++) await reconcileJob(w.context(), req, rc);
};
function admit(w: FakeWorld): void {
  w.stores.workloads.edit(NS, WL, (o) => void ((o as unknown as Workload).status = {
    conditions: [
      { type: 'QuotaReserved', status: 'True', reason: 'QuotaReserved', message: 'Quota reserved in ClusterQueue cq', lastTransitionTime: '2026-11-26T12:00:11Z' },
      { type: 'Admitted', status: 'True', reason: 'Admitted', message: 'The workload is admitted', lastTransitionTime: '2026-11-26T12:00:11Z' },
    ],
    admission: { clusterQueue: 'cq', podSetAssignments: ['scheduler', 'worker', 'runner'].map((name) => ({ name, flavors: { cpu: 'pool-a' } })) },
  }));
}

describe('Kueue integration', () => {
  test('a queued job gets a Workload with scheduler, worker and runner pod sets, and is held suspended with nothing created', async () => {
    const w = world();
    await reconcile(w);
    const wl = workload(w) as Workload;
    expect(wl.spec.queueName).toBe('batch');
    expect(wl.spec.podSets.map((p) => [p.name, p.count, p.template.spec.containers[0].resources])).toEqual([
      ['scheduler', 1, undefined], ['worker', 2, { requests: { cpu: '500m' } }], ['runner', 1, { requests: { cpu: '250m' } }],
    ]);
    expect(wl.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'DaskJob', name: 'etl', uid: UID, controller: true });
    expect(jobOf(w).spec?.suspend).toBe(true);
    await reconcile(w, 2);
    expect(cond(jobOf(w), 'Suspended')?.status).toBe('True');
    expect(w.stores.daskclusters.list()).toEqual([]);
    expect(w.stores.pods.list()).toEqual([]);
    expect(w.events.map((e) => e.reason)).toEqual(expect.arrayContaining(['WorkloadCreated', 'Queued', 'Suspended']));
  });

  test('a held job that someone unsuspends is suspended again before anything is created', async () => {
    const w = world();
    await reconcile(w, 3);
    w.stores.daskjobs.edit(NS, 'etl', (j) => void ((j as unknown as DaskJob).spec!.suspend = false));
    await reconcile(w);
    expect(jobOf(w).spec?.suspend).toBe(true);
    expect(w.stores.daskclusters.list()).toEqual([]);
    expect(w.stores.pods.list()).toEqual([]);
  });

  test('admitted: the job is started, its scheduler, workers and runner placed on the admitted flavor', async () => {
    const w = world();
    await reconcile(w, 3);
    admit(w);
    await reconcile(w);
    expect(jobOf(w).spec?.suspend).toBe(false);
    await reconcile(w);
    const cluster = w.stores.daskclusters.get(NS, 'etl') as unknown as DaskCluster;
    expect(cluster.spec.scheduler.spec.nodeSelector).toEqual({ pool: 'a' });
    expect(cluster.spec.worker.spec.tolerations).toEqual([{ key: 'batch', operator: 'Exists', effect: 'NoSchedule' }]);
    const runner = w.stores.pods.list(NS)[0] as unknown as Pod;
    expect(runner.spec.nodeSelector).toEqual({ pool: 'a' });
    expect(runner.spec.tolerations).toEqual([{ key: 'batch', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(w.events.map((e) => e.reason)).toContain('Admitted');
  });

  test('evicted: the job is suspended again; once it holds nothing, the admission is cleared and the Workload requeued', async () => {
    const w = world();
    await reconcile(w, 3);
    admit(w);
    await reconcile(w, 2);
    w.stores.workloads.edit(NS, WL, (o) => void (o as unknown as Workload).status?.conditions?.push({ type: 'Evicted', status: 'True', reason: 'Preempted', message: 'Preempted to accommodate a workload (UID: x)', lastTransitionTime: '2026-11-26T12:00:20Z' }));
    await reconcile(w);
    expect(jobOf(w).spec?.suspend).toBe(true);
    expect(w.events).toContainEqual(expect.objectContaining({ reason: 'Evicted' }));
    await reconcile(w); // suspends: runner and cluster deleted
    expect(w.stores.daskclusters.get(NS, 'etl')).toBeUndefined();
    // The fake has no garbage collector: the scheduler and workers the cluster owned go by hand.
    for (const p of w.stores.pods.list()) w.stores.pods.remove(p.metadata.namespace as string, p.metadata.name as string);
    expect(workload(w)?.status?.admission).toBeDefined();
    await reconcile(w);
    const after = workload(w) as Workload;
    expect(after.status?.admission).toBeUndefined();
    expect(cond(after, 'QuotaReserved')).toMatchObject({ status: 'False', reason: 'Pending' });
    expect(cond(after, 'Requeued')).toMatchObject({ status: 'True', reason: 'Preempted' });
    expect(cond(after, 'Admitted')).toMatchObject({ status: 'False', reason: 'NoReservation' });
  });

  test('finished: the Workload gets Finished=True, which releases the quota', async () => {
    const w = world();
    await reconcile(w, 3);
    admit(w);
    await reconcile(w, 2);
    const runner = w.stores.pods.list(NS).find((p) => p.metadata.labels?.['dask.org/component'] === 'job-runner') as unknown as Pod;
    w.stores.pods.edit(NS, runner.metadata.name as string, (p) => void ((p as unknown as Pod).status = { phase: 'Succeeded' }));
    await reconcile(w, 2);
    expect(jobOf(w).status?.jobStatus).toBe('Successful');
    expect(cond(workload(w), 'Finished')).toMatchObject({ status: 'True', reason: 'Succeeded' });
  });

  test('the priority of a kueue.x-k8s.io/priority-class label; a missing class holds the job', async () => {
    const w = world(queuedJob({ 'kueue.x-k8s.io/queue-name': 'batch', 'kueue.x-k8s.io/priority-class': 'urgent' }));
    await reconcile(w);
    expect(workload(w)).toBeUndefined();
    expect(w.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'PriorityClassNotFound' }));
    w.priorityClasses.put({ apiVersion: 'kueue.x-k8s.io/v1beta2', kind: 'WorkloadPriorityClass', metadata: { name: 'urgent', namespace: '' }, value: 1000 } as never);
    await reconcile(w);
    expect(workload(w)?.spec).toMatchObject({ priority: 1000, priorityClassRef: { group: 'kueue.x-k8s.io', kind: 'WorkloadPriorityClass', name: 'urgent' } });
  });

  test('with the integration off, a labelled job runs as any other', async () => {
    const w = world();
    w.kueue = false;
    await reconcile(w);
    expect(w.stores.workloads.list()).toEqual([]);
    expect(w.stores.daskclusters.get(NS, 'etl')).toBeDefined();
  });

  test('placement: admission checks\' pod set updates add to the flavors\' node labels; unknown flavors are reported', () => {
    const wl = jobWorkload(queuedJob());
    wl.status = {
      admission: { clusterQueue: 'cq', podSetAssignments: [{ name: 'runner', flavors: { cpu: 'pool-a', memory: 'pool-b' } }] },
      admissionChecks: [{ name: 'prov', podSetUpdates: [{ name: 'runner', nodeSelector: { zone: 'z1' }, labels: { l: 'v' } }] }],
    };
    const flavors: Record<string, unknown> = { 'pool-a': { spec: { nodeLabels: { pool: 'a' } } } };
    const { placement, missingFlavors } = admittedPlacement(wl, (n) => flavors[n] as never);
    expect(missingFlavors).toEqual(['pool-b']);
    expect(placement.runner).toEqual({ nodeSelector: { pool: 'a', zone: 'z1' }, labels: { l: 'v' } });
    expect(withPlacement({ containers: [], nodeSelector: { disk: 'ssd' } }, placement.runner)).toEqual({ containers: [], nodeSelector: { disk: 'ssd', pool: 'a', zone: 'z1' } });
  });
});
