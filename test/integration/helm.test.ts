/**
 * The generated dask-operator Helm chart with the real helm CLI (hack/helm/build.sh) on the local control plane:
 * `helm install --wait` brings the operator Deployment up (on kwok the Pod is marked Running and Ready without its
 * container running: the operator process itself is tested elsewhere, from the same objects), `helm upgrade` with a
 * changed value rolls it (a new ReplicaSet, a new pod-template-hash, the new argument), `helm uninstall` removes
 * the release but leaves the CRDs and the Dask objects, and a second release with the pod-level values, two replicas,
 * a PodDisruptionBudget and a NetworkPolicy comes up and uninstalls cleanly.
 *
 * Boundaries: the release watches only its own namespace and leaves the user roles out (so no cluster-scoped
 * ClusterRole collides with other test files on the shared cluster, which install the same names without Helm's labels), and the four CRDs exist before the install (the test cluster starts with them), so
 * Helm skips its crds/ as it does for any existing CRD; the chart's CRD files are checked against the construct's in
 * test/construct/helm-chart.test.ts.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Chart } from 'cdk8s';
import { DaskCluster, DaskOperatorHelmChart } from '../../lib/index';
import { eventually, kubectl, kubectlJson, testCluster, withNamespace } from './support';

jest.setTimeout(240_000);
const ns = withNamespace('helm');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dask-operator-helm-'));
const chartDir = path.join(dir, 'dask-operator');
let helmBin: string;

beforeAll(() => {
  const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
  helmBin = execFileSync('bash', [path.join(__dirname, '..', '..', 'hack', 'helm', 'build.sh'), '--print-path'], { encoding: 'utf8' }).trim();
  DaskOperatorHelmChart.write(chartDir);
});
afterAll(async () => {
  await helm(['uninstall', 'dask-operator', '-n', ns.name, '--ignore-not-found', '--wait', '--timeout', '60s']).catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Run { code: number; stdout: string; stderr: string }
/** Runs helm against the test cluster, with Helm's own dirs inside the temp dir. */
function helm(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, KUBECONFIG: testCluster().kubeconfig, HELM_CACHE_HOME: path.join(dir, 'cache'), HELM_CONFIG_HOME: path.join(dir, 'config'), HELM_DATA_HOME: path.join(dir, 'data') };
    const child = spawn(helmBin, [...args, '--kubeconfig', testCluster().kubeconfig], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

async function must(args: string[]): Promise<Run> {
  const r = await helm(args);
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return r;
}

interface Deploy { metadata: { generation: number }; status?: { observedGeneration?: number; readyReplicas?: number; updatedReplicas?: number; replicas?: number } }
interface RS { metadata: { name: string; labels: Record<string, string> }; spec: { replicas: number; template: { spec: { containers: { args: string[] }[] } } } }

const replicaSets = async (): Promise<RS[]> =>
  (await kubectlJson<{ items: RS[] }>(['get', 'replicasets', '-n', ns.name, '-l', 'app.kubernetes.io/name=dask-operator', '-o', 'json'])).items;
const runningPods = async (): Promise<{ metadata: { labels: Record<string, string>; deletionTimestamp?: string }; status: { phase: string } }[]> =>
  (await kubectlJson<{ items: { metadata: { labels: Record<string, string>; deletionTimestamp?: string }; status: { phase: string } }[] }>(['get', 'pods', '-n', ns.name, '-l', 'app.kubernetes.io/name=dask-operator', '-o', 'json'])).items
    .filter((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp);

test('helm install: the operator Deployment comes up (Running on kwok) with the chart\'s values', async () => {
  const r = await must(['install', 'dask-operator', chartDir, '-n', ns.name, '--set', `watchNamespaces={${ns.name}}`, '--set', 'userRoles=false', '--wait', '--timeout', '120s']);
  expect(r.stdout).toMatch(/STATUS: deployed/);
  expect(r.stdout).toContain(`The Dask operator runs in namespace ${ns.name}, watching ${ns.name}.`);
  const deploy = await kubectlJson<Deploy>(['get', 'deployment', 'dask-operator', '-n', ns.name, '-o', 'json']);
  expect(deploy.status?.readyReplicas).toBe(1);
  const pods = await runningPods();
  expect(pods).toHaveLength(1);
  const [rs] = await replicaSets();
  expect(rs.spec.template.spec.containers[0].args).toEqual(expect.arrayContaining(['--log-level=info', `--namespaces=${ns.name}`, `--leader-election-namespace=${ns.name}`]));
  const role = await kubectlJson<{ metadata: { labels: Record<string, string> } }>(['get', 'role', 'dask-operator', '-n', ns.name, '-o', 'json']);
  expect(role.metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');
});

test('helm upgrade with a changed value rolls the operator: a new ReplicaSet (pod-template-hash) with the new argument', async () => {
  const before = (await replicaSets()).map((r) => r.metadata.labels['pod-template-hash']);
  expect(before).toHaveLength(1);
  const r = await must(['upgrade', 'dask-operator', chartDir, '-n', ns.name, '--reuse-values', '--set', 'logLevel=debug', '--wait', '--timeout', '120s']);
  expect(r.stdout).toMatch(/REVISION: 2/);
  const sets = await eventually(replicaSets, { timeoutMs: 60_000, describe: 'a second ReplicaSet', until: (s) => s.length === 2 });
  const fresh = sets.find((s) => !before.includes(s.metadata.labels['pod-template-hash'])) as RS;
  expect(fresh.spec.template.spec.containers[0].args).toContain('--log-level=debug');
  expect(fresh.spec.template.spec.containers[0].args).toContain(`--namespaces=${ns.name}`);
  await eventually(async () => {
    const pods = await runningPods();
    expect(pods.map((p) => p.metadata.labels['pod-template-hash'])).toEqual([fresh.metadata.labels['pod-template-hash']]);
    expect(sets.find((s) => s !== fresh)?.metadata.labels['pod-template-hash']).toBe(before[0]);
  }, { timeoutMs: 60_000, describe: 'only the new ReplicaSet\'s Pod running' });
});

test('helm uninstall removes the release, keeps the CRDs and the Dask objects', async () => {
  const app = new App();
  new DaskCluster(new Chart(app, 'c', { namespace: ns.name }), 'kept', { workers: 1 });
  await kubectl(['apply', '-f', '-'], { input: app.synthYaml() });
  const r = await must(['uninstall', 'dask-operator', '-n', ns.name, '--wait', '--timeout', '120s']);
  expect(r.stdout).toMatch(/release "dask-operator" uninstalled/);
  await eventually(async () => {
    const left = await kubectl(['get', 'deployment,role,rolebinding,serviceaccount,service', '-n', ns.name, '-l', 'app.kubernetes.io/name=dask-operator', '-o', 'name']);
    expect(left.stdout.trim()).toBe('');
  }, { timeoutMs: 60_000, describe: 'the release\'s objects gone' });
  for (const crd of ['daskclusters', 'daskworkergroups', 'daskautoscalers', 'daskjobs']) {
    expect((await kubectl(['get', 'crd', `${crd}.kubernetes.dask.org`, '-o', 'name'])).stdout.trim()).toBe(`customresourcedefinition.apiextensions.k8s.io/${crd}.kubernetes.dask.org`);
  }
  expect((await kubectl(['get', 'daskcluster', 'kept', '-n', ns.name, '-o', 'name'])).stdout.trim()).toBe('daskcluster.kubernetes.dask.org/kept');
  await kubectl(['delete', 'daskcluster', 'kept', '-n', ns.name, '--wait=false']);
});

test('helm install with the upstream chart\'s values, a PodDisruptionBudget and a NetworkPolicy: 2 replicas come up, uninstall removes them all', async () => {
  const values = {
    watchNamespaces: [ns.name],
    replicaCount: 2,
    imagePullSecrets: [{ name: 'registry' }],
    serviceAccount: { name: 'dask-ops', annotations: { 'example.com/role': 'dask-operator' } },
    podLabels: { team: 'platform' },
    podAnnotations: { 'example.com/owner': 'platform' },
    podSecurityContext: { fsGroup: 1000 },
    volumes: [{ name: 'cache', emptyDir: { sizeLimit: '16Mi' } }],
    volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
    extraEnv: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'platform', effect: 'NoSchedule' }],
    affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'dask-operator' } } } }] } },
    probeTimeoutSeconds: 5,
    workerCreationBatchSize: 20,
    kubeApiQps: 50,
    kubeApiBurst: 100,
    networkPolicy: { enabled: true, apiServerCidrs: ['127.0.0.1/32'] },
    userRoles: false,
  };
  const file = path.join(dir, 'parity-values.json');
  fs.writeFileSync(file, JSON.stringify(values));
  await must(['install', 'dask-operator', chartDir, '-n', ns.name, '-f', file, '--wait', '--timeout', '120s']);
  const deploy = await kubectlJson<Deploy>(['get', 'deployment', 'dask-operator', '-n', ns.name, '-o', 'json']);
  expect(deploy.status?.readyReplicas).toBe(2);
  const pods = await eventually(runningPods, { timeoutMs: 60_000, describe: 'two operator Pods Running', until: (p) => p.length === 2 });
  for (const p of pods) expect(p.metadata.labels.team).toBe('platform');
  const [rs] = await replicaSets();
  expect(rs.spec.template.spec.containers[0].args).toEqual(expect.arrayContaining(['--create-batch-size=20', '--kube-api-qps=50', '--kube-api-burst=100', `--namespaces=${ns.name}`]));
  const names = (await kubectl(['get', 'poddisruptionbudget,networkpolicy,serviceaccount', '-n', ns.name, '-l', 'app.kubernetes.io/name=dask-operator', '-o', 'name'])).stdout.trim().split('\n').sort();
  expect(names).toEqual(['networkpolicy.networking.k8s.io/dask-operator', 'poddisruptionbudget.policy/dask-operator', 'serviceaccount/dask-ops']);
  await must(['uninstall', 'dask-operator', '-n', ns.name, '--wait', '--timeout', '120s']);
  await eventually(async () => {
    const left = await kubectl(['get', 'deployment,poddisruptionbudget,networkpolicy,serviceaccount', '-n', ns.name, '-l', 'app.kubernetes.io/name=dask-operator', '-o', 'name']);
    expect(left.stdout.trim()).toBe('');
  }, { timeoutMs: 60_000, describe: 'the second release\'s objects gone' });
});
