import { ApiObject, Chart, JsonPatch, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { ContainerResources, Cpu } from './resources';
import { customResourceDefinitions } from './schema/crds';
import { DaskUserRoles } from './tenancy';
import { DEFAULT_OPERATOR_IMAGE, KUEUE_CLUSTER_RULES, KUEUE_RULES, LEADER_ELECTION_RULES, OPERATOR_RULES, OPERATOR_VERSION } from './operator-rbac';
import { resourceRequirements } from './spec/from-options';

/** When the kubelet pulls the operator image. */
export enum ImagePullPolicy {
  ALWAYS = 'Always',
  IF_NOT_PRESENT = 'IfNotPresent',
  NEVER = 'Never',
}

/** The operator's log level (`--log-level`). */
export enum LogLevel {
  DEBUG = 'debug',
  INFO = 'info',
  WARN = 'warn',
  ERROR = 'error',
}

export interface DaskOperatorProps {
  /** Namespace the operator runs in. @default 'dask-operator' */
  readonly namespace?: string;
  /** Create the namespace. @default true */
  readonly createNamespace?: boolean;
  /** Operator image. @default 'ghcr.io/cdk8s-dask/dask-operator:<version>' */
  readonly image?: string;
  /** @default ImagePullPolicy.IF_NOT_PRESENT */
  readonly imagePullPolicy?: ImagePullPolicy;
  /** Replicas; more than one run as hot standbys behind a Lease (leader election). @default 1 */
  readonly replicas?: number;
  /** Requests and limits of the operator container. @default - requests 100m CPU and 128Mi memory, limit 512Mi memory */
  readonly resources?: ContainerResources;
  /**
   * Namespaces to watch. Empty means every namespace (ClusterRole); a list installs a Role and RoleBinding in each
   * (namespace-scoped install).
   * @default - all namespaces
   */
  readonly watchNamespaces?: string[];
  /** Install the four CRDs. @default true */
  readonly installCrds?: boolean;
  /** @default LogLevel.INFO */
  readonly logLevel?: LogLevel;
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
  /**
   * ClusterRoles aggregated into the built-in view, edit and admin roles, so namespace users get rights on the Dask
   * kinds with the RoleBindings they already have ({@link DaskUserRoles}).
   * @default true
   */
  readonly userRoles?: boolean;
  /** Extra environment variables of the operator container. @default - none */
  readonly env?: { [name: string]: string };
  /**
   * Admit DaskJobs labelled `kueue.x-k8s.io/queue-name` through Kueue: the operator runs with `--kueue` and may manage
   * Kueue Workloads and read ResourceFlavors and WorkloadPriorityClasses. Kueue (its CRDs and controller) must be
   * installed. See docs/kueue.md.
   * @default false
   */
  readonly kueue?: boolean;
}

const NAME = 'dask-operator';
const DEFAULT_OPERATOR_RESOURCES: ContainerResources = {
  cpu: { request: Cpu.millis(100) },
  memory: { request: Size.mebibytes(128), limit: Size.mebibytes(512) },
};
const RBAC = { apiVersion: 'rbac.authorization.k8s.io/v1' };

/** One RBAC rule (the subset of rbac.authorization.k8s.io/v1 PolicyRule the constructs emit). */
export interface PolicyRule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
  /** @default - all objects of the resources */
  readonly resourceNames?: string[];
}

/**
 * Everything needed to run the Dask operator: the CRDs, a ServiceAccount, least-privilege RBAC (cluster-wide or per
 * watched namespace), the operator Deployment (non-root, read-only root filesystem, probes) and a metrics Service.
 */
export class DaskOperator extends Construct {
  /** The operator release these constructs install (the default image tag). */
  public static readonly VERSION: string = OPERATOR_VERSION;
  /** The default operator image. */
  public static readonly DEFAULT_IMAGE: string = DEFAULT_OPERATOR_IMAGE;

  /** Namespace the operator runs in. */
  public readonly namespace: string;
  /** The operator Deployment. */
  public readonly deployment: ApiObject;
  /** The operator's ServiceAccount. */
  public readonly serviceAccount: ApiObject;
  /** The Service in front of /metrics, /healthz and /readyz. */
  public readonly metricsService: ApiObject;
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
      clusterScoped.push(new ApiObject(this, 'Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } }));
    }
    this.serviceAccount = new ApiObject(this, 'ServiceAccount', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: NAME, namespace: ns, labels } });
    const subject = { kind: 'ServiceAccount', name: NAME, namespace: ns };
    const kueue = props.kueue ?? false;
    const rules = [...OPERATOR_RULES, ...(kueue ? KUEUE_RULES : []), ...(props.extraRules ?? []).map((r) => ({ ...r }))];

    if (watch.length === 0) {
      const role = new ApiObject(this, 'ClusterRole', { ...RBAC, kind: 'ClusterRole', metadata: { name: NAME, labels }, rules: [...rules, ...(kueue ? KUEUE_CLUSTER_RULES : [])] });
      const binding = new ApiObject(this, 'ClusterRoleBinding', {
        ...RBAC,
        kind: 'ClusterRoleBinding',
        metadata: { name: NAME, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAME },
        subjects: [subject],
      });
      clusterScoped.push(role, binding);
    } else {
      for (const watched of [...new Set(watch)].sort()) {
        new ApiObject(this, `Role-${watched}`, { ...RBAC, kind: 'Role', metadata: { name: NAME, namespace: watched, labels }, rules });
        new ApiObject(this, `RoleBinding-${watched}`, {
          ...RBAC,
          kind: 'RoleBinding',
          metadata: { name: NAME, namespace: watched, labels },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: NAME },
          subjects: [subject],
        });
      }
    }
    if (kueue && watch.length > 0) {
      const role = new ApiObject(this, 'KueueClusterRole', { ...RBAC, kind: 'ClusterRole', metadata: { name: `${NAME}-kueue`, labels }, rules: KUEUE_CLUSTER_RULES });
      const binding = new ApiObject(this, 'KueueClusterRoleBinding', {
        ...RBAC,
        kind: 'ClusterRoleBinding',
        metadata: { name: `${NAME}-kueue`, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${NAME}-kueue` },
        subjects: [subject],
      });
      clusterScoped.push(role, binding);
    }
    if (props.userRoles ?? true) new DaskUserRoles(this, 'UserRoles', { labels });
    new ApiObject(this, 'LeaderElectionRole', { ...RBAC, kind: 'Role', metadata: { name: `${NAME}-leader-election`, namespace: ns, labels }, rules: LEADER_ELECTION_RULES });
    new ApiObject(this, 'LeaderElectionRoleBinding', {
      ...RBAC,
      kind: 'RoleBinding',
      metadata: { name: `${NAME}-leader-election`, namespace: ns, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${NAME}-leader-election` },
      subjects: [subject],
    });

    const args = [
      `--metrics-bind-address=0.0.0.0:${port}`,
      `--log-level=${props.logLevel ?? LogLevel.INFO}`,
      `--cluster-domain=${props.clusterDomain ?? 'cluster.local'}`,
      `--concurrency=${props.concurrency ?? 4}`,
      '--leader-elect',
      `--leader-election-namespace=${ns}`,
      ...(watch.length > 0 ? [`--namespaces=${[...new Set(watch)].sort().join(',')}`] : []),
      ...(props.plugins && props.plugins.length > 0 ? [`--plugins=${props.plugins.join(',')}`] : []),
      ...(kueue ? ['--kueue'] : []),
    ];
    const probe = (path: string, initialDelaySeconds: number) => ({
      httpGet: { path, port: 'metrics' },
      initialDelaySeconds,
      periodSeconds: 10,
    });
    const env = [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      ...Object.entries(props.env ?? {}).map(([name, value]) => ({ name, value })),
    ];
    this.deployment = new ApiObject(this, 'Deployment', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
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
              imagePullPolicy: props.imagePullPolicy ?? ImagePullPolicy.IF_NOT_PRESENT,
              args,
              env,
              ports: [{ name: 'metrics', containerPort: port, protocol: 'TCP' }],
              livenessProbe: probe('/healthz', 10),
              readinessProbe: probe('/readyz', 5),
              resources: resourceRequirements(props.resources ?? DEFAULT_OPERATOR_RESOURCES),
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
    this.metricsService = new ApiObject(this, 'MetricsService', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `${NAME}-metrics`, namespace: ns, labels },
      spec: { selector, ports: [{ name: 'metrics', port, targetPort: 'metrics', protocol: 'TCP' }] },
    });

    // Cluster-scoped objects must not carry the chart's namespace (cdk8s stamps it on everything).
    if (Chart.of(this).namespace) {
      for (const obj of clusterScoped) obj.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
    }
  }
}
