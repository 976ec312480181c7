/**
 * The Helm chart generated from the DaskOperator construct (lib/helm/operator-chart.ts), rendered by the real helm
 * CLI (hack/helm/build.sh, `helm template`, offline): for the same settings it installs exactly the objects the
 * construct synthesizes (plus Helm's own labels), its values.schema.json refuses bad values, `helm lint` passes,
 * and generation is deterministic (`npm run synth` writes it to dist/helm/dask-operator).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Chart, Duration, Size } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import {
  Cpu, DaskOperator, DaskOperatorHelmChart, DaskOperatorMonitoring, EnvValue, ImagePullPolicy, LogLevel, ProfileType, TaintEffect, TolerationOperator, Volume,
  type DaskOperatorProps,
} from '../../lib/index';

type Json = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
const ROOT = path.join(__dirname, '..', '..');
const helm = execFileSync('bash', [path.join(ROOT, 'hack', 'helm', 'build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dask-operator-chart-'));
const chartDir = path.join(dir, 'dask-operator');
const RELEASE_NS = 'ops';

beforeAll(() => {
  DaskOperatorHelmChart.write(chartDir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function helmTemplate(values: Json): { code: number; docs: Json[]; stderr: string } {
  const file = path.join(dir, 'values.json');
  fs.writeFileSync(file, JSON.stringify(values));
  // HOME and the Helm dirs inside the temp dir: nothing of a user's Helm config is read or written.
  const env = { ...process.env, HELM_CACHE_HOME: path.join(dir, 'cache'), HELM_CONFIG_HOME: path.join(dir, 'config'), HELM_DATA_HOME: path.join(dir, 'data') };
  const r = spawnSync(helm, ['template', 'dask-operator', chartDir, '-n', RELEASE_NS, '-f', file], { encoding: 'utf8', env });
  const docs = r.status === 0 ? parseAllDocuments(r.stdout).map((d) => d.toJS() as Json).filter((d) => d) : [];
  return { code: r.status ?? -1, docs, stderr: r.stderr };
}

/** The construct's objects for the same settings, as Helm would install them (namespace of the release, no CRDs). */
function construct(props: DaskOperatorProps, monitor?: { labels: Record<string, string>; interval: string }): Json[] {
  const chart = new Chart(new App(), 'x');
  const operator = new DaskOperator(chart, 'operator', { ...props, namespace: RELEASE_NS, createNamespace: false, installCrds: false });
  if (monitor) new DaskOperatorMonitoring(chart, 'm', { operator, ...monitor });
  return chart.toJson() as Json[];
}

const withoutHelmLabels = (o: Json): Json => {
  const c = structuredClone(o);
  delete c.metadata.labels['helm.sh/chart'];
  delete c.metadata.labels['app.kubernetes.io/managed-by'];
  return c;
};
const byKey = (docs: Json[]) => Object.fromEntries(docs.map((d) => [`${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`, d]));

describe('the dask-operator Helm chart', () => {
  test('default values install exactly what the DaskOperator construct does', () => {
    const r = helmTemplate({});
    expect(r.stderr).toBe('');
    expect(byKey(r.docs.map(withoutHelmLabels))).toEqual(byKey(construct({})));
    for (const d of r.docs) expect(d.metadata.labels).toMatchObject({ 'helm.sh/chart': 'dask-operator-0.1.0', 'app.kubernetes.io/managed-by': 'Helm' });
  });

  test('every value maps to its prop: the same objects as the construct with the same settings', () => {
    const affinity = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'dask-operator' } } } }] } };
    const podSecurityContext = { runAsNonRoot: true, runAsUser: 2000, runAsGroup: 2000, fsGroup: 2000, seccompProfile: { type: ProfileType.RUNTIME_DEFAULT } };
    const containerSecurityContext = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } };
    const metricsFrom = [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }];
    const props: DaskOperatorProps = {
      image: 'registry.example.com/dask-operator:1.2.3',
      imagePullPolicy: ImagePullPolicy.ALWAYS,
      imagePullSecrets: ['registry-a'],
      replicas: 2,
      resources: { cpu: { request: Cpu.millis(200) }, memory: { request: Size.mebibytes(256), limit: Size.gibibytes(1) } },
      watchNamespaces: ['team-b', 'team-a', 'team-b'],
      serviceAccountName: 'dask-ops',
      serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/dask' },
      logLevel: LogLevel.DEBUG,
      clusterDomain: 'corp.local',
      concurrency: 8,
      workerCreationBatchSize: 20,
      kubeApiQps: 2.5,
      kubeApiBurst: 5,
      metricsPort: 9090,
      plugins: ['@acme/dask-plugin', './local-plugin'],
      extraRules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'patch'] }],
      env: { A_SETTING: 'one', B_SETTING: 'two words' },
      envValues: { TOKEN: EnvValue.fromSecret('token', 'value') },
      podMetadata: { labels: { team: 'platform' }, annotations: { 'example.com/owner': 'platform' } },
      podSecurityContext,
      containerSecurityContext,
      volumes: [Volume.fromConfigMap('plugins', 'dask-plugins')],
      volumeMounts: [{ name: 'plugins', mountPath: '/plugins', readOnly: true }],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: TolerationOperator.EQUAL, value: 'platform', effect: TaintEffect.NO_SCHEDULE }],
      affinity,
      priorityClassName: 'platform-critical',
      probeTimeout: Duration.seconds(5),
      networkPolicy: { metricsFrom, apiServerCidrs: ['10.0.0.1/32'], apiServerPorts: [6443] },
      userRoles: false,
    };
    const expected = construct(props, { labels: { release: 'prometheus' }, interval: '30s' });
    expect(expected.map((o) => o.kind)).toEqual(expect.arrayContaining(['PodDisruptionBudget', 'NetworkPolicy', 'ServiceMonitor']));
    const r = helmTemplate({
      image: { repository: 'registry.example.com/dask-operator', tag: '1.2.3', pullPolicy: 'Always' },
      imagePullSecrets: [{ name: 'registry-a' }],
      replicaCount: 2,
      // The chart takes Kubernetes' requests/limits form; the construct's Cpu/Size give the same quantities.
      resources: { requests: { cpu: '200m', memory: '256Mi' }, limits: { memory: '1Gi' } },
      watchNamespaces: props.watchNamespaces,
      serviceAccount: { name: 'dask-ops', annotations: props.serviceAccountAnnotations },
      logLevel: 'debug',
      clusterDomain: 'corp.local',
      concurrency: 8,
      workerCreationBatchSize: 20,
      kubeApiQps: 2.5,
      kubeApiBurst: 5,
      metricsPort: 9090,
      plugins: props.plugins,
      extraRules: props.extraRules,
      env: props.env,
      extraEnv: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'token', key: 'value' } } }],
      podLabels: { team: 'platform' },
      podAnnotations: { 'example.com/owner': 'platform' },
      podSecurityContext: { runAsUser: 2000, runAsGroup: 2000, fsGroup: 2000 }, // Helm merges these into the default
      securityContext: containerSecurityContext,
      volumes: [{ name: 'plugins', configMap: { name: 'dask-plugins' } }],
      volumeMounts: [{ name: 'plugins', mountPath: '/plugins', readOnly: true }],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'platform', effect: 'NoSchedule' }],
      affinity,
      priorityClassName: 'platform-critical',
      probeTimeoutSeconds: 5,
      networkPolicy: { enabled: true, metricsFrom, apiServerCidrs: ['10.0.0.1/32'], apiServerPorts: [6443] },
      userRoles: false,
      serviceMonitor: { enabled: true, labels: { release: 'prometheus' }, interval: '30s' },
    });
    expect(r.stderr).toBe('');
    expect(byKey(r.docs.map(withoutHelmLabels))).toEqual(byKey(expected));
    expect(r.docs.filter((d) => d.kind === 'ClusterRole')).toEqual([]);
    expect(r.docs.filter((d) => d.kind === 'Role' && d.metadata.name === 'dask-operator').map((d) => d.metadata.namespace)).toEqual(['team-a', 'team-b']);
  });

  test('switches: the construct and the chart agree on what each one leaves out or adds', () => {
    const cases: [DaskOperatorProps, Json][] = [
      [{ createServiceAccount: false, serviceAccountName: 'made-elsewhere' }, { serviceAccount: { create: false, name: 'made-elsewhere' } }],
      [{ createRbac: false }, { rbac: { create: false } }],
      [{ createRbac: false, watchNamespaces: ['team-a'] }, { rbac: { create: false }, watchNamespaces: ['team-a'] }],
      [{ replicas: 3, podDisruptionBudget: false }, { replicaCount: 3, podDisruptionBudget: { enabled: false } }],
      [{ replicas: 2, podDisruptionBudget: true }, { replicaCount: 2, podDisruptionBudget: { enabled: true } }],
      [{ replicas: 0 }, { replicaCount: 0 }],
      [{ networkPolicy: {} }, { networkPolicy: { enabled: true } }],
      [{ networkPolicy: { metricsFrom: [] } }, { networkPolicy: { enabled: true, metricsFrom: [] } }],
      [{ networkPolicy: {}, watchNamespaces: ['team-a'] }, { networkPolicy: { enabled: true }, watchNamespaces: ['team-a'] }],
    ];
    for (const [props, values] of cases) {
      const r = helmTemplate(values);
      expect({ values, stderr: r.stderr }).toEqual({ values, stderr: '' });
      expect({ values, objects: byKey(r.docs.map(withoutHelmLabels)) }).toEqual({ values, objects: byKey(construct(props)) });
    }
  });

  test('podDisruptionBudget.enabled: true with one replica fails the install, as the construct fails synth', () => {
    const r = helmTemplate({ podDisruptionBudget: { enabled: true } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/podDisruptionBudget.enabled: true needs replicaCount >= 2/);
  });

  test('userRoles (default true): the aggregated view and edit ClusterRoles, as the construct makes them', () => {
    const r = helmTemplate({});
    expect(r.stderr).toBe('');
    const roles = (docs: Json[]) => docs.filter((d) => d.kind === 'ClusterRole' && /-(view|edit)$/.test(d.metadata.name));
    const byName = (docs: Json[]) => roles(docs).sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
    expect(byName(r.docs.map(withoutHelmLabels))).toEqual(byName(construct({})));
    expect(byName(r.docs).map((d) => d.metadata.name)).toEqual(['dask-operator-edit', 'dask-operator-view']);
  });

  test('values.schema.json refuses values the construct would not accept', () => {
    for (const [values, message] of [
      [{ logLevel: 'loud' }, /logLevel/],
      [{ replicaCount: -1 }, /replicaCount/],
      [{ metricsPort: 70000 }, /metricsPort/],
      [{ watchNamespaces: ['Team_A'] }, /watchNamespaces/],
      [{ imagePullPolicy: 'Always' }, /imagePullPolicy/],
      [{ workerCreationBatchSize: 0 }, /workerCreationBatchSize/],
      [{ kubeApiQps: 0 }, /kubeApiQps/],
      [{ kubeApiBurst: 1.5 }, /kubeApiBurst/],
      [{ serviceAccount: { name: 'Dask_Ops' } }, /serviceAccount/],
      [{ podLabels: { 'app.kubernetes.io/name': 'mine' } }, /podLabels/],
      [{ env: { POD_NAME: 'x' } }, /env/],
      [{ extraEnv: [{ name: 'POD_NAMESPACE', value: 'x' }] }, /extraEnv/],
      [{ volumes: [{ name: 'tmp', emptyDir: {} }] }, /volumes/],
      [{ volumeMounts: [{ name: 'a', mountPath: '/tmp' }] }, /volumeMounts/],
      [{ networkPolicy: { enabled: true, apiServerPorts: [] } }, /apiServerPorts/],
      [{ networkPolicy: { enabled: true, metricsFrom: [{}] } }, /metricsFrom/],
      [{ podDisruptionBudget: { enabled: 'yes' } }, /podDisruptionBudget/],
      [{ priorityClassName: 'Not Valid' }, /priorityClassName/],
    ] as [Json, RegExp][]) {
      const r = helmTemplate(values);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
    }
  });

  test('helm lint passes; Chart.yaml, the CRDs in crds/ and the values are the construct\'s', () => {
    const lint = spawnSync(helm, ['lint', chartDir], { encoding: 'utf8', env: { ...process.env, HELM_CACHE_HOME: path.join(dir, 'cache'), HELM_CONFIG_HOME: path.join(dir, 'config'), HELM_DATA_HOME: path.join(dir, 'data') } });
    expect(lint.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    const chartYaml = parseAllDocuments(fs.readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8'))[0].toJS();
    expect(chartYaml).toMatchObject({ apiVersion: 'v2', name: 'dask-operator', version: '0.1.0', appVersion: '0.1.0', type: 'application' });
    const crds = fs.readdirSync(path.join(chartDir, 'crds')).sort();
    expect(crds).toEqual(['daskautoscalers', 'daskclusters', 'daskjobs', 'daskworkergroups'].map((p) => `${p}.kubernetes.dask.org.yaml`));
    const fromConstruct = (new DaskOperator(new Chart(new App(), 'c'), 'o').crds.map((c) => c.toJson()) as Json[]).find((c) => c.metadata.name === 'daskclusters.kubernetes.dask.org');
    expect(parseAllDocuments(fs.readFileSync(path.join(chartDir, 'crds', 'daskclusters.kubernetes.dask.org.yaml'), 'utf8'))[0].toJS()).toEqual(fromConstruct);
  });

  test('generation is deterministic', () => {
    expect(DaskOperatorHelmChart.files()).toEqual(DaskOperatorHelmChart.files());
  });
});
