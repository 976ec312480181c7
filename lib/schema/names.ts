/** API identity of the four kinds, shared by the CRDs, constructs, operator and client. */
export const GROUP = 'kubernetes.dask.org';
export const VERSION = 'v1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface KindNames {
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
}

export const DASK_CLUSTER: KindNames = { kind: 'DaskCluster', plural: 'daskclusters', singular: 'daskcluster', shortNames: ['daskcluster', 'dsk'] };
export const DASK_WORKER_GROUP: KindNames = { kind: 'DaskWorkerGroup', plural: 'daskworkergroups', singular: 'daskworkergroup', shortNames: ['daskworkers'] };
export const DASK_AUTOSCALER: KindNames = { kind: 'DaskAutoscaler', plural: 'daskautoscalers', singular: 'daskautoscaler', shortNames: [] };
export const DASK_JOB: KindNames = { kind: 'DaskJob', plural: 'daskjobs', singular: 'daskjob', shortNames: ['djb'] };
export const ALL_KINDS: readonly KindNames[] = [DASK_CLUSTER, DASK_WORKER_GROUP, DASK_AUTOSCALER, DASK_JOB];

/** Labels the operator puts on the objects it creates (same keys and values as the upstream Python operator). */
export const LABEL_CLUSTER = 'dask.org/cluster-name';
export const LABEL_COMPONENT = 'dask.org/component';
export const LABEL_WORKER_GROUP = 'dask.org/workergroup-name';
export const LABEL_ISTIO_INJECT = 'sidecar.istio.io/inject';

export const COMPONENT_SCHEDULER = 'scheduler';
export const COMPONENT_WORKER = 'worker';
export const COMPONENT_WORKER_GROUP = 'workergroup';
export const COMPONENT_JOB_RUNNER = 'job-runner';

/** Annotation prefixes never copied from a parent to its children. */
export const NON_PROPAGATED_ANNOTATION_PREFIXES: readonly string[] = ['kopf.zalando.org', 'kubectl.kubernetes.io'];

/** Autoscaler cooldown annotation (epoch seconds, float string), as upstream. */
export const ANNOTATION_COOLDOWN_UNTIL = 'kubernetes.dask.org/cooldown-until';

/** A cluster's name also names `{name}-scheduler` objects, so it must leave room for the suffix in 63 characters. */
export const MAX_CLUSTER_NAME_LENGTH = 53;
/** Worker-group names are label values (`dask.org/workergroup-name`). */
export const MAX_WORKER_GROUP_NAME_LENGTH = 63;
export const RFC1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** Ports of the scheduler, by name, as the seed and the Python client lay them out. */
export const SCHEDULER_COMM_PORT = 8786;
export const SCHEDULER_DASHBOARD_PORT = 8787;
export const PORT_NAME_COMM = 'tcp-comm';
export const PORT_NAME_DASHBOARD = 'http-dashboard';

export const schedulerName = (cluster: string): string => `${cluster}-scheduler`;
export const defaultWorkerGroupName = (cluster: string): string => `${cluster}-default`;
/** The upstream operator's single runner Pod name, `{job}-runner`: what jobs started by it (or by us before attempts) use. */
export const jobRunnerName = (job: string): string => `${job}-runner`;

/**
 * Runner Pod of one attempt: `{job}-runner-{5 hex of the job uid}-{attempt}` (attempts count from 1). The uid part keeps
 * a DaskJob deleted and re-created under the same name from meeting its predecessor's runner, still terminating
 * (dask/dask-kubernetes#829); the attempt part gives every retry and every resume a fresh Pod.
 */
export function jobRunnerPodName(job: string, uid: string, attempt: number): string {
  return `${jobRunnerName(job)}-${uid.replace(/-/g, '').slice(0, 5).toLowerCase()}-${attempt}`;
}

/** Annotation on runner Pods: the attempt number (1, 2, ...). */
export const ANNOTATION_JOB_ATTEMPT = 'kubernetes.dask.org/job-attempt';

/** Kueue's queue label: a DaskJob carrying it is admitted by Kueue (docs/kueue.md). */
export const LABEL_KUEUE_QUEUE_NAME = 'kueue.x-k8s.io/queue-name';
/** Kueue's label naming a WorkloadPriorityClass for a queued job. */
export const LABEL_KUEUE_PRIORITY_CLASS = 'kueue.x-k8s.io/priority-class';

/** Why a cluster name is unusable, or undefined when it is fine. */
export function clusterNameProblem(name: string): string | undefined {
  if (name.length > MAX_CLUSTER_NAME_LENGTH) {
    return `"${name}" is ${name.length} characters long; a Dask cluster name may have at most ${MAX_CLUSTER_NAME_LENGTH} (its scheduler is named "<name>-scheduler", which must fit in 63)`;
  }
  if (!new RegExp(RFC1123_LABEL).test(name)) {
    return `"${name}" is not an RFC 1123 label: use lower-case letters, digits and '-', starting and ending with a letter or digit`;
  }
  return undefined;
}
