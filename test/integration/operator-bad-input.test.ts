/**
 * Bad input: objects that pass the CRD schema but cannot be reconciled get a condition and a Warning Event with a
 * readable reason, the operator keeps reconciling everything else, and it never touches what it does not own.
 */
import { eventually, kubectl, withNamespace } from './support';
import {
  apply, condition, controllerOf, events, EventObj, getObj, isRunning, listObjs, Obj, PodObj, seedCluster, withOperator, workerPods,
} from './support/dask';

jest.setTimeout(120_000);

const ns = withNamespace('op-bad');
const op = withOperator(ns);

function warning(name: string, reason: string): Promise<EventObj[]> {
  return eventually(() => events(ns.name, name), {
    describe: `a Warning Event ${reason} on ${name}`,
    until: (evs) => evs.some((e) => e.type === 'Warning' && e.reason === reason),
  });
}

function settledWorkers(group: string, n: number): Promise<PodObj[]> {
  return eventually(() => workerPods(ns.name, group), {
    describe: `${group} to have exactly ${n} Running workers`,
    until: (pods) => pods.length === n && pods.every(isRunning),
  });
}

/** A worker group of `cluster` with the seed's worker template. */
function group(name: string, cluster: string, replicas: number): object {
  return {
    apiVersion: 'kubernetes.dask.org/v1',
    kind: 'DaskWorkerGroup',
    metadata: { name },
    spec: { cluster, worker: { replicas, spec: seedCluster().spec.worker.spec } },
  };
}

describe('bad input', () => {
  op.it('a worker group and an autoscaler naming a missing cluster get ClusterFound=False and a Warning Event; they attach once it exists', async () => {
    await apply(ns.name, group('late-extra', 'late', 2));
    await apply(ns.name, { apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskAutoscaler', metadata: { name: 'late' }, spec: { cluster: 'late', minimum: 1, maximum: 5 } });
    const g = await eventually(() => getObj(ns.name, 'daskworkergroup', 'late-extra'), {
      describe: 'late-extra ClusterFound=False',
      until: (o) => condition(o, 'ClusterFound')?.status === 'False',
    });
    expect(condition(g, 'ClusterFound')).toMatchObject({ reason: 'ClusterNotFound', message: expect.stringContaining('DaskCluster late does not exist') });
    expect(condition(g, 'Ready')).toMatchObject({ status: 'False', reason: 'ClusterNotFound' });
    expect((await warning('late-extra', 'ClusterNotFound')).find((e) => e.reason === 'ClusterNotFound')?.involvedObject.kind).toBe('DaskWorkerGroup');
    const a = await eventually(() => getObj(ns.name, 'daskautoscaler', 'late'), {
      describe: 'autoscaler late ClusterFound=False',
      until: (o) => condition(o, 'ClusterFound')?.status === 'False',
    });
    expect(condition(a, 'ClusterFound')?.reason).toBe('ClusterNotFound');
    expect(condition(a, 'ScalingActive')?.status).toBe('False');
    const evs = await warning('late', 'ClusterNotFound');
    expect(evs.find((e) => e.reason === 'ClusterNotFound')?.involvedObject.kind).toBe('DaskAutoscaler');
    expect(await workerPods(ns.name, 'late-extra')).toEqual([]);

    await apply(ns.name, seedCluster({ name: 'late', replicas: 1 }));
    await settledWorkers('late-extra', 2);
    await settledWorkers('late-default', 1);
    const cluster = (await getObj(ns.name, 'daskcluster', 'late')) as Obj;
    const attached = await eventually(() => getObj(ns.name, 'daskworkergroup', 'late-extra'), {
      describe: 'late-extra ClusterFound=True and adopted',
      until: (o) => condition(o, 'ClusterFound')?.status === 'True' && controllerOf(o as Obj)?.uid === cluster.metadata.uid,
    });
    expect(condition(attached, 'Ready')?.status).toBe('True');
    await eventually(() => getObj(ns.name, 'daskautoscaler', 'late'), {
      describe: 'autoscaler late ClusterFound=True and adopted',
      until: (o) => condition(o, 'ClusterFound')?.status === 'True' && controllerOf(o as Obj)?.uid === cluster.metadata.uid,
    });
  });

  op.it('a worker pod spec the API server rejects gets CreateFailed (condition + Event with its message); another cluster reconciles meanwhile', async () => {
    const bad = seedCluster({ name: 'bad', replicas: 2 });
    // Passes the CRD schema; the API server rejects the Pod: the mount names no volume of the Pod.
    bad.spec.worker.spec.containers[0].volumeMounts = [{ name: 'missing-volume', mountPath: '/data' }];
    const badScheduler = seedCluster({ name: 'bad-scheduler', replicas: 1 });
    badScheduler.spec.scheduler.spec.containers[0].volumeMounts = [{ name: 'missing-volume', mountPath: '/data' }];
    await apply(ns.name, bad);
    await apply(ns.name, badScheduler);
    await apply(ns.name, seedCluster({ name: 'good', replicas: 2 }));

    // The valid cluster in the same namespace is reconciled normally.
    await settledWorkers('good-default', 2);
    await eventually(() => getObj(ns.name, 'daskcluster', 'good'), {
      describe: 'cluster good Ready',
      until: (c) => c?.status?.phase === 'Running' && condition(c, 'Ready')?.status === 'True',
    });

    const g = await eventually(() => getObj(ns.name, 'daskworkergroup', 'bad-default'), {
      describe: 'bad-default PodsCreated=False',
      until: (o) => condition(o, 'PodsCreated')?.status === 'False',
    });
    const apiMessage = /volumeMounts\[0\]\.name: Not found: "missing-volume"/;
    expect(condition(g, 'PodsCreated')).toMatchObject({ reason: 'CreateFailed', message: expect.stringMatching(apiMessage) });
    expect(condition(g, 'Ready')?.status).toBe('False');
    const evs = await warning('bad-default', 'CreateFailed');
    expect(evs.find((e) => e.reason === 'CreateFailed')?.message).toMatch(apiMessage);
    expect(await workerPods(ns.name, 'bad-default')).toEqual([]);
    // Its scheduler is fine; the cluster is not Ready because its workers are missing.
    await eventually(() => getObj(ns.name, 'daskcluster', 'bad'), {
      describe: 'cluster bad: scheduler ready, workers not',
      until: (c) => condition(c, 'SchedulerReady')?.status === 'True' && condition(c, 'WorkersReady')?.status === 'False' && condition(c, 'Ready')?.status === 'False',
    });

    // A scheduler Pod the API server rejects: the DaskCluster says so.
    const c = await eventually(() => getObj(ns.name, 'daskcluster', 'bad-scheduler'), {
      describe: 'bad-scheduler ComponentsHealthy=False',
      until: (o) => condition(o, 'ComponentsHealthy')?.status === 'False',
    });
    expect(condition(c, 'ComponentsHealthy')).toMatchObject({ reason: 'CreateFailed', message: expect.stringMatching(apiMessage) });
    expect(condition(c, 'Ready')).toMatchObject({ status: 'False', reason: 'CreateFailed' });
    expect((await warning('bad-scheduler', 'CreateFailed')).find((e) => e.reason === 'CreateFailed')?.message).toMatch(/could not create Pod bad-scheduler-scheduler/);
    expect(await getObj(ns.name, 'pod', 'bad-scheduler-scheduler')).toBeUndefined();

    // Fixing the spec lets the workers come up.
    await kubectl(['patch', '-n', ns.name, 'daskcluster', 'bad', '--type=json', '-p', JSON.stringify([{ op: 'remove', path: '/spec/worker/spec/containers/0/volumeMounts' }])]);
    await settledWorkers('bad-default', 2);
    await eventually(() => getObj(ns.name, 'daskworkergroup', 'bad-default'), {
      describe: 'bad-default PodsCreated=True after the fix',
      until: (o) => condition(o, 'PodsCreated')?.status === 'True' && condition(o, 'Ready')?.status === 'True',
    });
  });

  for (const labelled of [false, true]) {
    op.it(`a pre-existing Service {cluster}-scheduler not owned by the cluster (${labelled ? 'with' : 'without'} the cluster label) is left alone: condition NameTaken`, async () => {
      const name = labelled ? 'taken-labelled' : 'taken';
      const svc = {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `${name}-scheduler`, labels: labelled ? { 'dask.org/cluster-name': name, app: 'mine' } : { app: 'mine' } },
        spec: { type: 'ClusterIP', selector: { app: 'mine' }, ports: [{ name: 'http', port: 9999, protocol: 'TCP' }] },
      };
      await apply(ns.name, svc);
      const before = (await getObj(ns.name, 'service', `${name}-scheduler`)) as Obj;
      await apply(ns.name, seedCluster({ name, replicas: 1 }));
      const c = await eventually(() => getObj(ns.name, 'daskcluster', name), {
        describe: `${name} ComponentsHealthy=False NameTaken`,
        until: (o) => condition(o, 'ComponentsHealthy')?.reason === 'NameTaken',
      });
      expect(condition(c, 'ComponentsHealthy')?.message).toMatch(new RegExp(`Service ${name}-scheduler exists but is not controlled by this DaskCluster`));
      expect(condition(c, 'Ready')?.status).toBe('False');
      expect((await warning(name, 'NameTaken')).find((e) => e.reason === 'NameTaken')?.message).toMatch(/not controlled by this DaskCluster/);
      // The rest of the cluster is still made.
      await settledWorkers(`${name}-default`, 1);
      const after = (await getObj(ns.name, 'service', `${name}-scheduler`)) as Obj;
      expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
      expect(after.metadata.ownerReferences).toBeUndefined();

      // Deleting the cluster does not take the Service with it.
      await kubectl(['delete', '-n', ns.name, 'daskcluster', name, '--wait=false']);
      await eventually(() => listObjs(ns.name, 'pods', `dask.org/cluster-name=${name}`), {
        describe: `pods of ${name} to be gone`,
        until: (p) => p.length === 0,
      });
      const still = (await getObj(ns.name, 'service', `${name}-scheduler`)) as Obj;
      expect(still.metadata.uid).toBe(before.metadata.uid);
      expect(still.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    });
  }
});
