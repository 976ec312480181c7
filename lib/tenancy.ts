/**
 * Tenant isolation, made explicit (docs/security.md): whoever may create a DaskCluster makes the operator's
 * ServiceAccount create Pods and Services from the spec they wrote. These constructs give namespace users Dask rights
 * the Kubernetes way (aggregated ClusterRoles), keep those rights from reaching further than the users' own
 * (a ValidatingAdmissionPolicy on the pod specs inside Dask objects), and fence a cluster's scheduler and workers off
 * from the rest of the network (NetworkPolicies).
 */
import { ApiObject } from 'cdk8s';
import { clusterScoped } from './cluster-scoped';
import { Construct } from 'constructs';
import type { IDaskCluster } from './cluster-ref';
import { ALL_KINDS, COMPONENT_SCHEDULER, COMPONENT_WORKER, GROUP, LABEL_CLUSTER, LABEL_COMPONENT, PORT_NAME_COMM, PORT_NAME_DASHBOARD } from './schema/names';

const RBAC = { apiVersion: 'rbac.authorization.k8s.io/v1' };
const AGGREGATE = 'rbac.authorization.k8s.io/aggregate-to';
const PLURALS = ALL_KINDS.map((k) => k.plural);
/** The kinds with a scale subresource (kubectl scale). */
const SCALABLE = ['daskclusters', 'daskworkergroups'];
const OPERATOR_NAME = 'dask-operator';
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Props of {@link DaskUserRoles}. */
export interface DaskUserRolesProps {
  /**
   * Prefix of the ClusterRoles' names: `<prefix>-view`, `<prefix>-edit`, `<prefix>-admin`.
   * @default 'dask-operator'
   */
  readonly namePrefix?: string;
  /** Labels on the ClusterRoles (next to the aggregation labels). @default - none */
  readonly labels?: { [key: string]: string };
}

/**
 * Dask rights for namespace users, the Kubernetes way: three ClusterRoles aggregated into the built-in `view`, `edit`
 * and `admin` roles, so whoever holds one of those in a namespace (a RoleBinding) gets the matching rights on the four
 * Dask kinds there, and nobody needs a Dask-specific binding.
 *
 * - view (aggregated into view, edit, admin): get, list, watch the four kinds, their status and scale;
 * - edit (aggregated into edit, admin): also create, update, patch, delete, deletecollection, and `kubectl scale`.
 *
 * Status stays the operator's to write. `DaskOperator` creates these unless `userRoles: false`.
 */
export class DaskUserRoles extends Construct {
  /** The view ClusterRole. */
  public readonly viewRole: ApiObject;
  /** The edit ClusterRole (also aggregated into admin). */
  public readonly editRole: ApiObject;

  public constructor(scope: Construct, id: string, props: DaskUserRolesProps = {}) {
    super(scope, id);
    const prefix = props.namePrefix ?? OPERATOR_NAME;
    if (!DNS_SUBDOMAIN.test(`${prefix}-view`)) {
      throw new Error(`${this.node.path}: namePrefix "${prefix}" does not make valid ClusterRole names ("${prefix}-view"); use lower-case letters, digits and '-'`);
    }
    const labels = (levels: string[]) => ({ ...(props.labels ?? {}), ...Object.fromEntries(levels.map((l) => [`${AGGREGATE}-${l}`, 'true'])) });
    const read = ['get', 'list', 'watch'];
    this.viewRole = clusterScoped(new ApiObject(this, 'View', {
      ...RBAC,
      kind: 'ClusterRole',
      metadata: { name: `${prefix}-view`, labels: labels(['view', 'edit', 'admin']) },
      rules: [
        { apiGroups: [GROUP], resources: PLURALS, verbs: read },
        { apiGroups: [GROUP], resources: [...PLURALS.map((p) => `${p}/status`), ...SCALABLE.map((p) => `${p}/scale`)], verbs: ['get'] },
      ],
    }));
    this.editRole = clusterScoped(new ApiObject(this, 'Edit', {
      ...RBAC,
      kind: 'ClusterRole',
      metadata: { name: `${prefix}-edit`, labels: labels(['edit', 'admin']) },
      rules: [
        { apiGroups: [GROUP], resources: PLURALS, verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'] },
        { apiGroups: [GROUP], resources: SCALABLE.map((p) => `${p}/scale`), verbs: ['update', 'patch'] },
      ],
    }));
  }
}

/** How a {@link DaskPodSpecPolicy} acts on an object it rejects (ValidatingAdmissionPolicyBinding validationActions). */
export enum DaskPolicyAction {
  /** Refuse the write. */
  DENY = 'Deny',
  /** Accept it, with a warning to the client (kubectl prints it). */
  WARN = 'Warn',
  /** Accept it and record the violation in the audit log. */
  AUDIT = 'Audit',
}

/** Props of {@link DaskPodSpecPolicy}. */
export interface DaskPodSpecPolicyProps {
  /** Name of the ValidatingAdmissionPolicy and its binding. @default 'dask-pod-spec-policy' */
  readonly name?: string;
  /**
   * ServiceAccounts the pod specs may name (`serviceAccountName`); unset names the namespace's `default`.
   * @default ['default']
   */
  readonly allowedServiceAccounts?: string[];
  /**
   * Only namespaces with these labels are checked.
   * @default - every namespace
   */
  readonly namespaceLabels?: { [key: string]: string };
  /** What happens to an object that breaks a rule. @default [DaskPolicyAction.DENY] */
  readonly actions?: DaskPolicyAction[];
}

/**
 * A ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, Kubernetes 1.30+) that keeps the pod specs inside
 * DaskClusters, DaskWorkerGroups and DaskJobs to what a namespace user could run themselves: no hostPath volumes, no
 * privileged containers, no host network, PID or IPC namespace, and no ServiceAccount but the allowed ones. The
 * operator creates these Pods with its own rights, so without such a policy whoever may create a DaskCluster may run
 * anything the operator may. Pod Security Admission still applies to the Pods themselves (the operator's Pods are
 * admitted like anyone's); this policy refuses the Dask object up front, with a message naming the field.
 */
export class DaskPodSpecPolicy extends Construct {
  /** The ValidatingAdmissionPolicy. */
  public readonly policy: ApiObject;
  /** Its ValidatingAdmissionPolicyBinding. */
  public readonly binding: ApiObject;

  public constructor(scope: Construct, id: string, props: DaskPodSpecPolicyProps = {}) {
    super(scope, id);
    const name = props.name ?? 'dask-pod-spec-policy';
    const accounts = props.allowedServiceAccounts ?? ['default'];
    const problems: string[] = [];
    if (!DNS_SUBDOMAIN.test(name)) problems.push(`name "${name}" is not a valid object name (lower-case letters, digits, '-' and '.')`);
    if (accounts.length === 0) problems.push('allowedServiceAccounts is empty, so no Dask Pod could be created; leave it unset for [\'default\']');
    for (const a of accounts) if (!DNS_SUBDOMAIN.test(a)) problems.push(`allowedServiceAccounts: "${a}" is not a valid ServiceAccount name`);
    if (props.actions && props.actions.length === 0) problems.push('actions must name at least one action (Deny, Warn or Audit)');
    if (props.actions?.includes(DaskPolicyAction.DENY) && props.actions.includes(DaskPolicyAction.WARN)) problems.push('actions: Deny and Warn together are refused by the API server; choose one');
    if (problems.length > 0) throw new Error(`${this.node.path}: DaskPodSpecPolicy: ${problems.join('; ')}`);

    const allowed = `[${accounts.map((a) => `'${a}'`).join(', ')}]`;
    const containersOk = (list: string) => `(!has(s.${list}) || s.${list}.all(c, !has(c.securityContext) || !has(c.securityContext.privileged) || c.securityContext.privileged != true))`;
    const flag = (f: string) => `(!has(s.${f}) || s.${f} != true)`;
    this.policy = clusterScoped(new ApiObject(this, 'Policy', {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [{ apiGroups: [GROUP], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['daskclusters', 'daskworkergroups', 'daskjobs'] }],
        },
        variables: [
          {
            // Every pod template the object holds, by kind (each guarded: a field the schema lets be absent).
            name: 'podSpecs',
            expression: [
              "object.kind == 'DaskCluster' ? [object.spec.scheduler.spec, object.spec.worker.spec] :",
              "object.kind == 'DaskWorkerGroup' ? [object.spec.worker.spec] :",
              "object.kind == 'DaskJob' ? [object.spec.job.spec, object.spec.cluster.spec.scheduler.spec, object.spec.cluster.spec.worker.spec] : []",
            ].join(' '),
          },
        ],
        validations: [
          {
            expression: 'variables.podSpecs.all(s, !has(s.volumes) || s.volumes.all(v, !has(v.hostPath)))',
            message: 'hostPath volumes are not allowed in Dask pod templates (the operator would mount the node\'s filesystem for you); use a PersistentVolumeClaim, emptyDir, configMap or secret volume',
            reason: 'Forbidden',
          },
          {
            expression: `variables.podSpecs.all(s, ${containersOk('containers')} && ${containersOk('initContainers')})`,
            message: 'privileged containers are not allowed in Dask pod templates; remove securityContext.privileged',
            reason: 'Forbidden',
          },
          {
            expression: `variables.podSpecs.all(s, ${flag('hostNetwork')} && ${flag('hostPID')} && ${flag('hostIPC')})`,
            message: 'Dask pod templates may not use the host\'s network, PID or IPC namespace; remove hostNetwork, hostPID and hostIPC',
            reason: 'Forbidden',
          },
          {
            expression: `variables.podSpecs.all(s, (!has(s.serviceAccountName) || s.serviceAccountName in ${allowed}) && (!has(s.serviceAccount) || s.serviceAccount in ${allowed}))`,
            message: `Dask pod templates may only run as the ServiceAccounts ${accounts.join(', ')}; the operator creates the Pods, so another ServiceAccount would lend you its rights. Remove serviceAccountName or ask an administrator to allow it`,
            reason: 'Forbidden',
          },
        ],
      },
    }));
    this.binding = clusterScoped(new ApiObject(this, 'Binding', {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name },
      spec: {
        policyName: name,
        validationActions: props.actions ?? [DaskPolicyAction.DENY],
        ...(props.namespaceLabels ? { matchResources: { namespaceSelector: { matchLabels: { ...props.namespaceLabels } } } } : {}),
      },
    }));
  }
}

/** Pods allowed to reach a cluster's scheduler and workers, next to the cluster's own Pods and the operator. */
export interface DaskNetworkPeer {
  /** Pods with these labels (in the namespaces `namespaceLabels` selects, or in the cluster's namespace). @default - any Pod */
  readonly podLabels?: { [key: string]: string };
  /** Namespaces with these labels. @default - the cluster's namespace only */
  readonly namespaceLabels?: { [key: string]: string };
}

/** Props of {@link DaskNetworkPolicy}. */
export interface DaskNetworkPolicyProps {
  /** The cluster to fence (a DaskCluster, `DaskCluster.fromClusterName(...)`, or a DaskJob's cluster by the job's name). */
  readonly cluster: IDaskCluster;
  /** Namespace of the cluster. @default - the chart's namespace */
  readonly namespace?: string;
  /** Namespace the operator runs in (it calls the scheduler for scale-down, autoscaling and idle checks). @default 'dask-operator' */
  readonly operatorNamespace?: string;
  /**
   * More clients: notebooks, pipelines, an ingress gateway. Each peer may reach the scheduler's comm and dashboard ports and
   * the workers.
   * @default - none
   */
  readonly allowFrom?: DaskNetworkPeer[];
}

/**
 * NetworkPolicies that admit only the cluster's own Pods (scheduler, workers, a DaskJob's runner: all carry
 * `dask.org/cluster-name`), the operator and the peers in `allowFrom` to the cluster's scheduler (its comm and dashboard
 * ports) and workers (any port: workers listen on random ports and fetch data from one another). Egress is left open.
 *
 * Needs a CNI plugin that enforces NetworkPolicy. With the operator's `--scheduler-access=proxy` (operator outside the
 * cluster), calls arrive from the API server instead of the operator Pod: allow its addresses with your own policy.
 */
export class DaskNetworkPolicy extends Construct {
  /** The scheduler's NetworkPolicy (`{cluster}-scheduler`). */
  public readonly schedulerPolicy: ApiObject;
  /** The workers' NetworkPolicy (`{cluster}-workers`). */
  public readonly workerPolicy: ApiObject;

  public constructor(scope: Construct, id: string, props: DaskNetworkPolicyProps) {
    super(scope, id);
    const cluster = props.cluster.clusterName;
    const opNs = props.operatorNamespace ?? OPERATOR_NAME;
    (props.allowFrom ?? []).forEach((p, i) => {
      if (!p.podLabels && !p.namespaceLabels) {
        throw new Error(`${this.node.path}: allowFrom[${i}] selects nothing in particular (no podLabels, no namespaceLabels); give at least one, or use namespaceLabels: {} deliberately for every namespace`);
      }
    });
    const own = { podSelector: { matchLabels: { [LABEL_CLUSTER]: cluster } } };
    const operator = {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': opNs } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': OPERATOR_NAME } },
    };
    const extra = (props.allowFrom ?? []).map((p) => ({
      ...(p.namespaceLabels ? { namespaceSelector: { matchLabels: { ...p.namespaceLabels } } } : {}),
      podSelector: { matchLabels: { ...(p.podLabels ?? {}) } },
    }));
    const metadata = (name: string) => ({ name, ...(props.namespace ? { namespace: props.namespace } : {}), labels: { [LABEL_CLUSTER]: cluster } });
    this.schedulerPolicy = new ApiObject(this, 'Scheduler', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(`${cluster}-scheduler`),
      spec: {
        podSelector: { matchLabels: { [LABEL_CLUSTER]: cluster, [LABEL_COMPONENT]: COMPONENT_SCHEDULER } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [own, operator, ...extra], ports: [{ protocol: 'TCP', port: PORT_NAME_COMM }, { protocol: 'TCP', port: PORT_NAME_DASHBOARD }] }],
      },
    });
    this.workerPolicy = new ApiObject(this, 'Workers', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(`${cluster}-workers`),
      spec: {
        podSelector: { matchLabels: { [LABEL_CLUSTER]: cluster, [LABEL_COMPONENT]: COMPONENT_WORKER } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [own, ...extra] }],
      },
    });
  }
}
