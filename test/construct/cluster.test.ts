import { readFileSync } from 'node:fs';
import { App, Chart, Duration, Size, Testing } from 'cdk8s';
import { Cpu, DaskAutoscaler, DaskCluster, DaskIdleAction, DaskJob, DaskWorkerGroup, EnvValue, RestartPolicy, SchedulerServiceType, SchedulerUpdateStrategy } from '../../lib/index';
import { crdProblems, dropNulls } from '../../lib/validation/crd-schema';
import { buildApp } from '../../main';
import { DEFAULT_IMAGE_TAG } from '../../lib/spec/cluster-spec';
import { loadYaml } from '../support/yaml';

type Json = Record<string, any>;
const synth = (chart: Chart): Json[] => Testing.synth(chart) as Json[];
const chart = (namespace?: string): Chart => new Chart(new App(), 'test', namespace ? { namespace } : {});
/** Synthesizing the chart's app must fail; returns the message. */
function synthError(c: Chart): string {
  try {
    Testing.synth(c);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected synth to fail');
}

describe('DaskCluster', () => {
  test('defaults reproduce the seed\'s KubeCluster(name="my-cluster", n_workers=3, env={"FOO": "bar"})', () => {
    const c = chart();
    new DaskCluster(c, 'my-cluster', { workers: 3, env: { FOO: 'bar' } });
    const [cluster] = synth(c);
    const seed = dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0]) as Json;
    // The seed's client also wrote worker.cluster, a field the CRD ignores. Two deliberate differences: the commands
    // are `dask scheduler` / `dask worker` (distributed 2026.6.0 removed `dask-scheduler` / `dask-worker`), and the
    // image tag is the pinned Dask release instead of `latest`. Everything else is identical.
    delete seed.spec.worker.cluster;
    const sched = seed.spec.scheduler.spec.containers[0];
    const worker = seed.spec.worker.spec.containers[0];
    expect(sched.args.slice(0, 1)).toEqual(['dask-scheduler']);
    expect(worker.args.slice(0, 1)).toEqual(['dask-worker']);
    sched.args.splice(0, 1, 'dask', 'scheduler');
    worker.args.splice(0, 1, 'dask', 'worker');
    expect(sched.image).toBe('ghcr.io/dask/dask:latest');
    sched.image = worker.image = 'ghcr.io/dask/dask:2026.8.0';
    expect(cluster).toEqual(seed);
  });

  test('the default image tag is the Dask release the tests run (hack/dask/requirements.txt)', () => {
    const pins = Object.fromEntries(
      readFileSync('hack/dask/requirements.txt', 'utf8').split('\n').filter((l) => /^[a-z]+==/.test(l)).map((l) => l.split('==')),
    );
    expect(DEFAULT_IMAGE_TAG).toBe(pins.dask);
    expect(pins.distributed).toBe(pins.dask);
  });

  test('workers default to 3 and the image tag is configurable', () => {
    const c = chart();
    new DaskCluster(c, 'c1', { imageTag: '2025.1.0' });
    const [cluster] = synth(c);
    expect(cluster.spec.worker.replicas).toBe(3);
    expect(cluster.spec.scheduler.spec.containers[0].image).toBe('ghcr.io/dask/dask:2025.1.0');
    expect(cluster.spec.worker.spec.containers[0].image).toBe('ghcr.io/dask/dask:2025.1.0');
  });

  test('all props map into the spec, and the result validates against the CRD', () => {
    const c = chart('data');
    new DaskCluster(c, 'big', {
      name: 'big-cluster',
      image: 'registry.example.com/dask:1',
      workers: 5,
      env: { A: '1' },
      envValues: { POD_IP: EnvValue.fromFieldRef('status.podIP') },
      resources: { cpu: { request: Cpu.units(2) }, memory: { request: Size.gibibytes(16), limit: Size.gibibytes(16) } },
      workerCommand: ['dask', 'worker'],
      workerArgs: ['--nthreads', '4'],
      schedulerArgs: ['--idle-timeout', '600'],
      schedulerServiceType: SchedulerServiceType.LOAD_BALANCER,
      idleTimeout: Duration.hours(1),
      metadata: { labels: { team: 'data' }, annotations: { 'example.com/owner': 'me' } },
      schedulerMetadata: { labels: { role: 'scheduler' } },
      workerMetadata: { annotations: { 'prometheus.io/scrape': 'true' } },
    });
    const [cluster] = synth(c);
    expect(crdProblems(cluster)).toEqual([]);
    expect(cluster.metadata).toEqual({ name: 'big-cluster', namespace: 'data', labels: { team: 'data' }, annotations: { 'example.com/owner': 'me' } });
    expect(cluster.spec.idleTimeout).toBe(3600);
    expect(cluster.spec.scheduler.service.type).toBe('LoadBalancer');
    expect(cluster.spec.scheduler.metadata).toEqual({ labels: { role: 'scheduler' } });
    expect(cluster.spec.worker.metadata).toEqual({ annotations: { 'prometheus.io/scrape': 'true' } });
    expect(cluster.spec.worker.spec.containers[0].args).toEqual(['dask', 'worker', '--name', '$(DASK_WORKER_NAME)', '--nthreads', '4']);
    expect(cluster.spec.scheduler.spec.containers[0].args).toEqual(['dask', 'scheduler', '--host', '0.0.0.0', '--idle-timeout', '600']);
    expect(cluster.spec.worker.spec.containers[0].resources).toEqual({ requests: { memory: '16Gi', cpu: '2' }, limits: { memory: '16Gi' } });
    expect(cluster.spec.worker.spec.containers[0].env[1]).toEqual({ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
  });

  test('scheduler Service ports are configurable, and checked', () => {
    const c = chart();
    new DaskCluster(c, 'ports', { schedulerServicePorts: { comm: 9786, dashboard: 80 } });
    const [cluster] = synth(c);
    expect(cluster.spec.scheduler.service.ports).toEqual([
      { name: 'tcp-comm', port: 9786, protocol: 'TCP', targetPort: 'tcp-comm' },
      { name: 'http-dashboard', port: 80, protocol: 'TCP', targetPort: 'http-dashboard' },
    ]);
    const withPorts = new DaskCluster(chart('data'), 'p2', { schedulerServicePorts: { comm: 9786 } });
    expect(withPorts.schedulerAddress()).toBe('tcp://p2-scheduler.data.svc.cluster.local:9786');
    expect(withPorts.schedulerServiceName).toBe('p2-scheduler');
    const bad = chart();
    new DaskCluster(bad, 'bad', { schedulerServicePorts: { dashboard: 70000 } });
    expect(synthError(bad)).toMatch(/test\/bad.*schedulerServicePorts.dashboard must be a port number 1-65535, got 70000/s);
  });

  test('escape hatches replace the pod and service specs', () => {
    const c = chart();
    new DaskCluster(c, 'custom', {
      workerPodSpec: { containers: [{ name: 'w', image: 'x', args: ['dask', 'worker'] }], nodeSelector: { gpu: 'yes' } },
      schedulerServiceSpec: { type: 'NodePort', ports: [{ name: 'tcp-comm', port: 8786, targetPort: 8786 }] },
    });
    const [cluster] = synth(c);
    expect(cluster.spec.worker.spec.nodeSelector).toEqual({ gpu: 'yes' });
    expect(cluster.spec.scheduler.service).toEqual({ type: 'NodePort', ports: [{ name: 'tcp-comm', port: 8786, targetPort: 8786 }] });
  });

  test('addWorkerGroup creates {cluster}-{name}, inheriting image, env and resources', () => {
    const c = chart();
    const cluster = new DaskCluster(c, 'foo', { workers: 5, image: 'img:1', env: { FOO: 'bar' }, resources: { memory: { request: Size.gibibytes(16), limit: Size.gibibytes(16) } } });
    cluster.addWorkerGroup('highmem', { workers: 2, resources: { memory: { request: Size.gibibytes(64), limit: Size.gibibytes(64) } } });
    const objs = synth(c);
    const group = objs.find((o) => o.kind === 'DaskWorkerGroup') as Json;
    expect(group.metadata.name).toBe('foo-highmem');
    expect(group.spec.cluster).toBe('foo');
    expect(group.spec.worker.replicas).toBe(2);
    const container = group.spec.worker.spec.containers[0];
    expect(container.image).toBe('img:1');
    expect(container.env).toEqual([{ name: 'FOO', value: 'bar' }]);
    expect(container.resources).toEqual({ requests: { memory: '64Gi' }, limits: { memory: '64Gi' } });
    expect(crdProblems(group)).toEqual([]);
  });

  test('adapt creates a DaskAutoscaler named after the cluster (the seed\'s adapt(minimum=1, maximum=100))', () => {
    const c = chart();
    new DaskCluster(c, 'my-cluster', { workers: 5 }).adapt({ minimum: 1, maximum: 100 });
    const scaler = synth(c).find((o) => o.kind === 'DaskAutoscaler');
    expect(scaler).toEqual(loadYaml('test/fixtures/seed/autoscaler.yaml')[0]);
  });

  test('snapshot: cluster with a worker group and an autoscaler', () => {
    const c = chart('dask');
    const cluster = new DaskCluster(c, 'snap', { workers: 2 });
    cluster.addWorkerGroup('gpu', { workers: 1, workerArgs: ['--resources', 'GPU=1'], workerMetadata: { labels: { accelerator: 'gpu' } } });
    cluster.adapt({ minimum: 1, maximum: 10 });
    expect(synth(c)).toMatchSnapshot();
  });
});

describe('DaskCluster idle and scheduler update props', () => {
  test('creates idleAction next to idleTimeout and scheduler.updateStrategy, when set', () => {
    const c = chart();
    new DaskCluster(c, 'c', { idleTimeout: Duration.minutes(10), idleAction: DaskIdleAction.SCALE_TO_ZERO, schedulerUpdateStrategy: SchedulerUpdateStrategy.RECREATE });
    const [cluster] = synth(c);
    expect(crdProblems(cluster)).toEqual([]);
    expect(cluster.spec.idleTimeout).toBe(600);
    expect(cluster.spec.idleAction).toBe('ScaleToZero');
    expect(cluster.spec.scheduler.updateStrategy).toBe('Recreate');
  });
  test('leaves both out, when unset (Delete and OnDelete apply)', () => {
    const c = chart();
    new DaskCluster(c, 'c');
    const [cluster] = synth(c);
    expect(cluster.spec.idleAction).toBeUndefined();
    expect(cluster.spec.scheduler.updateStrategy).toBeUndefined();
  });
  test('throws at synth, when idleAction is set without an idle timeout', () => {
    const c = chart();
    new DaskCluster(c, 'c', { idleAction: DaskIdleAction.DELETE });
    expect(synthError(c)).toMatch(/test\/c.*idleAction Delete has no effect without an idle timeout: set idleTimeout \(or drop idleAction\)/s);
  });
});

describe('standalone constructs', () => {
  test('DaskWorkerGroup referencing a cluster by name', () => {
    const c = chart();
    new DaskWorkerGroup(c, 'extra', { cluster: DaskCluster.fromClusterName(c, 'existing', 'existing'), workers: 4 });
    const [group] = synth(c);
    expect(group).toMatchObject({ kind: 'DaskWorkerGroup', metadata: { name: 'extra' }, spec: { cluster: 'existing', worker: { replicas: 4 } } });
    expect(crdProblems(group)).toEqual([]);
  });

  test('DaskAutoscaler', () => {
    const c = chart();
    new DaskAutoscaler(c, 'scaler', { cluster: DaskCluster.fromClusterName(c, 'existing', 'existing'), maximum: 7 });
    expect(synth(c)[0].spec).toEqual({ cluster: 'existing', minimum: 0, maximum: 7 });
  });

  test('DaskJob: runner pod plus cluster, restartPolicy OnFailure', () => {
    const c = chart();
    new DaskJob(c, 'nightly', { runner: { args: ['python', '-c', 'print(1)'], env: { MODE: 'nightly' } }, cluster: { workers: 2 } });
    const [job] = synth(c);
    expect(crdProblems(job)).toEqual([]);
    expect(job.spec.job.spec).toEqual({
      containers: [{ name: 'job', image: 'ghcr.io/dask/dask:2026.8.0', args: ['python', '-c', 'print(1)'], env: [{ name: 'MODE', value: 'nightly' }] }],
      restartPolicy: 'OnFailure',
    });
    expect(job.spec.cluster.spec.worker.replicas).toBe(2);
    expect(job.spec.cluster.spec.scheduler.service.selector).toEqual({ 'dask.org/cluster-name': 'nightly', 'dask.org/component': 'scheduler' });
    expect(job).toMatchSnapshot();
  });
});

describe('synth-time validation names the construct and the fix', () => {
  test('invalid cluster name', () => {
    const c = chart();
    new DaskCluster(c, 'My_Cluster');
    expect(synthError(c)).toMatch(/test\/My_Cluster.*DaskCluster name "My_Cluster" is not an RFC 1123 label.*Pass a valid `name` prop/s);
  });
  test('cluster name too long', () => {
    const c = chart();
    new DaskCluster(c, 'c', { name: 'x'.repeat(54) });
    expect(synthError(c)).toMatch(/test\/c.*is 54 characters long; a Dask cluster name may have at most 53/s);
  });
  test('duplicate worker-group names on one cluster', () => {
    const c = chart();
    const cluster = new DaskCluster(c, 'dup');
    cluster.addWorkerGroup('gpu');
    expect(() => cluster.addWorkerGroup('gpu')).toThrow(/test\/dup: worker group "gpu" is already defined on DaskCluster "dup"; give each addWorkerGroup\(\) call a distinct name/);
  });
  test('duplicate standalone worker-group names in a namespace, and a clash with the default group', () => {
    const c = chart();
    const dup = new DaskCluster(c, 'dup');
    new DaskWorkerGroup(c, 'a', { cluster: dup, name: 'dup-extra' });
    new DaskWorkerGroup(c, 'b', { cluster: dup, name: 'dup-extra' });
    new DaskWorkerGroup(c, 'd', { cluster: dup, name: 'dup-default' });
    const msg = synthError(c);
    expect(msg).toMatch(/test\/b.*DaskWorkerGroup "dup-extra" is also defined at test\/a; worker-group names must be unique per namespace/s);
    expect(msg).toMatch(/test\/dup.*DaskWorkerGroup "dup-default" at test\/d collides with the default worker group the operator creates for DaskCluster "dup"; choose another name/s);
  });
  test('minimum > maximum', () => {
    const c = chart();
    new DaskCluster(c, 'c').adapt({ minimum: 5, maximum: 2 });
    expect(synthError(c)).toMatch(/test\/c\/Autoscaler.*minimum \(5\) is greater than maximum \(2\); pass minimum <= maximum/s);
  });
  test('negative replicas', () => {
    const c = chart();
    new DaskCluster(c, 'c', { workers: -1 });
    expect(synthError(c)).toMatch(/test\/c.*workers: worker count must be a whole number >= 0, got -1/s);
    const g = chart();
    new DaskWorkerGroup(g, 'w', { cluster: DaskCluster.fromClusterName(g, 'c', 'c'), workers: -2 });
    expect(synthError(g)).toMatch(/test\/w.*got -2/s);
  });
  test('extended resources must be whole counts', () => {
    const c = chart();
    new DaskCluster(c, 'c', { resources: { extended: { 'nvidia.com/gpu': 0.5 } } });
    expect(synthError(c)).toMatch(/test\/c.*DaskCluster: resources.extended\["nvidia.com\/gpu"\] must be a whole number >= 0, got 0.5/s);
  });
  test('anything else the API server would reject is caught by schema validation', () => {
    const c = chart();
    new DaskCluster(c, 'c', { workerPodSpec: { containers: [{ name: 'w', image: 'x', imagePullPolcy: 'Always' } as never] } });
    expect(synthError(c)).toMatch(/test\/c.*DaskCluster "c": spec.worker.spec.containers.0: unknown field "imagePullPolcy"/s);
  });
});

describe('the main job', () => {
  test('synthesizes the operator install and the example cluster deterministically', () => {
    const a = buildApp('unused-a').synthYaml();
    const b = buildApp('unused-b').synthYaml();
    expect(a).toBe(b);
    expect(a).toContain('kind: DaskCluster');
    expect(a).toContain('kind: CustomResourceDefinition');
  });
  test('files are named for kubectl apply order', () => {
    const fs = require('node:fs') as typeof import('node:fs');
    const os = require('node:os') as typeof import('node:os');
    const dir = fs.mkdtempSync(`${os.tmpdir()}/cdk8s-dask-synth-`);
    try {
      const app: App = buildApp(dir);
      app.synth();
      expect(fs.readdirSync(app.outdir).sort()).toEqual(['0000-dask-operator.k8s.yaml', '0001-my-cluster.k8s.yaml']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
