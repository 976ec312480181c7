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
import { ApiObject, App, Chart, Duration, Yaml } from 'cdk8s';
import { EnvValue } from '../env';
import { DaskOperator, type DaskOperatorProps, type ImagePullPolicy, type LogLevel, type PolicyRule } from '../operator';
import { DEFAULT_OPERATOR_IMAGE, OPERATOR_VERSION } from '../operator-rbac';
import { DaskOperatorMonitoring } from '../monitoring';
import { NodeSelectorOperator, TolerationOperator, Volume } from '../pod';

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
  [T('workerCreationBatchSize')]: '{{ $.Values.workerCreationBatchSize }}',
  [T('kubeApiQps')]: '{{ $.Values.kubeApiQps }}',
  [T('kubeApiBurst')]: '{{ $.Values.kubeApiBurst }}',
  [T('serviceAccountName')]: '{{ $.Values.serviceAccount.name }}',
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
    imagePullSecrets: [T('imagePullSecrets')],
    serviceAccountName: T('serviceAccountName'),
    serviceAccountAnnotations: { [T('saAnnotations')]: '1' },
    podMetadata: { labels: { [T('podLabels')]: '1' }, annotations: { [T('podAnnotations')]: '1' } },
    // Whole fields replaced by markers in template(): the security contexts, affinity, tolerations, probe timeout.
    podSecurityContext: { runAsUser: 1 },
    containerSecurityContext: { runAsUser: 1 },
    volumes: [Volume.fromEmptyDir(T('volumes'))],
    volumeMounts: [{ name: T('volumes'), mountPath: `/${T('volumeMounts')}` }],
    envValues: { [T('extraEnv')]: EnvValue.fromFieldRef('metadata.uid') },
    nodeSelector: { [T('nodeSelector')]: '1' },
    tolerations: [{ operator: TolerationOperator.EXISTS }],
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: T('affinity'), operator: NodeSelectorOperator.EXISTS }] }] } } },
    priorityClassName: T('priorityClassName'),
    probeTimeout: Duration.seconds(1),
    workerCreationBatchSize: asNumber(T('workerCreationBatchSize')),
    kubeApiQps: asNumber(T('kubeApiQps')),
    kubeApiBurst: asNumber(T('kubeApiBurst')),
    podDisruptionBudget: true,
    networkPolicy: {
      metricsFrom: [{ namespaceSelector: { matchLabels: { [T('metricsFrom')]: '1' } } }],
      apiServerCidrs: [T('apiServerCidrs')],
      apiServerPorts: [asNumber(T('apiServerPorts'))],
    },
  };
}

/**
 * The construct's objects for these props, in construction order. Not through Chart.toJson(), which runs the
 * construct's synth-time validation: markers are not valid values (a port, a name), they only stand for them.
 */
function synth(props: DaskOperatorProps, monitor = false): Json[] {
  const chart = new Chart(new App(), 'helm');
  const operator = new DaskOperator(chart, 'operator', props);
  if (monitor) new DaskOperatorMonitoring(chart, 'monitoring', { operator, interval: T('smInterval'), labels: { [T('smLabels')]: '1' } });
  return chart.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject).map((o) => o.toJson() as Json);
}

const indentOf = (line: string): number => line.length - line.trimStart().length;
const pad = (n: number): string => ' '.repeat(n);

/**
 * Fields the values replace as a whole: before the YAML is written, template() swaps each one (where the marked
 * synth emitted it) for its marker, and the marker line becomes a Helm block. `optional`: left out when the value is
 * empty (the construct leaves the field out too); `always`: rendered even when empty; `scalar`: one value.
 */
const WHOLE: Record<string, { readonly value: string; readonly how: 'optional' | 'always' | 'scalar' }> = {
  resources: { value: '$.Values.resources', how: 'always' },
  podSecurityContext: { value: '$.Values.podSecurityContext', how: 'always' },
  securityContext: { value: '$.Values.securityContext', how: 'always' },
  imagePullSecrets: { value: '$.Values.imagePullSecrets', how: 'optional' },
  saAnnotations: { value: '$.Values.serviceAccount.annotations', how: 'optional' },
  podAnnotations: { value: '$.Values.podAnnotations', how: 'optional' },
  nodeSelector: { value: '$.Values.nodeSelector', how: 'optional' },
  tolerations: { value: '$.Values.tolerations', how: 'optional' },
  affinity: { value: '$.Values.affinity', how: 'optional' },
  priorityClassName: { value: '$.Values.priorityClassName', how: 'scalar' },
  probeTimeout: { value: '$.Values.probeTimeoutSeconds', how: 'scalar' },
};
/** List items the values append to the construct's own (`- HELMTOK_x` lines), and map entries (`HELMTOK_x: "1"`). */
const SPLICED: Record<string, string> = {
  volumes: '$.Values.volumes',
  volumeMounts: '$.Values.volumeMounts',
  extraEnv: '$.Values.extraEnv',
  extraRules: '$.Values.extraRules',
  podLabels: '$.Values.podLabels',
  smLabels: '$.Values.serviceMonitor.labels',
};

/** Swaps the whole-value fields of one (cloned) object for their markers. */
function markWholeFields(o: Json): void {
  const swap = (obj: Json | undefined, field: string, token: string): void => {
    if (obj && obj[field] !== undefined) obj[field] = T(token);
  };
  if (o.kind === 'ServiceAccount') swap(o.metadata, 'annotations', 'saAnnotations');
  const tpl = o.spec?.template;
  if (tpl) {
    swap(tpl.metadata, 'annotations', 'podAnnotations');
    const pod = tpl.spec as Json;
    swap(pod, 'securityContext', 'podSecurityContext');
    for (const field of ['imagePullSecrets', 'nodeSelector', 'tolerations', 'affinity']) swap(pod, field, field);
    pod.volumes = (pod.volumes as Json[]).map((v) => (v.name === T('volumes') ? T('volumes') : v));
    for (const c of pod.containers as Json[]) {
      swap(c, 'resources', 'resources');
      swap(c, 'securityContext', 'securityContext');
      for (const probe of [c.livenessProbe, c.readinessProbe]) swap(probe, 'timeoutSeconds', 'probeTimeout');
      c.volumeMounts = (c.volumeMounts as Json[]).map((m) => (m.name === T('volumes') ? T('volumeMounts') : m));
      c.env = (c.env as Json[]).map((e) => (e.name === T('extraEnv') ? T('extraEnv') : e));
    }
  }
  if (o.kind === 'NetworkPolicy') o.spec.ingress[0].from = T('metricsFrom');
}

/** Turns one object's YAML with markers into template text. */
function template(obj: Json): string {
  const o = structuredClone(obj);
  o.metadata.labels = { ...(o.metadata.labels ?? {}), [T('chartLabels')]: '1' };
  markWholeFields(o);
  const lines = Yaml.stringify(o).trimEnd().split('\n');
  const out: string[] = [];
  const markerOf = (text: string, re: RegExp): string | undefined => re.exec(text)?.[1];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const ind = indentOf(line);
    const t = line.trim();
    const next = (n: number): string => lines[i + n]?.trim() ?? '';
    const whole = /^([A-Za-z]+): HELMTOK_(\w+)$/.exec(t);
    const spliced = markerOf(t, /^- HELMTOK_(\w+)$/) ?? markerOf(t, /^"?HELMTOK_(\w+)"?: "1"$/);
    if (line.includes(T('chartLabels'))) {
      out.push(`${pad(ind)}helm.sh/chart: {{ printf "%s-%s" $.Chart.Name $.Chart.Version | replace "+" "_" }}`, `${pad(ind)}app.kubernetes.io/managed-by: {{ $.Release.Service }}`);
    } else if (whole && WHOLE[whole[2]]) {
      const [, field, token] = whole;
      const { value, how } = WHOLE[token];
      if (how === 'scalar') out.push(`${pad(ind)}{{- with ${value} }}`, `${pad(ind)}${field}: {{ . }}`, `${pad(ind)}{{- end }}`);
      else if (how === 'always') out.push(`${pad(ind)}${field}:`, `${pad(ind)}  {{- toYaml ${value} | nindent ${ind + 2} }}`);
      else out.push(`${pad(ind)}{{- with ${value} }}`, `${pad(ind)}${field}:`, `${pad(ind)}  {{- toYaml . | nindent ${ind + 2} }}`, `${pad(ind)}{{- end }}`);
    } else if (spliced && SPLICED[spliced]) {
      out.push(`${pad(ind)}{{- with ${SPLICED[spliced]} }}`, `${pad(ind)}{{- toYaml . | nindent ${ind} }}`, `${pad(ind)}{{- end }}`);
    } else if (t === `- ${WATCHED}`) {
      out.push(`${pad(ind)}{{- range (sortAlpha (uniq $.Values.watchNamespaces)) }}`, `${pad(ind)}- {{ . }}`, `${pad(ind)}{{- end }}`);
    } else if (t === `- --namespaces=${WATCHED}`) {
      out.push(`${pad(ind)}{{- if $.Values.watchNamespaces }}`, `${pad(ind)}- --namespaces={{ join "," (sortAlpha (uniq $.Values.watchNamespaces)) }}`, `${pad(ind)}{{- end }}`);
    } else if (t === `- --plugins=${T('plugins')}`) {
      out.push(`${pad(ind)}{{- if $.Values.plugins }}`, `${pad(ind)}- --plugins={{ join "," $.Values.plugins }}`, `${pad(ind)}{{- end }}`);
    } else if (t === `- name: ${T('envName')}` && next(1) === `value: ${T('envValue')}`) {
      out.push(`${pad(ind)}{{- range $name, $value := $.Values.env }}`, `${pad(ind)}- name: {{ $name }}`, `${pad(ind)}  value: {{ $value | quote }}`, `${pad(ind)}{{- end }}`);
      i++;
    } else if (t === '- apiGroups:' && next(1) === `- ${T('extraRules')}`) {
      out.push(`${pad(ind)}{{- with $.Values.extraRules }}`, `${pad(ind)}{{- toYaml . | nindent ${ind} }}`, `${pad(ind)}{{- end }}`);
      // The marker rule's nested lines (apiGroups, resources, verbs and their items) are all indented deeper.
      while (i + 1 < lines.length && indentOf(lines[i + 1]) > ind) i++;
    } else if (t === 'ingress:' && next(1) === `- from: ${T('metricsFrom')}`) {
      // No peers: no ingress rule at all (an ingress rule without `from` would let everyone in).
      out.push('{{- if $.Values.networkPolicy.metricsFrom }}', line, `${pad(ind + 2)}- from:`, `${pad(ind + 6)}{{- toYaml $.Values.networkPolicy.metricsFrom | nindent ${ind + 6} }}`);
      i++;
      while (i + 1 < lines.length && indentOf(lines[i + 1]) > ind) out.push(lines[++i]);
      out.push('{{- else }}', `${pad(ind)}ingress: []`, '{{- end }}');
    } else if (t === `- port: ${T('apiServerPorts')}` && next(1) === 'protocol: TCP') {
      out.push(`${pad(ind)}{{- range $.Values.networkPolicy.apiServerPorts }}`, `${pad(ind)}- port: {{ . }}`, `${pad(ind)}  protocol: TCP`, `${pad(ind)}{{- end }}`);
      i++;
    } else if (t === 'to:' && next(1) === '- ipBlock:' && next(2) === `cidr: ${T('apiServerCidrs')}`) {
      out.push(`${pad(ind)}{{- with $.Values.networkPolicy.apiServerCidrs }}`, line, `${pad(ind)}  {{- range . }}`, `${pad(ind + 2)}- ipBlock:`, `${pad(ind + 6)}cidr: {{ . }}`, `${pad(ind)}  {{- end }}`, `${pad(ind)}{{- end }}`);
      i += 2;
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
  const name = (o: Json): string => {
    const own = o.kind === 'ServiceAccount' ? '' : String(o.metadata.name).replace(/^dask-operator-?/, '');
    return `templates/${o.kind.toLowerCase()}${own ? `-${own}` : ''}.yaml`;
  };
  const rbacKinds = new Set(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
  const clusterOnly = new Set(['ClusterRole', 'ClusterRoleBinding']);
  const watchedOnly = (o: Json) => (o.kind === 'Role' || o.kind === 'RoleBinding') && o.metadata.namespace === WATCHED;
  const pdb = [
    '{{- $pdb := .Values.podDisruptionBudget.enabled }}',
    '{{- if kindIs "invalid" $pdb }}{{- $pdb = gt (int .Values.replicaCount) 1 }}{{- end }}',
    '{{- if $pdb }}',
    '{{- if lt (int .Values.replicaCount) 2 }}',
    '{{- fail "podDisruptionBudget.enabled: true needs replicaCount >= 2: with one operator Pod a budget of maxUnavailable 1 protects nothing; set replicaCount: 2 or drop podDisruptionBudget.enabled" }}',
    '{{- end }}',
  ].join('\n');
  const userRole = (o: Json) => o.kind === 'ClusterRole' && /^dask-operator-(view|edit)$/.test(o.metadata.name);
  for (const o of clusterWide) {
    const variant = perNamespace.find((p) => key(p) === key(o) && p.metadata.namespace === o.metadata.namespace) as Json;
    if (userRole(o)) {
      files[name(o)] = `{{- if .Values.userRoles }}\n${template(o)}{{- end }}\n`;
    } else if (clusterOnly.has(o.kind)) {
      files[name(o)] = `{{- if and .Values.rbac.create (not .Values.watchNamespaces) }}\n${template(o)}{{- end }}\n`;
    } else if (rbacKinds.has(o.kind)) {
      files[name(o)] = `{{- if .Values.rbac.create }}\n${template(o)}{{- end }}\n`;
    } else if (o.kind === 'ServiceAccount') {
      files[name(o)] = `{{- if .Values.serviceAccount.create }}\n${template(o)}{{- end }}\n`;
    } else if (o.kind === 'Deployment') {
      // The per-namespace variant of the Deployment carries the conditional --namespaces argument.
      files[name(o)] = template(variant);
    } else if (o.kind === 'PodDisruptionBudget') {
      files[name(o)] = `${pdb}\n${template(o)}{{- end }}\n`;
    } else if (o.kind === 'NetworkPolicy') {
      // Scheduler egress: every namespace, or only the watched ones.
      files[name(o)] = `{{- if .Values.networkPolicy.enabled }}\n{{- if .Values.watchNamespaces }}\n${template(variant)}{{- else }}\n${template(o)}{{- end }}\n{{- end }}\n`;
    } else {
      files[name(o)] = template(o);
    }
  }
  for (const o of perNamespace.filter(watchedOnly)) {
    files[`templates/watched-${o.kind.toLowerCase()}.yaml`] = `{{- if .Values.rbac.create }}\n{{- range (sortAlpha (uniq .Values.watchNamespaces)) }}\n---\n${template(o)}{{- end }}\n{{- end }}\n`;
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
  const pod = deploy.spec.template.spec;
  const c = pod.containers[0];
  const arg = (flag: string): string => (c.args as string[]).find((a) => a.startsWith(`--${flag}=`))?.split('=')[1] ?? '';
  const sa = d.find((o) => o.kind === 'ServiceAccount') as Json;
  const [repository, tag] = [DEFAULT_OPERATOR_IMAGE.slice(0, DEFAULT_OPERATOR_IMAGE.lastIndexOf(':')), DEFAULT_OPERATOR_IMAGE.slice(DEFAULT_OPERATOR_IMAGE.lastIndexOf(':') + 1)];
  const np = (synth({ createNamespace: false, installCrds: false, networkPolicy: {} }).find((o) => o.kind === 'NetworkPolicy') as Json).spec;
  const defaults = {
    image: { repository, tag: tag === OPERATOR_VERSION ? '' : tag, pullPolicy: c.imagePullPolicy },
    imagePullSecrets: [] as Json[],
    replicaCount: deploy.spec.replicas,
    resources: c.resources,
    watchNamespaces: [] as string[],
    serviceAccount: { create: true, name: sa.metadata.name, annotations: {} as Record<string, string> },
    rbac: { create: true },
    logLevel: arg('log-level'),
    clusterDomain: arg('cluster-domain'),
    concurrency: Number(arg('concurrency')),
    workerCreationBatchSize: Number(arg('create-batch-size')),
    kubeApiQps: Number(arg('kube-api-qps')),
    kubeApiBurst: Number(arg('kube-api-burst')),
    metricsPort: c.ports[0].containerPort,
    plugins: [] as string[],
    extraRules: [] as PolicyRule[],
    env: {} as Record<string, string>,
    userRoles: true,
    extraEnv: [] as Json[],
    podLabels: {} as Record<string, string>,
    podAnnotations: {} as Record<string, string>,
    podSecurityContext: pod.securityContext,
    securityContext: c.securityContext,
    volumes: [] as Json[],
    volumeMounts: [] as Json[],
    nodeSelector: {} as Record<string, string>,
    tolerations: [] as Json[],
    affinity: {} as Json,
    priorityClassName: '',
    probeTimeoutSeconds: 0,
    podDisruptionBudget: {} as Json,
    networkPolicy: { enabled: false, metricsFrom: np.ingress[0].from, apiServerCidrs: [] as string[], apiServerPorts: np.egress[1].ports.map((p: Json) => p.port) },
    serviceMonitor: { enabled: false, labels: {} as Record<string, string>, interval: '' },
  };
  const doc: [string, string][] = [
    ['image', 'Operator image; tag defaults to the chart\'s appVersion. (DaskOperator prop: image, imagePullPolicy)'],
    ['imagePullSecrets', 'Secrets for pulling the image, as [{name: my-registry}]. (imagePullSecrets)'],
    ['replicaCount', 'Replicas; more than one run as hot standbys behind a Lease (leader election). (replicas)'],
    ['resources', 'Requests and limits of the operator container. (resources)'],
    ['watchNamespaces', 'Namespaces to watch. Empty: all namespaces (ClusterRole); a list installs a Role and RoleBinding in each. (watchNamespaces)'],
    ['serviceAccount', 'The ServiceAccount: create it (or use an existing one of that name), its name and annotations (IRSA, Workload Identity). (createServiceAccount, serviceAccountName, serviceAccountAnnotations)'],
    ['rbac', 'Create the ClusterRole/Roles, the leader-election Role and their bindings. (createRbac)'],
    ['logLevel', 'debug, info, warn or error. (logLevel)'],
    ['clusterDomain', 'Cluster DNS domain used in scheduler addresses. (clusterDomain)'],
    ['concurrency', 'Reconciles run in parallel per kind. (concurrency)'],
    ['workerCreationBatchSize', 'Worker Pods created per worker group and reconcile (--create-batch-size). (workerCreationBatchSize)'],
    ['kubeApiQps', 'Client-side rate limit: API-server requests per second (--kube-api-qps). (kubeApiQps)'],
    ['kubeApiBurst', 'Requests that may go at once before kubeApiQps applies (--kube-api-burst). (kubeApiBurst)'],
    ['metricsPort', 'Port of /metrics, /healthz and /readyz. (metricsPort)'],
    ['plugins', 'npm packages (installed in the image) loaded as operator plugins; see docs/plugins.md. (plugins)'],
    ['extraRules', 'Extra RBAC rules (apiGroups, resources, verbs) for plugins, appended to the operator\'s own. (extraRules)'],
    ['env', 'Extra environment variables of the operator container, name: value. (env)'],
    ['extraEnv', 'More environment variables, as Kubernetes EnvVars (valueFrom a Secret, ConfigMap or field), after env. (envValues)'],
    ['podLabels', 'Labels of the operator Pods (not the chart\'s own keys). (podMetadata.labels)'],
    ['podAnnotations', 'Annotations of the operator Pods. (podMetadata.annotations)'],
    ['podSecurityContext', 'Security context of the operator Pod. Helm merges your keys into this default; set a key to null to drop it. (podSecurityContext, which replaces the default as a whole)'],
    ['securityContext', 'Security context of the operator container; merged like podSecurityContext. (containerSecurityContext)'],
    ['volumes', 'Extra volumes of the operator Pod (Kubernetes Volumes), next to its own tmp. (volumes)'],
    ['volumeMounts', 'Extra volume mounts of the operator container, each naming one of volumes. (volumeMounts)'],
    ['nodeSelector', 'Node labels the operator Pods must run on. (nodeSelector)'],
    ['tolerations', 'Taints the operator Pods tolerate (Kubernetes Tolerations). (tolerations)'],
    ['affinity', 'Node and pod (anti-)affinity of the operator Pods (a Kubernetes Affinity). (affinity)'],
    ['priorityClassName', 'PriorityClass of the operator Pods; empty: the cluster default. (priorityClassName)'],
    ['probeTimeoutSeconds', 'Timeout of the liveness and readiness probes; 0: Kubernetes\' default (1 s). (probeTimeout)'],
    ['podDisruptionBudget', 'enabled: true or false; unset: a PodDisruptionBudget (maxUnavailable 1) exactly when replicaCount > 1; true with replicaCount 1 fails. (podDisruptionBudget)'],
    ['networkPolicy', 'A NetworkPolicy isolating the operator: ingress to the metrics port from metricsFrom (NetworkPolicyPeers; [] lets nobody in); egress to DNS, the API server (apiServerPorts, on apiServerCidrs or anywhere) and Dask schedulers. (networkPolicy)'],
    ['userRoles', 'ClusterRoles aggregated into the built-in view, edit and admin roles, giving namespace users rights on the Dask kinds; see docs/security.md. (userRoles)'],
    ['serviceMonitor', 'A prometheus-operator ServiceMonitor for the operator\'s /metrics (needs the monitoring.coreos.com CRDs); labels for your Prometheus\' selector, interval e.g. 30s. (DaskOperatorMonitoring)'],
  ];
  const header = [
    '# Values of the dask-operator chart, generated from the DaskOperator construct of cdk8s-dask (lib/helm/operator-chart.ts).',
    '# Each value maps to the construct prop named in parentheses; the defaults are the construct\'s.',
    '',
  ];
  const missing = Object.keys(defaults).filter((k) => !doc.some(([d]) => d === k));
  if (missing.length > 0) throw new Error(`DaskOperatorHelmChart: values ${missing.join(', ')} have no documentation in lib/helm/operator-chart.ts`);
  const body = doc.map(([k, comment]) => `# ${comment}\n${Yaml.stringify({ [k]: (defaults as Json)[k] }).trimEnd()}`).join('\n\n');
  return { yaml: `${header.join('\n')}${body}\n`, defaults };
}

/** values.schema.json: Helm refuses values that do not fit (types, enums, ranges) at install and upgrade. */
function valuesSchema(): Json {
  const str = { type: 'string' };
  const stringMap = { type: 'object', additionalProperties: str };
  const list = (items: Json) => ({ type: 'array', items });
  const object = { type: 'object' };
  const dnsName = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$', maxLength: 253 };
  const port = { type: 'integer', minimum: 1, maximum: 65535 };
  const builtInLabels = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/part-of', 'app.kubernetes.io/version'];
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    properties: {
      image: { type: 'object', additionalProperties: false, required: ['repository'], properties: { repository: { type: 'string', minLength: 1 }, tag: str, pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] } } },
      imagePullSecrets: list({ type: 'object', required: ['name'], additionalProperties: false, properties: { name: dnsName } }),
      replicaCount: { type: 'integer', minimum: 0 },
      resources: { type: 'object', additionalProperties: false, properties: { requests: stringMap, limits: stringMap } },
      watchNamespaces: list({ type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 }),
      serviceAccount: { type: 'object', additionalProperties: false, required: ['name'], properties: { create: { type: 'boolean' }, name: dnsName, annotations: stringMap } },
      rbac: { type: 'object', additionalProperties: false, properties: { create: { type: 'boolean' } } },
      logLevel: { enum: ['debug', 'info', 'warn', 'error'] },
      clusterDomain: { type: 'string', minLength: 1 },
      concurrency: { type: 'integer', minimum: 1 },
      workerCreationBatchSize: { type: 'integer', minimum: 1 },
      kubeApiQps: { type: 'number', exclusiveMinimum: 0 },
      kubeApiBurst: { type: 'integer', minimum: 1 },
      metricsPort: port,
      plugins: list(str),
      extraRules: list({ type: 'object', required: ['apiGroups', 'resources', 'verbs'], additionalProperties: false, properties: { apiGroups: list(str), resources: list(str), verbs: list(str), resourceNames: list(str) } }),
      env: { type: 'object', additionalProperties: str, not: { anyOf: ['POD_NAME', 'POD_NAMESPACE'].map((n) => ({ required: [n] })) } },
      extraEnv: list({ type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, not: { enum: ['POD_NAME', 'POD_NAMESPACE'] } } } }),
      podLabels: { ...stringMap, not: { anyOf: builtInLabels.map((l) => ({ required: [l] })) } },
      podAnnotations: stringMap,
      podSecurityContext: object,
      securityContext: object,
      volumes: list({ type: 'object', required: ['name'], properties: { name: { type: 'string', not: { const: 'tmp' } } } }),
      volumeMounts: list({ type: 'object', required: ['name', 'mountPath'], properties: { name: str, mountPath: { type: 'string', pattern: '^/', not: { const: '/tmp' } } } }),
      nodeSelector: stringMap,
      tolerations: list(object),
      affinity: object,
      priorityClassName: { anyOf: [{ const: '' }, dnsName] },
      probeTimeoutSeconds: { type: 'integer', minimum: 0 },
      podDisruptionBudget: { type: 'object', additionalProperties: false, properties: { enabled: { type: 'boolean' } } },
      networkPolicy: {
        type: 'object',
        additionalProperties: false,
        properties: {
          enabled: { type: 'boolean' },
          metricsFrom: list({ type: 'object', minProperties: 1, additionalProperties: false, properties: { namespaceSelector: object, podSelector: object, ipBlock: object } }),
          apiServerCidrs: list(str),
          apiServerPorts: { ...list(port), minItems: 1 },
        },
      },
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
