import {
  ANNOTATION_CLUSTER_REPLICAS, ANNOTATION_TEMPLATE_HASH, defaultWorkerGroup, jobCluster, newWorkerName, runnerPod, schedulerAddress,
  schedulerPod, schedulerService, schedulerTemplateHash, workerPod, workerSelector, workerTemplateHash,
} from '../../lib/render';
import type { DaskCluster, DaskJob, DaskWorkerGroup } from '../../lib/schema/generated/types';
import { dropNulls } from '../../lib/validation/crd-schema';
import { loadYaml } from '../support/yaml';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
function seedCluster(): DaskCluster {
  const c = dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0]) as unknown as DaskCluster;
  c.metadata = {
    ...c.metadata,
    namespace: 'ns',
    uid: 'uid-1',
    labels: { team: 'data', 'dask.org/component': 'user-value' },
    annotations: { keep: 'yes', 'kopf.zalando.org/last-handled-configuration': 'x', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
  };
  return c;
}
const owner = { apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskCluster', name: 'my-cluster', uid: 'uid-1', controller: true, blockOwnerDeletion: true };

describe('scheduler', () => {
  test('pod: name, labels (operator labels win), filtered annotations, controller owner, spec verbatim', () => {
    const c = seedCluster();
    c.spec.scheduler.metadata = { labels: { role: 'sched' }, annotations: { a: 'b' } };
    const pod = schedulerPod(c);
    expect(pod.metadata.name).toBe('my-cluster-scheduler');
    expect(pod.metadata.namespace).toBe('ns');
    expect(pod.metadata.labels).toEqual({ team: 'data', role: 'sched', 'dask.org/cluster-name': 'my-cluster', 'dask.org/component': 'scheduler', 'sidecar.istio.io/inject': 'false' });
    expect(pod.metadata.annotations).toEqual({ keep: 'yes', a: 'b', 'kubernetes.dask.org/scheduler-template-hash': schedulerTemplateHash(c) });
    expect(schedulerTemplateHash(c)).toMatch(/^[0-9a-f]{10}$/);
    expect(pod.metadata.ownerReferences).toEqual([owner]);
    expect(pod.spec).toEqual({ ...c.spec.scheduler.spec, automountServiceAccountToken: false });
  });
  test('pod: the scheduler env hook is applied per container', () => {
    const pod = schedulerPod(seedCluster(), { schedulerEnv: (env) => (env.some((e) => e.name === 'X') ? undefined : { name: 'X', value: '1' }) });
    expect(pod.spec.containers[0].env).toEqual([{ name: 'FOO', value: 'bar' }, { name: 'X', value: '1' }]);
  });
  test('service: spec verbatim; selector added only when missing; no istio label', () => {
    const c = seedCluster();
    const svc = schedulerService(c);
    expect(svc.spec).toEqual(c.spec.scheduler.service);
    expect(svc.metadata.labels).toEqual({ team: 'data', 'dask.org/cluster-name': 'my-cluster', 'dask.org/component': 'scheduler' });
    delete c.spec.scheduler.service.selector;
    expect(schedulerService(c).spec.selector).toEqual({ 'dask.org/cluster-name': 'my-cluster', 'dask.org/component': 'scheduler' });
  });
  test('address uses the configurable cluster domain and the tcp-comm port', () => {
    const c = seedCluster();
    expect(schedulerAddress(c)).toBe('tcp://my-cluster-scheduler.ns.svc.cluster.local:8786');
    expect(schedulerAddress(c, { clusterDomain: 'corp.internal' })).toBe('tcp://my-cluster-scheduler.ns.svc.corp.internal:8786');
  });
  test('refuses to reference an owner without uid', () => {
    const c = seedCluster();
    delete c.metadata.uid;
    expect(() => schedulerPod(c)).toThrow(/has no uid yet/);
  });
});

describe('worker groups and workers', () => {
  test('default group: name, labels, template copied, replicas from the cluster at first', () => {
    const c = seedCluster();
    c.spec.worker.metadata = { labels: { w: '1' } };
    const g = defaultWorkerGroup(c);
    expect(g.metadata.name).toBe('my-cluster-default');
    expect(g.metadata.labels).toEqual({ team: 'data', w: '1', 'dask.org/cluster-name': 'my-cluster', 'dask.org/component': 'workergroup' });
    expect(g.metadata.ownerReferences).toEqual([owner]);
    expect(g.spec?.cluster).toBe('my-cluster');
    expect(g.spec?.worker.replicas).toBe(3);
    expect(g.spec?.worker.spec).toEqual(c.spec.worker.spec);
    expect((g.spec?.worker as Record<string, unknown>).cluster).toBeUndefined();
    expect(g.metadata.annotations?.[ANNOTATION_CLUSTER_REPLICAS]).toBe('3');
  });
  test('default group: a group scaled directly keeps its replicas until the cluster\'s replicas change', () => {
    const c = seedCluster();
    const existing = defaultWorkerGroup(c);
    existing.spec!.worker.replicas = 5; // kubectl scale daskworkergroup my-cluster-default --replicas=5
    expect(defaultWorkerGroup(c, existing).spec?.worker.replicas).toBe(5);
    c.spec.worker.replicas = 7; // kubectl scale daskcluster my-cluster --replicas=7
    const next = defaultWorkerGroup(c, existing);
    expect(next.spec?.worker.replicas).toBe(7);
    expect(next.metadata.annotations?.[ANNOTATION_CLUSTER_REPLICAS]).toBe('7');
  });
  test('worker pod: env appended only when absent, user values win and order is kept', () => {
    const c = seedCluster();
    const g = defaultWorkerGroup(c);
    g.metadata.uid = 'g-uid';
    g.spec!.worker.spec.containers[0].env = [{ name: 'FIRST', value: '1' }, { name: 'DASK_WORKER_NAME', value: 'test-worker' }];
    const pod = workerPod(g, c, 'my-cluster-default-worker-0123456789');
    expect(pod.spec.containers[0].env).toEqual([
      { name: 'FIRST', value: '1' },
      { name: 'DASK_WORKER_NAME', value: 'test-worker' },
      { name: 'DASK_SCHEDULER_ADDRESS', value: 'tcp://my-cluster-scheduler.ns.svc.cluster.local:8786' },
    ]);
    const plainGroup = defaultWorkerGroup(c);
    plainGroup.metadata.uid = 'g-uid';
    const plain = workerPod(plainGroup, c, 'p');
    expect(plain.spec.containers[0].env?.map((e) => e.name)).toEqual(['FOO', 'DASK_WORKER_NAME', 'DASK_SCHEDULER_ADDRESS']);
  });
  test('worker pod: labels, owner = the group, template hash, cluster labels added without overriding', () => {
    const c = seedCluster();
    const g: DaskWorkerGroup = { apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskWorkerGroup', metadata: { name: 'highmem', namespace: 'ns', uid: 'g2', labels: { tier: 'gold' } }, spec: { cluster: 'my-cluster', worker: clone(c.spec.worker) } };
    const pod = workerPod(g, c, 'highmem-worker-abcdefabcd');
    expect(pod.metadata.labels).toEqual({ tier: 'gold', 'dask.org/cluster-name': 'my-cluster', 'dask.org/workergroup-name': 'highmem', 'dask.org/component': 'worker', 'sidecar.istio.io/inject': 'false', team: 'data' });
    expect(pod.metadata.ownerReferences).toEqual([{ apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskWorkerGroup', name: 'highmem', uid: 'g2', controller: true, blockOwnerDeletion: true }]);
    expect(pod.metadata.annotations?.[ANNOTATION_TEMPLATE_HASH]).toBe(workerTemplateHash(g));
  });
  test('template hash: changes with image/env/args, not with replicas', () => {
    const c = seedCluster();
    const g = defaultWorkerGroup(c);
    const h = workerTemplateHash(g);
    const scaled = clone(g);
    scaled.spec!.worker.replicas = 10;
    expect(workerTemplateHash(scaled)).toBe(h);
    const newImage = clone(g);
    newImage.spec!.worker.spec.containers[0].image = 'ghcr.io/dask/dask:2025.1.0';
    expect(workerTemplateHash(newImage)).not.toBe(h);
    expect(h).toMatch(/^[0-9a-f]{10}$/);
  });
  test('names and selectors', () => {
    expect(newWorkerName('g')).toMatch(/^g-worker-[0-9a-f]{10}$/);
    expect(newWorkerName('g', () => '0000000000')).toBe('g-worker-0000000000');
    expect(workerSelector('g')).toBe('dask.org/workergroup-name=g,dask.org/component=worker');
  });
});

describe('DaskJob', () => {
  const job = (): DaskJob => ({
    apiVersion: 'kubernetes.dask.org/v1',
    kind: 'DaskJob',
    metadata: { name: 'nightly', namespace: 'ns', uid: '7f3a29c1-0b1d-4e6f-9a2b-3c4d5e6f7a8b', labels: { app: 'etl' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', a: 'b' } },
    spec: { job: { spec: { containers: [{ name: 'job', image: 'x', args: ['python', 'run.py'] }] } }, cluster: { spec: seedCluster().spec } },
  });
  test('cluster: named after the job, owned by it', () => {
    const c = jobCluster(job());
    expect(c.metadata).toMatchObject({ name: 'nightly', namespace: 'ns', labels: { app: 'etl', 'dask.org/cluster-name': 'nightly' }, annotations: { a: 'b' } });
    expect(c.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'DaskJob', name: 'nightly', controller: true });
  });
  test('runner pod: {job}-runner-{uid}-{attempt}, scheduler address injected, restartPolicy OnFailure by default', () => {
    const pod = runnerPod(job());
    expect(pod.metadata.name).toBe('nightly-runner-7f3a2-1');
    expect(pod.metadata.annotations).toEqual({ a: 'b', 'kubernetes.dask.org/job-attempt': '1' });
    expect(runnerPod(job(), {}, 3).metadata.name).toBe('nightly-runner-7f3a2-3');
    expect(pod.metadata.labels).toEqual({ app: 'etl', 'dask.org/cluster-name': 'nightly', 'dask.org/component': 'job-runner', 'sidecar.istio.io/inject': 'false' });
    expect(pod.spec.containers[0].env).toEqual([{ name: 'DASK_SCHEDULER_ADDRESS', value: 'tcp://nightly-scheduler.ns.svc.cluster.local:8786' }]);
    expect(pod.spec.restartPolicy).toBe('OnFailure');
  });
});

describe('defaults the user can override', () => {
  const job = (labels?: Record<string, string>): DaskJob => ({
    apiVersion: 'kubernetes.dask.org/v1',
    kind: 'DaskJob',
    metadata: { name: 'nightly', namespace: 'ns', uid: 'j1' },
    spec: { job: { ...(labels ? { metadata: { labels } } : {}), spec: { containers: [{ name: 'job', image: 'x' }] } }, cluster: { spec: seedCluster().spec } },
  } as unknown as DaskJob);
  const workerOf = (c: DaskCluster) => {
    const g = defaultWorkerGroup(c);
    g.metadata.uid = 'g-uid';
    return workerPod(g, c, 'my-cluster-default-worker-0123456789');
  };

  test('sidecar.istio.io/inject is "false" only when the user set nothing; an explicit value (template or object) is kept', () => {
    const plain = seedCluster();
    expect(schedulerPod(plain).metadata.labels?.['sidecar.istio.io/inject']).toBe('false');
    expect(workerOf(plain).metadata.labels?.['sidecar.istio.io/inject']).toBe('false');
    expect(runnerPod(job()).metadata.labels?.['sidecar.istio.io/inject']).toBe('false');

    const mesh = seedCluster();
    mesh.spec.scheduler.metadata = { labels: { 'sidecar.istio.io/inject': 'true' } };
    mesh.spec.worker.metadata = { labels: { 'sidecar.istio.io/inject': 'true' } };
    expect(schedulerPod(mesh).metadata.labels?.['sidecar.istio.io/inject']).toBe('true');
    expect(workerOf(mesh).metadata.labels?.['sidecar.istio.io/inject']).toBe('true');
    expect(runnerPod(job({ 'sidecar.istio.io/inject': 'true' })).metadata.labels?.['sidecar.istio.io/inject']).toBe('true');

    const onObject = seedCluster();
    onObject.metadata.labels = { ...onObject.metadata.labels, 'sidecar.istio.io/inject': 'true' };
    expect(schedulerPod(onObject).metadata.labels?.['sidecar.istio.io/inject']).toBe('true');
    expect(workerOf(onObject).metadata.labels?.['sidecar.istio.io/inject']).toBe('true');
  });

  test('automountServiceAccountToken is false on scheduler and worker Pods unless their spec sets it; the runner is untouched', () => {
    const plain = seedCluster();
    expect(schedulerPod(plain).spec.automountServiceAccountToken).toBe(false);
    expect(workerOf(plain).spec.automountServiceAccountToken).toBe(false);
    expect(runnerPod(job()).spec.automountServiceAccountToken).toBeUndefined();
    const wants = seedCluster();
    wants.spec.scheduler.spec.automountServiceAccountToken = true;
    wants.spec.worker.spec.automountServiceAccountToken = true;
    expect(schedulerPod(wants).spec.automountServiceAccountToken).toBe(true);
    expect(workerOf(wants).spec.automountServiceAccountToken).toBe(true);
  });

  test('worker Pods do not carry the default group\'s kubernetes.dask.org/cluster-replicas bookkeeping annotation', () => {
    const c = seedCluster();
    const g = defaultWorkerGroup(c);
    expect(g.metadata.annotations?.[ANNOTATION_CLUSTER_REPLICAS]).toBe('3');
    g.metadata.uid = 'g-uid';
    const pod = workerPod(g, c, 'w');
    expect(pod.metadata.annotations).toEqual({ keep: 'yes', [ANNOTATION_TEMPLATE_HASH]: workerTemplateHash(g) });
  });
});

