/**
 * The constructs from Python: hack/python/package.sh (run by hack/test.sh) builds the wheel with jsii-pacmak and
 * installs it, with cdk8s and constructs from PyPI, into .venv-python. Here test/fixtures/python/app.py runs in
 * that venv (through the jsii runtime, on the pinned Node) and must write byte-identical YAML to pythonTwin(), the
 * same app in TypeScript; the API server then accepts the output (server-side dry run, strict field validation).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Chart, Duration, Size } from 'cdk8s';
import {
  Cpu, DaskAutoscaler, DaskCluster, DaskJob, DaskOperator, DaskWorkerGroup, EmptyDirMedium, EnvValue, LogLevel, ProfileType, RestartPolicy,
  SchedulerServiceType, TaintEffect, TolerationOperator, Volume,
} from '../../lib/index';
import { kubectl, withNamespace } from './support';

jest.setTimeout(120_000);

const ROOT = path.join(__dirname, '..', '..');
const PYTHON = path.join(ROOT, '.venv-python', 'bin', 'python');

/** test/fixtures/python/app.py, in TypeScript. */
function pythonTwin(outdir: string, namespace: string): App {
  const app = new App({ outdir });
  const operator = new Chart(app, 'dask-operator');
  new DaskOperator(operator, 'operator', {
    namespace,
    watchNamespaces: [namespace],
    logLevel: LogLevel.DEBUG,
    replicas: 2,
    imagePullSecrets: ['registry'],
    serviceAccountAnnotations: { 'example.com/role': 'ops' },
    podMetadata: { labels: { team: 'platform' }, annotations: { 'example.com/owner': 'platform' } },
    podSecurityContext: { runAsNonRoot: true, fsGroup: 1000, seccompProfile: { type: ProfileType.RUNTIME_DEFAULT } },
    containerSecurityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
    volumes: [
      Volume.fromConfigMap('plugins', 'operator-plugins', { items: { 'index.js': 'index.js' }, defaultMode: 0o444 }),
      Volume.fromEmptyDir('cache', { medium: EmptyDirMedium.MEMORY, sizeLimit: Size.mebibytes(16) }),
    ],
    volumeMounts: [{ name: 'plugins', mountPath: '/plugins', readOnly: true }, { name: 'cache', mountPath: '/cache' }],
    envValues: { NODE_NAME: EnvValue.fromFieldRef('spec.nodeName') },
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    tolerations: [{ key: 'dedicated', operator: TolerationOperator.EQUAL, value: 'platform', effect: TaintEffect.NO_SCHEDULE }],
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'dask-operator' } } } },
        ],
      },
    },
    probeTimeout: Duration.seconds(5),
    workerCreationBatchSize: 20,
    kubeApiQps: 50,
    kubeApiBurst: 100,
    networkPolicy: { metricsFrom: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], apiServerCidrs: ['10.0.0.1/32'] },
  });

  const seed = new Chart(app, 'my-cluster', { namespace });
  seed.addDependency(operator);
  new DaskCluster(seed, 'my-cluster', { workers: 3, env: { FOO: 'bar' } });
  new DaskJob(seed, 'nightly', { runner: { args: ['python', '-c', "print('hello')"] }, cluster: { workers: 2 } });

  const more = new Chart(app, 'more', { namespace });
  more.addDependency(operator);
  const big = new DaskCluster(more, 'big', {
    imageTag: '2026.8.0',
    workers: 5,
    env: { A: '1' },
    envValues: { POD_IP: EnvValue.fromFieldRef('status.podIP'), TOKEN: EnvValue.fromSecret('dask-token', 'token') },
    resources: {
      cpu: { request: Cpu.units(1), limit: Cpu.millis(1500) },
      memory: { request: Size.gibibytes(2), limit: Size.gibibytes(2) },
    },
    schedulerServiceType: SchedulerServiceType.NODE_PORT,
    schedulerServicePorts: { comm: 9786 },
    idleTimeout: Duration.minutes(30),
    metadata: { labels: { team: 'data' } },
    workerMetadata: { annotations: { 'prometheus.io/scrape': 'true' } },
  });
  big.addWorkerGroup('gpu', { workers: 1, resources: { extended: { 'nvidia.com/gpu': 1 } }, workerArgs: ['--resources', 'GPU=1'] });
  big.adapt({ minimum: 1, maximum: 20 });
  const existing = DaskCluster.fromClusterName(more, 'existing', 'my-cluster');
  new DaskWorkerGroup(more, 'extra', { name: 'my-cluster-extra', cluster: existing, workers: 2 });
  new DaskAutoscaler(more, 'scaler', { name: 'my-cluster', cluster: existing, maximum: 10 });
  new DaskJob(more, 'raw-job', {
    runner: { podSpec: { containers: [{ name: 'job', image: 'ghcr.io/dask/dask:2026.8.0', args: ['python', '-c', 'pass'] }], restartPolicy: 'Never' } },
  });
  new DaskJob(more, 'never', { runner: { args: ['true'], restartPolicy: RestartPolicy.NEVER } });
  return app;
}

function runPython(script: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(PYTHON, [script], {
      encoding: 'utf8',
      timeout: 90_000,
      // The jsii runtime starts `node` from PATH: the pinned Node 24 comes first (hack/lib/node.sh).
      env: { ...process.env, NODE_OPTIONS: '', ...env },
    }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr, ms: Date.now() - started }));
  });
}

const read = (dir: string): Record<string, string> =>
  Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));

const ns = withNamespace('python');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-dask-python-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('cdk8s-dask from Python (the jsii-pacmak wheel)', () => {
  test('the wheel in .venv-python is the one built from lib/ (same version, with cdk8s and constructs from PyPI)', async () => {
    if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: hack/python/package.sh creates it (npm test runs it)`);
    const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'lib', 'package.json'), 'utf8')).version as string;
    const probe = path.join(work, 'probe.py');
    fs.writeFileSync(probe, 'import importlib.metadata as m\nprint(" ".join(m.version(p) for p in ("cdk8s-dask", "cdk8s", "constructs")))\n');
    const p = await runPython(probe, {});
    expect(p.stderr).toBe('');
    const [dask, cdk8s, constructs] = p.stdout.trim().split(' ');
    expect(dask).toBe(version);
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
    expect({ cdk8s, constructs }).toEqual({ cdk8s: lock.packages['node_modules/cdk8s'].version, constructs: lock.packages['node_modules/constructs'].version });
  });

  test('the seed\'s cluster, a DaskJob and every prop family synthesize byte-identical to the TypeScript app', async () => {
    const pyOut = path.join(work, 'python');
    const r = await runPython(path.join(ROOT, 'test/fixtures/python/app.py'), { CDK8S_OUTDIR: pyOut, CONSUMER_NAMESPACE: ns.name });
    if (r.code !== 0) throw new Error(`python app.py exited ${r.code}:\n${r.stderr}`);
    process.stderr.write(`[python] app.py ran in ${r.ms} ms\n`);
    expect(r.stdout.trim()).toBe(`tcp://big-scheduler.${ns.name}.svc.cluster.local:9786 big-scheduler 1800`);

    const tsOut = path.join(work, 'typescript');
    pythonTwin(tsOut, ns.name).synth();
    const py = read(pyOut);
    expect(Object.keys(py)).toEqual(['0000-dask-operator.k8s.yaml', '0001-my-cluster.k8s.yaml', '0002-more.k8s.yaml']);
    expect(py).toEqual(read(tsOut));
    expect(py['0001-my-cluster.k8s.yaml']).toContain('name: FOO\n              value: bar');
  });

  test('the API server accepts the Python output (kubectl apply --dry-run=server, strict field validation)', async () => {
    const r = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', path.join(work, 'python')], { allowFailure: true });
    expect({ code: r.code, stderr: r.stderr.split('\n').filter((l) => l && !l.includes('missing the kubectl.kubernetes.io/last-applied-configuration')) }).toEqual({ code: 0, stderr: [] });
    expect(r.stdout).toContain('daskcluster.kubernetes.dask.org/my-cluster created (server dry run)');
    expect(r.stdout).toContain('poddisruptionbudget.policy/dask-operator created (server dry run)');
    expect(r.stdout).toContain('networkpolicy.networking.k8s.io/dask-operator created (server dry run)');
  });
});
