import { ApiObject, Size } from 'cdk8s';
import type { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import type { EnvValue } from './env';
import type { DaskMetadata } from './options';
import { DEFAULT_CREATE_BATCH_SIZE, DEFAULT_KUBE_API_BURST, DEFAULT_KUBE_API_QPS, DEFAULT_OPERATOR_IMAGE, KUEUE_CLUSTER_RULES, KUEUE_RULES, LEADER_ELECTION_RULES, OPERATOR_RULES, OPERATOR_VERSION } from './operator-rbac';
import type { Affinity, ContainerSecurityContext, NetworkPolicyPeer, PodSecurityContext, Toleration, Volume, VolumeMount } from './pod';
import { ContainerResources, Cpu } from './resources';
import { customResourceDefinitions } from './schema/crds';
import { COMPONENT_SCHEDULER, LABEL_COMPONENT, PORT_NAME_COMM, PORT_NAME_DASHBOARD, SCHEDULER_COMM_PORT, SCHEDULER_DASHBOARD_PORT } from './schema/names';
import { DaskUserRoles } from './tenancy';
import { clusterScoped as markClusterScoped } from './cluster-scoped';
import { resourceRequirements } from './spec/from-options';
import { operatorProblems } from './validation/operator';

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
  /**
   * Names of Secrets (type kubernetes.io/dockerconfigjson, in the operator's namespace) the kubelet uses to pull the
   * operator image.
   * @default - none
   */
  readonly imagePullSecrets?: string[];
  /**
   * Name of the operator's ServiceAccount (the RBAC bindings' subject).
   * @default 'dask-operator'
   */
  readonly serviceAccountName?: string;
  /**
   * Annotations of the ServiceAccount, e.g. `eks.amazonaws.com/role-arn` (IRSA) or `iam.gke.io/gcp-service-account`
   * (GKE Workload Identity).
   * @default - none
   */
  readonly serviceAccountAnnotations?: { [key: string]: string };
  /**
   * Create the ServiceAccount. With false, `serviceAccountName` must name one that exists in `namespace` (made by
   * your cloud tooling, say); the RBAC bindings still point at it.
   * @default true
   */
  readonly createServiceAccount?: boolean;
  /**
   * Create the operator's RBAC objects: its ClusterRole (or per-namespace Roles), the leader-election Role and their
   * bindings. With false you grant the same rules yourself (lib/operator-rbac.ts lists them; `extraRules` has
   * nothing to add to). The user roles are not the operator's: `userRoles` switches them.
   * @default true
   */
  readonly createRbac?: boolean;
  /**
   * Labels and annotations of the operator Pods (not of the Deployment). The construct's own labels
   * (`app.kubernetes.io/name`, `instance`, `part-of`, `version`) cannot be overridden: the selectors use them.
   * @default - none
   */
  readonly podMetadata?: DaskMetadata;
  /**
   * Security context of the operator Pod; replaces the default as a whole.
   * @default - runAsNonRoot, runAsUser 1000, runAsGroup 1000, seccompProfile RuntimeDefault
   */
  readonly podSecurityContext?: PodSecurityContext;
  /**
   * Security context of the operator container; replaces the default as a whole.
   * @default - allowPrivilegeEscalation false, readOnlyRootFilesystem true, runAsNonRoot, capabilities drop ALL
   */
  readonly containerSecurityContext?: ContainerSecurityContext;
  /**
   * Extra volumes of the operator Pod, next to its own `tmp` (an emptyDir at /tmp, as the root filesystem is read-only).
   * Mount them with `volumeMounts`.
   * @default - none
   */
  readonly volumes?: Volume[];
  /** Extra volume mounts of the operator container; each names one of `volumes`. @default - none */
  readonly volumeMounts?: VolumeMount[];
  /**
   * Environment variables from Pod fields, Secrets, ConfigMaps or resources, after `env` (e.g. a proxy setting from a
   * Secret). POD_NAME and POD_NAMESPACE are the construct's.
   * @default - none
   */
  readonly envValues?: { [name: string]: EnvValue };
  /** Node labels the operator Pods must run on, e.g. `{ 'kubernetes.io/os': 'linux' }`. @default - any node */
  readonly nodeSelector?: { [key: string]: string };
  /** Taints the operator Pods tolerate. @default - none */
  readonly tolerations?: Toleration[];
  /**
   * Node and pod (anti-)affinity of the operator Pods; with `replicas` > 1, a preferred pod anti-affinity on
   * `kubernetes.io/hostname` spreads the standbys over nodes.
   * @default - none
   */
  readonly affinity?: Affinity;
  /** PriorityClass of the operator Pods (it must exist). @default - the cluster's default priority */
  readonly priorityClassName?: string;
  /**
   * Timeout of the liveness and readiness probes (whole seconds).
   * @default - Kubernetes' default, 1 second
   */
  readonly probeTimeout?: Duration;
  /**
   * Worker Pods the operator creates for one worker group in one reconcile before it yields to other work and comes
   * back (`--create-batch-size`); a group scaled to 500 workers is filled in batches of this size.
   * @default 50
   */
  readonly workerCreationBatchSize?: number;
  /**
   * The operator's client-side rate limit: API-server requests per second (`--kube-api-qps`; lists, watch starts and
   * writes, Events excepted). At the default, 1,000 workers take about a minute to create (1.2 requests per worker,
   * measured in bench/results/); raise it together with {@link kubeApiBurst} when the API server has room.
   * @default 20
   */
  readonly kubeApiQps?: number;
  /**
   * Requests that may go at once before {@link kubeApiQps} applies (`--kube-api-burst`).
   * @default 30
   */
  readonly kubeApiBurst?: number;
  /**
   * A PodDisruptionBudget `dask-operator` with `maxUnavailable: 1`, so a node drain evicts at most one operator Pod
   * at a time and a standby takes the Lease over while the other is rescheduled (`unhealthyPodEvictionPolicy:
   * AlwaysAllow`, so Pods that are not ready never block a drain). It needs `replicas` > 1: with a single replica it
   * would protect nothing.
   * @default - created when replicas > 1
   */
  readonly podDisruptionBudget?: boolean;
  /**
   * A NetworkPolicy `dask-operator` that isolates the operator Pods: ingress only to the metrics port, egress only to
   * DNS, the API server and the Dask schedulers (see DaskOperatorNetworkPolicyOptions). Enforced only where the
   * cluster's network plugin implements NetworkPolicy. Plugins that reach other endpoints need rules of their own
   * (`operator.networkPolicy?.addJsonPatch(...)`).
   * @default - no NetworkPolicy
   */
  readonly networkPolicy?: DaskOperatorNetworkPolicyOptions;
}

/**
 * The operator's NetworkPolicy. Ingress: TCP to the metrics port (/metrics, /healthz, /readyz) from `metricsFrom`.
 * Egress: DNS (UDP and TCP 53, any destination); the API server (TCP `apiServerPorts` to `apiServerCidrs`); the
 * schedulers (Pods labelled `dask.org/component: scheduler` in the watched namespaces, TCP 8786 and 8787 and the
 * ports named `tcp-comm` and `http-dashboard`).
 */
export interface DaskOperatorNetworkPolicyOptions {
  /**
   * Who may connect to the metrics port. An empty list lets nobody in (kubelet probes are not subject to
   * NetworkPolicy in the common network plugins).
   * @default - every Pod in every namespace (`namespaceSelector: {}`), nothing outside the cluster
   */
  readonly metricsFrom?: NetworkPolicyPeer[];
  /**
   * Where the API server is, as CIDRs. NetworkPolicy sees the API server's endpoint addresses, not the `kubernetes`
   * Service's ClusterIP: `kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes`.
   * @default - any address (on `apiServerPorts` only)
   */
  readonly apiServerCidrs?: string[];
  /**
   * TCP ports of the API server endpoints (443 in most managed clusters, 6443 in kubeadm's and kind's).
   * @default [443, 6443]
   */
  readonly apiServerPorts?: number[];
}

const NAME = 'dask-operator';
const DEFAULT_OPERATOR_RESOURCES: ContainerResources = {
  cpu: { request: Cpu.millis(100) },
  memory: { request: Size.mebibytes(128), limit: Size.mebibytes(512) },
};
const DEFAULT_POD_SECURITY_CONTEXT = { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } };
const DEFAULT_CONTAINER_SECURITY_CONTEXT = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } };
const DEFAULT_API_SERVER_PORTS = [443, 6443];
const RBAC = { apiVersion: 'rbac.authorization.k8s.io/v1' };

/** One RBAC rule (the subset of rbac.authorization.k8s.io/v1 PolicyRule the constructs emit). */
export interface PolicyRule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
  /** @default - all objects of the resources */
  readonly resourceNames?: string[];
}

type Json = { [key: string]: unknown };
/** A struct from the props as plain JSON (jsii hands structs over as plain objects; undefined fields dropped). */
const plain = <T>(v: T): Json => JSON.parse(JSON.stringify(v)) as Json;

/**
 * Everything needed to run the Dask operator: the CRDs, a ServiceAccount, least-privilege RBAC (cluster-wide or per
 * watched namespace), the operator Deployment (non-root, read-only root filesystem, probes) and a metrics Service;
 * with more than one replica a PodDisruptionBudget, and on request a NetworkPolicy. Props are checked at synth time.
 *
 * @example
 * new DaskOperator(chart, 'operator', {
 *   replicas: 2,                                   // a hot standby behind the Lease, and a PodDisruptionBudget
 *   serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/dask-operator' },
 *   nodeSelector: { 'kubernetes.io/os': 'linux' },
 *   tolerations: [{ key: 'dedicated', operator: TolerationOperator.EQUAL, value: 'platform', effect: TaintEffect.NO_SCHEDULE }],
 *   priorityClassName: 'platform-critical',
 *   networkPolicy: { metricsFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] },
 * });
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
  /** Name of the ServiceAccount the operator runs as. */
  public readonly serviceAccountName: string;
  /** The operator's ServiceAccount (undefined when createServiceAccount is false). */
  public readonly serviceAccount?: ApiObject;
  /** The Service in front of /metrics, /healthz and /readyz. */
  public readonly metricsService: ApiObject;
  /** The PodDisruptionBudget, if any. */
  public readonly podDisruptionBudget?: ApiObject;
  /** The NetworkPolicy, if any. */
  public readonly networkPolicy?: ApiObject;
  /** The CRD ApiObjects (empty when installCrds is false). */
  public readonly crds: ApiObject[] = [];

  public constructor(scope: Construct, id: string, props: DaskOperatorProps = {}) {
    super(scope, id);
    const ns = props.namespace ?? NAME;
    this.namespace = ns;
    const port = props.metricsPort ?? 8080;
    const replicas = props.replicas ?? 1;
    const labels = { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/instance': NAME, 'app.kubernetes.io/part-of': 'cdk8s-dask', 'app.kubernetes.io/version': OPERATOR_VERSION };
    const selector = { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/instance': NAME };
    const watch = [...new Set(props.watchNamespaces ?? [])].sort();
    const clusterScoped: ApiObject[] = [];
    const saName = props.serviceAccountName ?? NAME;
    this.serviceAccountName = saName;

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
    if (props.createServiceAccount ?? true) {
      const annotations = props.serviceAccountAnnotations && Object.keys(props.serviceAccountAnnotations).length > 0 ? { annotations: { ...props.serviceAccountAnnotations } } : {};
      this.serviceAccount = new ApiObject(this, 'ServiceAccount', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: saName, namespace: ns, labels, ...annotations } });
    }
    const rbac = props.createRbac ?? true;
    if (rbac) clusterScoped.push(...this.rbac(props, { ns, saName, labels, watch }));
    if (props.userRoles ?? true) new DaskUserRoles(this, 'UserRoles', { labels });
    if (rbac) this.leaderElectionRbac(ns, saName, labels);

    const args = [
      `--metrics-bind-address=0.0.0.0:${port}`,
      `--log-level=${props.logLevel ?? LogLevel.INFO}`,
      `--cluster-domain=${props.clusterDomain ?? 'cluster.local'}`,
      `--concurrency=${props.concurrency ?? 4}`,
      `--create-batch-size=${props.workerCreationBatchSize ?? DEFAULT_CREATE_BATCH_SIZE}`,
      `--kube-api-qps=${props.kubeApiQps ?? DEFAULT_KUBE_API_QPS}`,
      `--kube-api-burst=${props.kubeApiBurst ?? DEFAULT_KUBE_API_BURST}`,
      // Always: a second replica (or a rollout's surge Pod) must stand by rather than reconcile alongside.
      '--leader-elect',
      `--leader-election-namespace=${ns}`,
      ...(watch.length > 0 ? [`--namespaces=${watch.join(',')}`] : []),
      ...(props.plugins && props.plugins.length > 0 ? [`--plugins=${props.plugins.join(',')}`] : []),
      ...((props.kueue ?? false) ? ['--kueue'] : []),
    ];
    const timeout = props.probeTimeout !== undefined ? { timeoutSeconds: props.probeTimeout.toMilliseconds() / 1000 } : {};
    const probe = (path: string, initialDelaySeconds: number) => ({
      httpGet: { path, port: 'metrics' },
      initialDelaySeconds,
      periodSeconds: 10,
      ...timeout,
    });
    const env = [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      ...Object.entries(props.env ?? {}).map(([name, value]) => ({ name, value })),
      ...Object.entries(props.envValues ?? {}).map(([name, v]) => v._toEnvVar(name)),
    ];
    const some = <T>(list: T[] | undefined): list is T[] => list !== undefined && list.length > 0;
    const someKeys = (m: { [key: string]: string } | undefined): boolean => m !== undefined && Object.keys(m).length > 0;
    const podMeta: Json = { labels: { ...(props.podMetadata?.labels ?? {}), ...labels } };
    if (someKeys(props.podMetadata?.annotations)) podMeta.annotations = { ...props.podMetadata?.annotations };
    const podSpec: Json = {
      serviceAccountName: saName,
      automountServiceAccountToken: true,
      securityContext: props.podSecurityContext ? plain(props.podSecurityContext) : DEFAULT_POD_SECURITY_CONTEXT,
      ...(some(props.imagePullSecrets) ? { imagePullSecrets: props.imagePullSecrets.map((name) => ({ name })) } : {}),
      ...(someKeys(props.nodeSelector) ? { nodeSelector: { ...props.nodeSelector } } : {}),
      ...(some(props.tolerations) ? { tolerations: props.tolerations.map(plain) } : {}),
      ...(props.affinity && Object.keys(plain(props.affinity)).length > 0 ? { affinity: plain(props.affinity) } : {}),
      ...(props.priorityClassName ? { priorityClassName: props.priorityClassName } : {}),
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
        securityContext: props.containerSecurityContext ? plain(props.containerSecurityContext) : DEFAULT_CONTAINER_SECURITY_CONTEXT,
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, ...(props.volumeMounts ?? []).map(plain)],
      }],
      volumes: [{ name: 'tmp', emptyDir: {} }, ...(props.volumes ?? []).map((v) => v._toJson())],
    };
    this.node.addValidation({ validate: () => operatorProblems(props, { builtInLabels: Object.keys(labels), builtInEnv: ['POD_NAME', 'POD_NAMESPACE'], podSpec }) });
    this.deployment = new ApiObject(this, 'Deployment', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: NAME, namespace: ns, labels },
      spec: {
        replicas,
        selector: { matchLabels: selector },
        template: { metadata: podMeta, spec: podSpec },
      },
    });
    this.metricsService = new ApiObject(this, 'MetricsService', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `${NAME}-metrics`, namespace: ns, labels },
      spec: { selector, ports: [{ name: 'metrics', port, targetPort: 'metrics', protocol: 'TCP' }] },
    });
    if (props.podDisruptionBudget ?? replicas > 1) {
      this.podDisruptionBudget = new ApiObject(this, 'PodDisruptionBudget', {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: NAME, namespace: ns, labels },
        spec: { maxUnavailable: 1, selector: { matchLabels: selector }, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
      });
    }
    if (props.networkPolicy) {
      this.networkPolicy = new ApiObject(this, 'NetworkPolicy', {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: NAME, namespace: ns, labels },
        spec: networkPolicySpec(props.networkPolicy, selector, watch),
      });
    }

    for (const obj of clusterScoped) markClusterScoped(obj);
  }

  /** The RBAC objects; returns the cluster-scoped ones. */
  private rbac(props: DaskOperatorProps, o: { ns: string; saName: string; labels: Record<string, string>; watch: string[] }): ApiObject[] {
    const { ns, labels, watch } = o;
    const subject = { kind: 'ServiceAccount', name: o.saName, namespace: ns };
    const kueue = props.kueue ?? false;
    const rules = [...OPERATOR_RULES, ...(kueue ? KUEUE_RULES : []), ...(props.extraRules ?? []).map((r) => ({ ...r }))];
    const clusterScoped: ApiObject[] = [];
    const clusterRole = (id: string, name: string, roleRules: object[]): void => {
      clusterScoped.push(
        new ApiObject(this, id, { ...RBAC, kind: 'ClusterRole', metadata: { name, labels }, rules: roleRules }),
        new ApiObject(this, `${id}Binding`, {
          ...RBAC,
          kind: 'ClusterRoleBinding',
          metadata: { name, labels },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
          subjects: [subject],
        }),
      );
    };
    const role = (id: string, bindingId: string, name: string, namespace: string, roleRules: object[]): void => {
      new ApiObject(this, id, { ...RBAC, kind: 'Role', metadata: { name, namespace, labels }, rules: roleRules });
      new ApiObject(this, bindingId, {
        ...RBAC,
        kind: 'RoleBinding',
        metadata: { name, namespace, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [subject],
      });
    };
    if (watch.length === 0) {
      clusterRole('ClusterRole', NAME, [...rules, ...(kueue ? KUEUE_CLUSTER_RULES : [])]);
    } else {
      for (const watched of watch) role(`Role-${watched}`, `RoleBinding-${watched}`, NAME, watched, rules);
      if (kueue) clusterRole('KueueClusterRole', `${NAME}-kueue`, KUEUE_CLUSTER_RULES);
    }
    return clusterScoped;
  }

  /** The Role and RoleBinding for the Lease, in the operator's own namespace. */
  private leaderElectionRbac(ns: string, saName: string, labels: Record<string, string>): void {
    const name = `${NAME}-leader-election`;
    new ApiObject(this, 'LeaderElectionRole', { ...RBAC, kind: 'Role', metadata: { name, namespace: ns, labels }, rules: LEADER_ELECTION_RULES });
    new ApiObject(this, 'LeaderElectionRoleBinding', {
      ...RBAC,
      kind: 'RoleBinding',
      metadata: { name, namespace: ns, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: saName, namespace: ns }],
    });
  }
}

/** The NetworkPolicy spec: see DaskOperatorNetworkPolicyOptions. */
function networkPolicySpec(o: DaskOperatorNetworkPolicyOptions, selector: Record<string, string>, watch: string[]): Json {
  const from = (o.metricsFrom ?? [{ namespaceSelector: {} }]).map(plain);
  const cidrs = o.apiServerCidrs ?? [];
  const tcp = (port: number | string) => ({ port, protocol: 'TCP' });
  const namespaces = watch.length > 0
    ? { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: watch }] }
    : {};
  return {
    podSelector: { matchLabels: selector },
    policyTypes: ['Ingress', 'Egress'],
    ingress: from.length > 0 ? [{ from, ports: [tcp('metrics')] }] : [],
    egress: [
      { ports: [{ port: 53, protocol: 'UDP' }, tcp(53)] },
      { ports: (o.apiServerPorts ?? DEFAULT_API_SERVER_PORTS).map(tcp), ...(cidrs.length > 0 ? { to: cidrs.map((cidr) => ({ ipBlock: { cidr } })) } : {}) },
      {
        ports: [SCHEDULER_COMM_PORT, SCHEDULER_DASHBOARD_PORT, PORT_NAME_COMM, PORT_NAME_DASHBOARD].map(tcp),
        to: [{ namespaceSelector: namespaces, podSelector: { matchLabels: { [LABEL_COMPONENT]: COMPONENT_SCHEDULER } } }],
      },
    ],
  };
}
