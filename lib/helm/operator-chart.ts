/**
 * A Helm chart for the Dask operator, generated from the DaskOperator construct: the templates are the construct's
 * own objects, synthesized with marker values in place of its props, the markers then turned into Helm expressions
 * over values.yaml. So the chart installs exactly what the construct does (tested: `helm template` with some values
 * equals the construct's synth with the same props), and a new prop or argument of the construct that the chart
 * does not map fails the generation instead of silently drifting. The CRDs go to the chart's crds/ (installed by
 * `helm install`, never upgraded or deleted by Helm: see docs/gitops.md).
 *
 * `npm run synth` writes it to dist/helm/dask-operator/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Chart, Yaml } from 'cdk8s';
import { DaskOperator, type DaskOperatorProps, type ImagePullPolicy, type LogLevel, type PolicyRule } from '../operator';
import { DEFAULT_OPERATOR_IMAGE, OPERATOR_VERSION } from '../operator-rbac';
import { DaskOperatorMonitoring } from '../monitoring';

/** Options of {@link DaskOperatorHelmChart.files}. */
export interface DaskOperatorHelmChartOptions {
  /**
   * Chart version (Chart.yaml `version`).
   * @default - the operator version
   */
  readonly version?: string;
}

type Json = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

const T = (name: string): string => `HELMTOK_${name}`;
const NS = T('namespace');
const WATCHED = T('watched');

/** Single-line markers and the Helm expression each becomes (every expression is rooted at `$`, so it works in ranges). */
const SCALARS: Record<string, string> = {
  [NS]: '{{ $.Release.Namespace }}',
  [T('image')]: '{{ $.Values.image.repository }}:{{ $.Values.image.tag | default $.Chart.AppVersion }}',
  [T('imagePullPolicy')]: '{{ $.Values.image.pullPolicy }}',
  [T('replicas')]: '{{ $.Values.replicaCount }}',
  [T('logLevel')]: '{{ $.Values.logLevel }}',
  [T('clusterDomain')]: '{{ $.Values.clusterDomain }}',
  [T('concurrency')]: '{{ $.Values.concurrency }}',
  [T('metricsPort')]: '{{ $.Values.metricsPort }}',
  [T('smInterval')]: '{{ $.Values.serviceMonitor.interval }}',
  [WATCHED]: '{{ . }}',
};

const asNumber = (token: string): number => token as unknown as number;

/** The construct's props with a marker for every value the chart exposes. */
function markedProps(watch: boolean): DaskOperatorProps {
  return {
    namespace: NS,
    createNamespace: false,
    installCrds: false,
    image: T('image'),
    imagePullPolicy: T('imagePullPolicy') as unknown as ImagePullPolicy,
    replicas: asNumber(T('replicas')),
    // resources: the construct's default, replaced as a whole by the values' (see template())
    watchNamespaces: watch ? [WATCHED] : [],
    logLevel: T('logLevel') as unknown as LogLevel,
    clusterDomain: T('clusterDomain'),
    concurrency: asNumber(T('concurrency')),
    metricsPort: asNumber(T('metricsPort')),
    plugins: [T('plugins')],
    extraRules: [{ apiGroups: [T('extraRules')], resources: [T('extraRules')], verbs: [T('extraRules')] }],
    env: { [T('envName')]: T('envValue') },
  };
}

function synth(props: DaskOperatorProps, monitor = false): Json[] {
  const chart = new Chart(new App(), 'helm');
  const operator = new DaskOperator(chart, 'operator', props);
  if (monitor) new DaskOperatorMonitoring(chart, 'monitoring', { operator, interval: T('smInterval'), labels: { [T('smLabels')]: '1' } });
  return chart.toJson() as Json[];
}

const indentOf = (line: string): number => line.length - line.trimStart().length;
const pad = (n: number): string => ' '.repeat(n);

/** Turns one object's YAML with markers into template text. */
function template(obj: Json): string {
  const o = structuredClone(obj);
  o.metadata.labels = { ...(o.metadata.labels ?? {}), [T('chartLabels')]: '1' };
  for (const c of o.spec?.template?.spec?.containers ?? []) {
    if (c.resources) c.resources = T('resources');
  }
  const lines = Yaml.stringify(o).trimEnd().split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const ind = indentOf(line);
    if (line.includes(T('chartLabels'))) {
      out.push(`${pad(ind)}helm.sh/chart: {{ printf "%s-%s" $.Chart.Name $.Chart.Version | replace "+" "_" }}`, `${pad(ind)}app.kubernetes.io/managed-by: {{ $.Release.Service }}`);
    } else if (line.trim() === `resources: ${T('resources')}`) {
      out.push(`${pad(ind)}resources:`, `${pad(ind)}  {{- toYaml $.Values.resources | nindent ${ind + 2} }}`);
    } else if (line.trim() === `- --namespaces=${WATCHED}`) {
      out.push(`${pad(ind)}{{- if $.Values.watchNamespaces }}`, `${pad(ind)}- --namespaces={{ join "," (sortAlpha (uniq $.Values.watchNamespaces)) }}`, `${pad(ind)}{{- end }}`);
    } else if (line.trim() === `- --plugins=${T('plugins')}`) {
      out.push(`${pad(ind)}{{- if $.Values.plugins }}`, `${pad(ind)}- --plugins={{ join "," $.Values.plugins }}`, `${pad(ind)}{{- end }}`);
    } else if (line.trim() === `- name: ${T('envName')}` && lines[i + 1]?.trim() === `value: ${T('envValue')}`) {
      out.push(`${pad(ind)}{{- range $name, $value := $.Values.env }}`, `${pad(ind)}- name: {{ $name }}`, `${pad(ind)}  value: {{ $value | quote }}`, `${pad(ind)}{{- end }}`);
      i++;
    } else if (line.trim() === '- apiGroups:' && lines[i + 1]?.trim() === `- ${T('extraRules')}`) {
      out.push(`${pad(ind)}{{- with $.Values.extraRules }}`, `${pad(ind)}{{- toYaml . | nindent ${ind} }}`, `${pad(ind)}{{- end }}`);
      // The marker rule's nested lines (apiGroups, resources, verbs and their items) are all indented deeper.
      while (i + 1 < lines.length && indentOf(lines[i + 1]) > ind) i++;
    } else if (line.trim() === `${T('smLabels')}: "1"`) {
      out.push(`${pad(ind)}{{- with $.Values.serviceMonitor.labels }}`, `${pad(ind)}{{- toYaml . | nindent ${ind} }}`, `${pad(ind)}{{- end }}`);
    } else if (line.trim() === `interval: ${T('smInterval')}`) {
      out.push(`${pad(ind)}{{- with $.Values.serviceMonitor.interval }}`, `${pad(ind)}interval: {{ . }}`, `${pad(ind)}{{- end }}`);
    } else {
      out.push(line);
    }
  }
  let text = out.join('\n');
  // Longest first: HELMTOK_image is a prefix of HELMTOK_imagePullPolicy.
  for (const [token, expr] of Object.entries(SCALARS).sort(([a], [b]) => b.length - a.length)) text = text.split(token).join(expr);
  const left = text.match(/HELMTOK_\w+/);
  if (left) throw new Error(`DaskOperatorHelmChart: the construct emitted ${left[0]} where the chart has no template for it; map it in lib/helm/operator-chart.ts`);
  return `${text}\n`;
}

const key = (o: Json): string => `${o.kind}/${o.metadata.name}`;

/** The chart's templates: one file per object, conditional where the construct's output depends on a prop. */
function templates(): Record<string, string> {
  const clusterWide = synth(markedProps(false));
  const perNamespace = synth(markedProps(true));
  const files: Record<string, string> = {};
  const name = (o: Json): string => `templates/${o.kind.toLowerCase()}${o.metadata.name === 'dask-operator' ? '' : `-${String(o.metadata.name).replace(/^dask-operator-/, '')}`}.yaml`;
  const scoped = new Set(['ClusterRole', 'ClusterRoleBinding']);
  const watchedOnly = (o: Json) => (o.kind === 'Role' || o.kind === 'RoleBinding') && o.metadata.namespace === WATCHED;
  const userRole = (o: Json) => o.kind === 'ClusterRole' && /^dask-operator-(view|edit)$/.test(o.metadata.name);
  for (const o of clusterWide) {
    if (userRole(o)) {
      files[name(o)] = `{{- if .Values.userRoles }}\n${template(o)}{{- end }}\n`;
    } else if (scoped.has(o.kind)) {
      files[name(o)] = `{{- if not .Values.watchNamespaces }}\n${template(o)}{{- end }}\n`;
    } else if (o.kind === 'Deployment') {
      // The per-namespace variant of the Deployment carries the conditional --namespaces argument.
      const withArg = perNamespace.find((p) => key(p) === key(o)) as Json;
      files[name(o)] = template(withArg);
    } else {
      files[name(o)] = template(o);
    }
  }
  for (const o of perNamespace.filter(watchedOnly)) {
    files[`templates/watched-${o.kind.toLowerCase()}.yaml`] = `{{- range (sortAlpha (uniq .Values.watchNamespaces)) }}\n---\n${template(o)}{{- end }}\n`;
  }
  const monitor = synth(markedProps(false), true).find((o) => o.kind === 'ServiceMonitor') as Json;
  files['templates/servicemonitor.yaml'] = `{{- if .Values.serviceMonitor.enabled }}\n${template(monitor)}{{- end }}\n`;
  files['templates/NOTES.txt'] = [
    'The Dask operator runs in namespace {{ .Release.Namespace }}{{ if .Values.watchNamespaces }}, watching {{ join ", " .Values.watchNamespaces }}{{ else }}, watching all namespaces{{ end }}.',
    '',
    'Check it:   kubectl -n {{ .Release.Namespace }} rollout status deployment/dask-operator',
    'A cluster:  kubectl apply -f - <<EOF (a kubernetes.dask.org/v1 DaskCluster), or the cdk8s-dask constructs.',
    '',
    'Helm installed the CRDs from crds/ and will not upgrade or delete them: after a chart upgrade that changes them,',
    'apply the new ones yourself (kubectl apply --server-side -f crds/); see docs/gitops.md of cdk8s-dask.',
    '',
  ].join('\n');
  return files;
}

/** values.yaml: every value with the construct's default and the prop's meaning. */
function values(): { yaml: string; defaults: Json } {
  const d = synth({ createNamespace: false, installCrds: false });
  const deploy = d.find((o) => o.kind === 'Deployment') as Json;
  const c = deploy.spec.template.spec.containers[0];
  const arg = (flag: string): string => (c.args as string[]).find((a) => a.startsWith(`--${flag}=`))?.split('=')[1] ?? '';
  const [repository, tag] = [DEFAULT_OPERATOR_IMAGE.slice(0, DEFAULT_OPERATOR_IMAGE.lastIndexOf(':')), DEFAULT_OPERATOR_IMAGE.slice(DEFAULT_OPERATOR_IMAGE.lastIndexOf(':') + 1)];
  const defaults = {
    image: { repository, tag: tag === OPERATOR_VERSION ? '' : tag, pullPolicy: c.imagePullPolicy },
    replicaCount: deploy.spec.replicas,
    resources: c.resources,
    watchNamespaces: [] as string[],
    logLevel: arg('log-level'),
    clusterDomain: arg('cluster-domain'),
    concurrency: Number(arg('concurrency')),
    metricsPort: c.ports[0].containerPort,
    plugins: [] as string[],
    extraRules: [] as PolicyRule[],
    env: {} as Record<string, string>,
    userRoles: true,
    serviceMonitor: { enabled: false, labels: {} as Record<string, string>, interval: '' },
  };
  const doc: [string, string][] = [
    ['image', 'Operator image; tag defaults to the chart\'s appVersion. (DaskOperator prop: image, imagePullPolicy)'],
    ['replicaCount', 'Replicas; more than one run as hot standbys behind a Lease (leader election). (replicas)'],
    ['resources', 'Requests and limits of the operator container. (resources)'],
    ['watchNamespaces', 'Namespaces to watch. Empty: all namespaces (ClusterRole); a list installs a Role and RoleBinding in each. (watchNamespaces)'],
    ['logLevel', 'debug, info, warn or error. (logLevel)'],
    ['clusterDomain', 'Cluster DNS domain used in scheduler addresses. (clusterDomain)'],
    ['concurrency', 'Reconciles run in parallel per kind. (concurrency)'],
    ['metricsPort', 'Port of /metrics, /healthz and /readyz. (metricsPort)'],
    ['plugins', 'npm packages (installed in the image) loaded as operator plugins; see docs/plugins.md. (plugins)'],
    ['extraRules', 'Extra RBAC rules (apiGroups, resources, verbs) for plugins, appended to the operator\'s own. (extraRules)'],
    ['env', 'Extra environment variables of the operator container, name: value. (env)'],
    ['userRoles', 'ClusterRoles aggregated into the built-in view, edit and admin roles, giving namespace users rights on the Dask kinds; see docs/security.md. (userRoles)'],
    ['serviceMonitor', 'A prometheus-operator ServiceMonitor for the operator\'s /metrics (needs the monitoring.coreos.com CRDs); labels for your Prometheus\' selector, interval e.g. 30s. (DaskOperatorMonitoring)'],
  ];
  const header = [
    '# Values of the dask-operator chart, generated from the DaskOperator construct of cdk8s-dask (lib/helm/operator-chart.ts).',
    '# Each value maps to the construct prop named in parentheses; the defaults are the construct\'s.',
    '',
  ];
  const body = doc.map(([k, comment]) => `# ${comment}\n${Yaml.stringify({ [k]: (defaults as Json)[k] }).trimEnd()}`).join('\n\n');
  return { yaml: `${header.join('\n')}${body}\n`, defaults };
}

/** values.schema.json: Helm refuses values that do not fit (types, enums, ranges) at install and upgrade. */
function valuesSchema(): Json {
  const str = { type: 'string' };
  const stringMap = { type: 'object', additionalProperties: str };
  const list = (items: Json) => ({ type: 'array', items });
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    properties: {
      image: { type: 'object', additionalProperties: false, required: ['repository'], properties: { repository: { type: 'string', minLength: 1 }, tag: str, pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] } } },
      replicaCount: { type: 'integer', minimum: 0 },
      resources: { type: 'object', additionalProperties: false, properties: { requests: stringMap, limits: stringMap } },
      watchNamespaces: list({ type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 }),
      logLevel: { enum: ['debug', 'info', 'warn', 'error'] },
      clusterDomain: { type: 'string', minLength: 1 },
      concurrency: { type: 'integer', minimum: 1 },
      metricsPort: { type: 'integer', minimum: 1, maximum: 65535 },
      plugins: list(str),
      extraRules: list({ type: 'object', required: ['apiGroups', 'resources', 'verbs'], additionalProperties: false, properties: { apiGroups: list(str), resources: list(str), verbs: list(str), resourceNames: list(str) } }),
      env: stringMap,
      userRoles: { type: 'boolean' },
      serviceMonitor: { type: 'object', additionalProperties: false, properties: { enabled: { type: 'boolean' }, labels: stringMap, interval: str } },
    },
  };
}

/**
 * The Helm chart `dask-operator`, generated from the DaskOperator construct.
 *
 * @example
 * DaskOperatorHelmChart.write('dist/helm/dask-operator');   // then: helm install dask-operator dist/helm/dask-operator -n dask-operator --create-namespace
 */
export class DaskOperatorHelmChart {
  /** Every file of the chart: path relative to the chart directory → content. */
  public static files(options: DaskOperatorHelmChartOptions = {}): { [file: string]: string } {
    const files: { [file: string]: string } = {};
    files['Chart.yaml'] = Yaml.stringify({
      apiVersion: 'v2',
      name: 'dask-operator',
      description: 'The cdk8s-dask operator for the kubernetes.dask.org/v1 kinds (DaskCluster, DaskWorkerGroup, DaskAutoscaler, DaskJob), generated from its DaskOperator construct',
      type: 'application',
      version: options.version ?? OPERATOR_VERSION,
      appVersion: OPERATOR_VERSION,
      keywords: ['dask', 'operator'],
    });
    const v = values();
    files['values.yaml'] = v.yaml;
    files['values.schema.json'] = `${JSON.stringify(valuesSchema(), null, 2)}\n`;
    const crds = synth({ createNamespace: false }).filter((o) => o.kind === 'CustomResourceDefinition');
    for (const crd of crds) files[`crds/${crd.metadata.name}.yaml`] = Yaml.stringify(crd);
    Object.assign(files, templates());
    return Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Writes the chart into `dir` (emptied first); returns the files written, relative to `dir`. */
  public static write(dir: string, options: DaskOperatorHelmChartOptions = {}): string[] {
    const files = DaskOperatorHelmChart.files(options);
    fs.rmSync(dir, { recursive: true, force: true });
    for (const [rel, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), content);
    }
    return Object.keys(files);
  }

  private constructor() {}
}
