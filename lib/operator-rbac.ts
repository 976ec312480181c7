/** What the DaskOperator construct installs that the operator's code must agree with: its version, its RBAC and a flag default. */
import { ALL_KINDS, GROUP } from './schema/names';

/** The operator's version; also the default image tag (public as DaskOperator.VERSION). */
export const OPERATOR_VERSION = '0.1.0';
/** The default operator image (public as DaskOperator.DEFAULT_IMAGE). */
export const DEFAULT_OPERATOR_IMAGE = `ghcr.io/cdk8s-dask/dask-operator:${OPERATOR_VERSION}`;
/** Worker Pods created per group and reconcile: the operator's `--create-batch-size` default (tested to agree). */
export const DEFAULT_CREATE_BATCH_SIZE = 50;
/** The operator's client-side rate limit: its `--kube-api-qps` / `--kube-api-burst` defaults (tested to agree). */
export const DEFAULT_KUBE_API_QPS = 20;
export const DEFAULT_KUBE_API_BURST = 30;

/**
 * The verbs the operator uses on each resource: least privilege, exactly what operator/ calls (tested by running the
 * operator with this ServiceAccount's token in test/integration/install.test.ts).
 * - daskclusters: read; create (a DaskJob's cluster); delete (idle timeout, finished DaskJob)
 * - daskworkergroups: read; create (the default group); patch (its template and replicas, adoption, autoscaling);
 *   delete: never called, but adoption sets ownerReferences on an existing object, which the
 *   OwnerReferencesPermissionEnforcement admission plugin allows only to who may delete it
 * - daskautoscalers: read; patch (adoption, cooldown annotation); delete (the same adoption rule)
 * - daskjobs: read; delete (spec.ttlSecondsAfterFinished)
 * - status of all four: patch (JSON merge patch)
 * - finalizers of daskclusters, daskworkergroups, daskjobs: update (what OwnerReferencesPermissionEnforcement checks
 *   before it lets blockOwnerDeletion be set; see OWNER_KINDS)
 * - pods: read; create (scheduler, workers, job runners); delete (scale-down, self-healing)
 * - services: read; create (the scheduler Service)
 * - events: create and patch (repeats are aggregated into one Event)
 */
/**
 * The kinds whose objects own what the operator creates, with `blockOwnerDeletion: true` (a DaskCluster its scheduler
 * Pod, Service, default group and adopted objects; a DaskWorkerGroup its worker Pods; a DaskJob its cluster, runner Pods
 * and Workload). Where the OwnerReferencesPermissionEnforcement admission plugin runs (OpenShift and other hardened
 * clusters), setting blockOwnerDeletion needs `update` on the owner's `finalizers` subresource. The operator never
 * writes finalizers; the grant is what that plugin checks.
 */
const OWNER_KINDS = ['daskclusters', 'daskworkergroups', 'daskjobs'];
export const OPERATOR_RULES: { apiGroups: string[]; resources: string[]; verbs: string[] }[] = [
  { apiGroups: [GROUP], resources: ['daskclusters'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { apiGroups: [GROUP], resources: ['daskworkergroups'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: [GROUP], resources: ['daskautoscalers'], verbs: ['get', 'list', 'watch', 'patch', 'delete'] },
  { apiGroups: [GROUP], resources: ['daskjobs'], verbs: ['get', 'list', 'watch', 'delete'] },
  { apiGroups: [GROUP], resources: ALL_KINDS.map((k) => `${k.plural}/status`), verbs: ['patch'] },
  { apiGroups: [GROUP], resources: OWNER_KINDS.map((k) => `${k}/finalizers`), verbs: ['update'] },
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
