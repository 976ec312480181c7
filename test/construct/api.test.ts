/** The public API's value classes, static members and shared option structs (lib/index.ts is what jsii publishes). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Chart, Duration, Size, Testing } from 'cdk8s';
import * as api from '../../lib/index';
import { Cpu, DaskCluster, DaskJob, DaskOperator, DaskWorkerGroup, EnvValue, RestartPolicy } from '../../lib/index';
import { crdProblems } from '../../lib/validation/crd-schema';

type Json = Record<string, any>;
const chart = (): Chart => new Chart(new App(), 'test');
const synth = (c: Chart): Json[] => Testing.synth(c) as Json[];

describe('public API surface', () => {
  test('lib/index.ts exports constructs, structs\' value classes and enums only: no free functions, constants or wire types', () => {
    const values = Object.entries(api).map(([name, v]) => `${name}:${typeof v === 'function' ? (/^class /.test(Function.prototype.toString.call(v)) ? 'class' : 'function') : typeof v}`);
    expect(values.sort()).toEqual([
      'ArgoCdSyncWaves:class', 'Cpu:class', 'DaskArgoCdHealthChecks:class', 'DaskAutoscaler:class', 'DaskCluster:class',
      'DaskClusterMonitoring:class', 'DaskIdleAction:object', 'DaskJob:class', 'DaskNetworkPolicy:class', 'DaskOperator:class',
      'DaskOperatorHelmChart:class', 'DaskOperatorMonitoring:class', 'DaskPodSpecPolicy:class', 'DaskPolicyAction:object', 'DaskResource:class',
      'DaskUserRoles:class', 'DaskWorkerGroup:class', 'EmptyDirMedium:object', 'EnvValue:class', 'FsGroupChangePolicy:object', 'ImagePullPolicy:object',
      'LabelSelectorOperator:object', 'LogLevel:object', 'NodeSelectorOperator:object', 'ProfileType:object', 'RestartPolicy:object',
      'SchedulerServiceType:object', 'SchedulerUpdateStrategy:object', 'TaintEffect:object', 'TolerationOperator:object', 'Volume:class',
    ]);
  });

  test('defaults are static members', () => {
    expect(DaskCluster.DEFAULT_IMAGE_TAG).toBe('2026.8.0');
    expect(DaskCluster.DEFAULT_IMAGE_REPOSITORY).toBe('ghcr.io/dask/dask');
    expect(DaskCluster.DEFAULT_WORKERS).toBe(3);
    expect(DaskOperator.DEFAULT_IMAGE).toBe(`ghcr.io/cdk8s-dask/dask-operator:${DaskOperator.VERSION}`);
  });

  test('no module of the constructs imports another in a cycle', () => {
    const dir = path.join(__dirname, '..', '..', 'lib');
    const edges = new Map<string, string[]>();
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      edges.set(f.replace(/\.ts$/, ''), [...text.matchAll(/from '\.\/([a-z-]+)'/g)].map((m) => m[1]));
    }
    const cycles: string[] = [];
    const visit = (node: string, stack: string[]): void => {
      if (stack.includes(node)) {
        cycles.push([...stack.slice(stack.indexOf(node)), node].join(' -> '));
        return;
      }
      for (const next of edges.get(node) ?? []) visit(next, [...stack, node]);
    };
    for (const node of edges.keys()) visit(node, []);
    expect(cycles).toEqual([]);
  });
});

describe('value classes', () => {
  test('Cpu: whole cores as integers, fractions as millicores; nonsense refused', () => {
    expect([Cpu.units(2).amount, Cpu.units(0.5).amount, Cpu.millis(250).amount, Cpu.millis(3000).amount]).toEqual(['2', '500m', '250m', '3']);
    expect(() => Cpu.millis(0.5)).toThrow(/not a positive whole number of millicores/);
    expect(() => Cpu.units(-1)).toThrow(/not a positive whole number of millicores/);
  });

  test('resources: Cpu, Size and extended counts map onto requests and limits', () => {
    const c = chart();
    new DaskCluster(c, 'r', {
      resources: {
        cpu: { request: Cpu.millis(500), limit: Cpu.units(1) },
        memory: { request: Size.mebibytes(1536), limit: Size.gibibytes(2) },
        ephemeralStorage: { limit: Size.kibibytes(100) },
        extended: { 'nvidia.com/gpu': 1 },
      },
    });
    const [cluster] = synth(c);
    expect(cluster.spec.worker.spec.containers[0].resources).toEqual({
      requests: { cpu: '500m', memory: '1536Mi' },
      limits: { cpu: '1', memory: '2Gi', 'ephemeral-storage': '100Ki', 'nvidia.com/gpu': 1 },
    });
    expect(cluster.spec.scheduler.spec.containers[0].resources).toEqual(cluster.spec.worker.spec.containers[0].resources);
    expect(crdProblems(cluster)).toEqual([]);
  });

  test('EnvValue: env first, then envValues, in order, for every source', () => {
    const c = chart();
    new DaskCluster(c, 'e', {
      env: { A: '1' },
      envValues: {
        B: EnvValue.fromValue('2'),
        IP: EnvValue.fromFieldRef('status.podIP'),
        S: EnvValue.fromSecret('sec', 'k', { optional: true }),
        M: EnvValue.fromConfigMap('cm', 'k'),
        L: EnvValue.fromResource('limits.memory'),
      },
    });
    const [cluster] = synth(c);
    expect(cluster.spec.worker.spec.containers[0].env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
      { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'S', valueFrom: { secretKeyRef: { name: 'sec', key: 'k', optional: true } } },
      { name: 'M', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } },
      { name: 'L', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } },
    ]);
    expect(crdProblems(cluster)).toEqual([]);
  });

  test('idleTimeout is a Duration, stored as whole seconds; resolved values are readonly fields', () => {
    const c = chart();
    const cluster = new DaskCluster(c, 'idle', { idleTimeout: Duration.minutes(10), workers: 4, imageTag: '2025.1.0' });
    expect(synth(c)[0].spec.idleTimeout).toBe(600);
    expect([cluster.idleTimeoutSeconds, cluster.workers, cluster.image, cluster.clusterName, cluster.schedulerServiceName, cluster.defaultWorkerGroupName])
      .toEqual([600, 4, 'ghcr.io/dask/dask:2025.1.0', 'idle', 'idle-scheduler', 'idle-default']);
  });
});

describe('one vocabulary', () => {
  test('a worker group, added or standalone, defaults to 3 workers like the cluster', () => {
    const c = chart();
    const cluster = new DaskCluster(c, 'v');
    const added = cluster.addWorkerGroup('a');
    const standalone = new DaskWorkerGroup(c, 'b', { cluster: DaskCluster.fromClusterName(c, 'ref', 'v'), name: 'v-b' });
    const groups = synth(c).filter((o) => o.kind === 'DaskWorkerGroup');
    expect(groups.map((g) => g.spec.worker.replicas)).toEqual([3, 3]);
    expect([added.workers, standalone.workers, added.clusterName, standalone.clusterName]).toEqual([3, 3, 'v', 'v']);
  });

  test('a DaskJob\'s cluster takes the DaskCluster options, and its runner an enum restart policy', () => {
    const c = chart();
    new DaskJob(c, 'j', { runner: { args: ['true'], restartPolicy: RestartPolicy.NEVER }, cluster: { workers: 2, idleTimeout: Duration.seconds(90) } });
    const [job] = synth(c);
    expect(job.spec.job.spec.restartPolicy).toBe('Never');
    expect(job.spec.cluster.spec).toMatchObject({ idleTimeout: 90, worker: { replicas: 2 } });
  });
});
