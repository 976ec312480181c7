/** What the DaskOperator construct installs that the operator's code must agree with: its version, its RBAC and a flag default. */
import { ALL_KINDS, GROUP } from './schema/names';

/** The operator's version; also the default image tag (public as DaskOperator.VERSION). */
export const OPERATOR_VERSION = '0.1.0';
/** The default operator image (public as DaskOperator.DEFAULT_IMAGE). */
export const DEFAULT_OPERATOR_IMAGE = `ghcr.io/cdk8s-dask/dask-operator:${OPERATOR_VERSION}`;
/** Worker Pods created per group and reconcile: the operator's `--create-batch-size` default (tested to agree). */
export const DEFAULT_CREATE_BATCH_SIZE = 50;

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
