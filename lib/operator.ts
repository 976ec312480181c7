import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { customResourceDefinitions } from './schema/crds';
import { ALL_KINDS, GROUP } from './schema/names';

/** The operator's version; also the default image tag. */
export const OPERATOR_VERSION = '0.1.0';
export const DEFAULT_OPERATOR_IMAGE = `ghcr.io/cdk8s-dask/dask-operator:${OPERATOR_VERSION}`;

/** Requests and limits of the operator container. */
export interface OperatorResources {
  /** @default { cpu: '100m', memory: '128Mi' } */
  readonly requests?: Record<string, string>;
  /** @default { memory: '512Mi' } */
  readonly limits?: Record<string, string>;
}

export interface DaskOperatorProps {
  /** Namespace the operator runs in. @default 'dask-operator' */
  readonly namespace?: string;
  /** Create the namespace. @default true */
  readonly createNamespace?: boolean;
  /** Operator image. @default 'ghcr.io/cdk8s-dask/dask-operator:<version>' */
  readonly image?: string;
  /** @default 'IfNotPresent' */
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Replicas; more than one run as hot standbys behind a Lease (leader election). @default 1 */
  readonly replicas?: number;
  /** @default - requests 100m CPU / 128Mi, limit 512Mi memory */
  readonly resources?: OperatorResources;
  /**
   * Namespaces to watch. Empty means every namespace (ClusterRole); a list installs a Role and RoleBinding in each
   * (namespace-scoped install).
   * @default - all namespaces
   */
  readonly watchNamespaces?: string[];
  /** Install the four CRDs. @default true */
  readonly installCrds?: boolean;
  /** @default 'info' */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Cluster DNS domain used in scheduler addresses. @default 'cluster.local' */
  readonly clusterDomain?: string;
  /** Reconciles run in parallel per kind. @default 4 */
  readonly concurrency?: number;
  /** Port of /metrics, /healthz and /readyz. @default 8080 */
  readonly metricsPort?: number;
  /** npm packages (installed in the image) loaded as operator plugins. @default - none */
  readonly plugins?: string[];
  /**
   * Extra RBAC rules for the operator's ServiceAccount, appended to its own least-privilege rules in the same
   * ClusterRole (or in each per-namespace Role when `watchNamespaces` is set). Plugins that write other kinds need
   * them, e.g. `{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'patch'] }` for
   * examples/plugins/scheduler-info. See docs/plugins.md.
   * @default - none (exactly the rules the operator itself uses)
   */
  readonly extraRules?: PolicyRule[];
  /** Extra environment for the operator container. @default - none */
  readonly env?: Record<string, string>;
  /**
   * Admit DaskJobs labelled `kueue.x-k8s.io/queue-name` through Kueue: the operator runs with `--kueue` and may manage
   * Kueue Workloads and read ResourceFlavors and WorkloadPriorityClasses. Kueue (its CRDs and controller) must be
   * installed. See docs/kueue.md.
   * @default false
   */
  readonly kueue?: boolean;
}

const NAME = 'dask-operator';

/** One RBAC rule (the subset of rbac.authorization.k8s.io/v1 PolicyRule the constructs emit). */
export interface PolicyRule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
  /** @default - all objects of the resources */
  readonly resourceNames?: string[];
}

/**
 * The verbs the operator uses on each resource: least privilege, exactly what operator/ calls (tested by running the
 * operator with this ServiceAccount's token in test/integration/install.test.ts).
 * - daskclusters: read; create (a DaskJob's cluster); delete (idle timeout, finished DaskJob)
 * - daskworkergroups: read; create (the default group); patch (its template and replicas, adoption, autoscaling)
 * - daskautoscalers: read; patch (adoption, cooldown annotation)
 * - daskjobs: read; delete (spec.ttlSecondsAfterFinished)
 * - status of all four: patch (JSON merge patch)
 * - pods: read; create (scheduler, workers, job runners); delete (scale-down, self-healing)
 * - services: read; create (the scheduler Service)
 * - events: create and patch (repeats are aggregated into one Event)
 */
export const OPERATOR_RULES: { apiGroups: string[]; resources: string[]; verbs: string[] }[] = [
  { apiGroups: [GROUP], resources: ['daskclusters'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { apiGroups: [GROUP], resources: ['daskworkergroups'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
  { apiGroups: [GROUP], resources: ['daskautoscalers'], verbs: ['get', 'list', 'watch', 'patch'] },
  { apiGroups: [GROUP], resources: ['daskjobs'], verbs: ['get', 'list', 'watch', 'delete'] },
  { apiGroups: [GROUP], resources: ALL_KINDS.map((k) => `${k.plural}/status`), verbs: ['patch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'create'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
];
/**
 * With the Kueue integration: daskjobs patch (spec.suspend, as Kueue's own integrations do), Workloads (one per
 * queued DaskJob: create, delete when the job changed before admission, status for Finished and clearing an evicted
 * admission), and the cluster-scoped ResourceFlavors and WorkloadPriorityClasses (read).
 */
export const KUEUE_RULES: { apiGroups: string[]; resources: string[]; verbs: string[] }[] = [
  { apiGroups: [GROUP], resources: ['daskjobs'], verbs: ['patch'] },
  { apiGroups: ['kueue.x-k8s.io'], resources: ['workloads'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { apiGroups: ['kueue.x-k8s.io'], resources: ['workloads/status'], verbs: ['patch'] },
];
/** Cluster-scoped reads of the Kueue integration (a ClusterRole even for a namespace-scoped install). */
export const KUEUE_CLUSTER_RULES: { apiGroups: string[]; resources: string[]; verbs: string[] }[] = [
  { apiGroups: ['kueue.x-k8s.io'], resources: ['resourceflavors', 'workloadpriorityclasses'], verbs: ['get', 'list', 'watch'] },
];

/** Leader election, in the operator's own namespace only. */
export const LEADER_ELECTION_RULES = [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }];

/**
 * Everything needed to run the Dask operator: the CRDs, a ServiceAccount, least-privilege RBAC (cluster-wide or per
 * watched namespace), the operator Deployment (non-root, read-only root filesystem, probes) and a metrics Service.
 */
export class DaskOperator extends Construct {
  public readonly namespace: string;
  public readonly deployment: k8s.KubeDeployment;
  public readonly serviceAccount: k8s.KubeServiceAccount;
  public readonly metricsService: k8s.KubeService;
  /** The CRD ApiObjects (empty when installCrds is false). */
  public readonly crds: ApiObject[] = [];

  public constructor(scope: Construct, id: string, props: DaskOperatorProps = {}) {
    super(scope, id);
    const ns = props.namespace ?? NAME;
    this.namespace = ns;
    const port = props.metricsPort ?? 8080;
    const labels = { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/instance': NAME, 'app.kubernetes.io/part-of': 'cdk8s-dask', 'app.kubernetes.io/version': OPERATOR_VERSION };
    const selector = { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/instance': NAME };
    const watch = props.watchNamespaces ?? [];
    const clusterScoped: ApiObject[] = [];

    if (props.installCrds ?? true) {
      for (const crd of customResourceDefinitions()) {
        const obj = new ApiObject(this, `Crd-${(crd.spec.names as { kind: string }).kind}`, { ...crd, metadata: { ...crd.metadata, labels } });
        this.crds.push(obj);
        clusterScoped.push(obj);
      }
    }
    if (props.createNamespace ?? true) {
      clusterScoped.push(new k8s.KubeNamespace(this, 'Namespace', { metadata: { name: ns, labels } }));
    }
    this.serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', { metadata: { name: NAME, namespace: ns, labels } });
    const subject = { kind: 'ServiceAccount', name: NAME, namespace: ns };
    const kueue = props.kueue ?? false;
    const rules = [...OPERATOR_RULES, ...(kueue ? KUEUE_RULES : []), ...(props.extraRules ?? []).map((r) => ({ ...r }))];

    if (watch.length === 0) {
      const role = new k8s.KubeClusterRole(this, 'ClusterRole', { metadata: { name: NAME, labels }, rules: [...rules, ...(kueue ? KUEUE_CLUSTER_RULES : [])] });
      const binding = new k8s.KubeClusterRoleBinding(this, 'ClusterRoleBinding', {
        metadata: { name: NAME, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAME },
        subjects: [subject],
      });
      clusterScoped.push(role, binding);
    } else {
      for (const watched of [...new Set(watch)].sort()) {
        new k8s.KubeRole(this, `Role-${watched}`, { metadata: { name: NAME, namespace: watched, labels }, rules });
        new k8s.KubeRoleBinding(this, `RoleBinding-${watched}`, {
          metadata: { name: NAME, namespace: watched, labels },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: NAME },
          subjects: [subject],
        });
      }
    }
    if (kueue && watch.length > 0) {
      const role = new k8s.KubeClusterRole(this, 'KueueClusterRole', { metadata: { name: `${NAME}-kueue`, labels }, rules: KUEUE_CLUSTER_RULES });
      const binding = new k8s.KubeClusterRoleBinding(this, 'KueueClusterRoleBinding', {
        metadata: { name: `${NAME}-kueue`, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${NAME}-kueue` },
        subjects: [subject],
      });
      clusterScoped.push(role, binding);
    }
    new k8s.KubeRole(this, 'LeaderElectionRole', { metadata: { name: `${NAME}-leader-election`, namespace: ns, labels }, rules: LEADER_ELECTION_RULES });
    new k8s.KubeRoleBinding(this, 'LeaderElectionRoleBinding', {
      metadata: { name: `${NAME}-leader-election`, namespace: ns, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${NAME}-leader-election` },
      subjects: [subject],
    });

    const args = [
      `--metrics-bind-address=0.0.0.0:${port}`,
      `--log-level=${props.logLevel ?? 'info'}`,
      `--cluster-domain=${props.clusterDomain ?? 'cluster.local'}`,
      `--concurrency=${props.concurrency ?? 4}`,
      '--leader-elect',
      `--leader-election-namespace=${ns}`,
      ...(watch.length > 0 ? [`--namespaces=${[...new Set(watch)].sort().join(',')}`] : []),
      ...(props.plugins && props.plugins.length > 0 ? [`--plugins=${props.plugins.join(',')}`] : []),
      ...(kueue ? ['--kueue'] : []),
    ];
    const probe = (path: string, initialDelaySeconds: number) => ({
      httpGet: { path, port: k8s.IntOrString.fromString('metrics') },
      initialDelaySeconds,
      periodSeconds: 10,
    });
    const env = [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      ...Object.entries(props.env ?? {}).map(([name, value]) => ({ name, value })),
    ];
    const q = (v: Record<string, string>) => Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k8s.Quantity.fromString(x)]));
    this.deployment = new k8s.KubeDeployment(this, 'Deployment', {
      metadata: { name: NAME, namespace: ns, labels },
      spec: {
        replicas: props.replicas ?? 1,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: NAME,
            automountServiceAccountToken: true,
            securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [{
              name: 'operator',
              image: props.image ?? DEFAULT_OPERATOR_IMAGE,
              imagePullPolicy: props.imagePullPolicy ?? 'IfNotPresent',
              args,
              env,
              ports: [{ name: 'metrics', containerPort: port, protocol: 'TCP' }],
              livenessProbe: probe('/healthz', 10),
              readinessProbe: probe('/readyz', 5),
              resources: {
                requests: q(props.resources?.requests ?? { cpu: '100m', memory: '128Mi' }),
                limits: q(props.resources?.limits ?? { memory: '512Mi' }),
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            }],
            volumes: [{ name: 'tmp', emptyDir: {} }],
          },
        },
      },
    });
    this.metricsService = new k8s.KubeService(this, 'MetricsService', {
      metadata: { name: `${NAME}-metrics`, namespace: ns, labels },
      spec: { selector, ports: [{ name: 'metrics', port, targetPort: k8s.IntOrString.fromString('metrics'), protocol: 'TCP' }] },
    });

    // Cluster-scoped objects must not carry the chart's namespace (cdk8s stamps it on everything).
    if (Chart.of(this).namespace) {
      for (const obj of clusterScoped) obj.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
    }
  }
}
