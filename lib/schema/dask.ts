/**
 * The four kinds' schemas: the single source of truth from which crds/ (npm run gen:crds), imports/ (cdk8s import)
 * and lib/schema/generated/types.ts (npm run gen:types) are produced. Field names, required fields and defaults
 * follow the upstream Python operator's CRDs; status, scale and CEL rules go beyond them.
 */
import type { JSONSchema } from './json-schema';
import {
  DASK_AUTOSCALER, DASK_CLUSTER, DASK_JOB, DASK_WORKER_GROUP, KindNames,
  MAX_CLUSTER_NAME_LENGTH, MAX_WORKER_GROUP_NAME_LENGTH, RFC1123_LABEL,
} from './names';

const str = (description: string): JSONSchema => ({ type: 'string', description });
const int32 = (description: string, extra: JSONSchema = {}): JSONSchema => ({ type: 'integer', format: 'int32', description, ...extra });
const int64 = (description: string, extra: JSONSchema = {}): JSONSchema => ({ type: 'integer', format: 'int64', description, ...extra });
const time = (description: string, nullable = false): JSONSchema => ({ type: 'string', format: 'date-time', description, ...(nullable ? { nullable } : {}) });
const stringMap = (description: string): JSONSchema => ({ type: 'object', additionalProperties: { type: 'string' }, description });

const podSpec = (description: string, defaults?: Record<string, unknown>): JSONSchema => ({
  $k8s: 'io.k8s.api.core.v1.PodSpec',
  description,
  ...(defaults ? { $defaults: defaults } : {}),
});

export const simpleObjectMeta: JSONSchema = {
  $type: 'SimpleObjectMeta',
  type: 'object',
  description: 'Labels and annotations added to the objects created from this template.',
  properties: {
    labels: stringMap('Labels added to the created objects.'),
    annotations: stringMap('Annotations added to the created objects.'),
  },
};

export const daskWorker: JSONSchema = {
  $type: 'DaskWorkerTemplate',
  type: 'object',
  description: 'Template of the worker Pods of a worker group.',
  required: ['spec'],
  properties: {
    replicas: int32('Number of worker Pods. Scaling down retires workers gracefully through the Dask scheduler.', { default: 1, minimum: 0 }),
    metadata: simpleObjectMeta,
    spec: podSpec('Pod spec of each worker. The operator appends DASK_WORKER_NAME and DASK_SCHEDULER_ADDRESS to every container\'s env unless already set.'),
    cluster: str('Accepted for compatibility with clients that write it here (the Python KubeCluster does); ignored. The owning cluster is the DaskCluster itself, or spec.cluster of a DaskWorkerGroup.'),
  },
};

export const daskScheduler: JSONSchema = {
  $type: 'DaskSchedulerTemplate',
  type: 'object',
  description: 'Template of the scheduler Pod and its Service.',
  required: ['spec', 'service'],
  properties: {
    metadata: simpleObjectMeta,
    spec: podSpec('Pod spec of the scheduler. The operator enables the scheduler\'s HTTP API route unless the env already configures DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES.'),
    service: {
      $k8s: 'io.k8s.api.core.v1.ServiceSpec',
      description: 'Spec of the `{cluster}-scheduler` Service. If `selector` is omitted the operator selects the scheduler Pod.',
    },
    updateStrategy: {
      type: 'string',
      enum: ['OnDelete', 'Recreate'],
      description:
        'What a change to the scheduler template (metadata and spec) does to a running scheduler. OnDelete (the default, ' +
        'and the upstream behaviour): nothing until its Pod is deleted, then the new Pod follows the template. Recreate: ' +
        'the operator replaces the scheduler Pod with a Warning Event (SchedulerRecreated); everything the scheduler held ' +
        'in memory (tasks, results, client connections) is lost, and the workers reconnect to the new scheduler. The ' +
        'Service is not changed by either.',
    },
  },
};

export const daskClusterSpec: JSONSchema = {
  type: 'object',
  description: 'Desired state of a Dask cluster: one scheduler and a default worker group.',
  required: ['scheduler', 'worker'],
  properties: {
    idleTimeout: int32('Act (spec.idleAction) when the scheduler has been idle for longer than this many seconds. 0 (the default) never does.', { default: 0 }),
    idleAction: {
      type: 'string',
      enum: ['Delete', 'ScaleToZero'],
      description:
        'What an idle timeout does. Delete (the default, as upstream): the cluster is deleted. ScaleToZero: every worker ' +
        'group of the cluster is scaled to 0 (their replicas are remembered in the kubernetes.dask.org/replicas-before-idle ' +
        'annotation); the scheduler, its Service and client connections stay. When work arrives, a DaskAutoscaler scales the ' +
        'default group back up (its minimum applies again); without one, and for the other groups, the remembered replicas ' +
        'are restored. Data held only in worker memory is lost when the workers go.',
    },
    scheduler: daskScheduler,
    worker: daskWorker,
  },
};

const condition: JSONSchema = {
  $type: 'Condition',
  type: 'object',
  description: 'A standard Kubernetes condition.',
  required: ['type', 'status'],
  properties: {
    type: str('Type of condition, e.g. Ready.'),
    status: { type: 'string', enum: ['True', 'False', 'Unknown'], description: 'True, False or Unknown.' },
    reason: str('One CamelCase word saying why the condition is in this state.'),
    message: str('Human-readable details.'),
    lastTransitionTime: time('When the status last changed.'),
    observedGeneration: int64('metadata.generation the condition was computed from.'),
  },
};

const conditions: JSONSchema = {
  type: 'array',
  description: 'Current state, as standard conditions (Ready and friends).',
  items: condition,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
};

const observedGeneration = int64('The metadata.generation the operator last reconciled.');

export const daskClusterStatus: JSONSchema = {
  type: 'object',
  description: 'Observed state, written by the operator through the status subresource.',
  properties: {
    phase: str('Created, Pending, Running or Error (same meaning as the upstream operator).'),
    observedGeneration,
    replicas: int32('Worker Pods that exist in the default worker group.'),
    readyReplicas: int32('Worker Pods of the default worker group that are Ready.'),
    selector: str('Label selector of the default worker group\'s Pods (for the scale subresource and HPAs).'),
    schedulerAddress: str('In-cluster address of the scheduler, tcp://{name}-scheduler.{namespace}.svc.{domain}:8786.'),
    dashboardAddress: str('In-cluster address of the dashboard.'),
    conditions,
  },
};

export const daskWorkerGroupSpec: JSONSchema = {
  type: 'object',
  description: 'A group of identically configured workers attached to a DaskCluster.',
  required: ['cluster', 'worker'],
  properties: {
    cluster: str('Name of the DaskCluster (same namespace) this worker group belongs to.'),
    worker: daskWorker,
  },
};

export const daskWorkerGroupStatus: JSONSchema = {
  type: 'object',
  description: 'Observed state, written by the operator through the status subresource.',
  properties: {
    observedGeneration,
    replicas: int32('Worker Pods that exist.'),
    readyReplicas: int32('Worker Pods that are Ready.'),
    selector: str('Label selector of this group\'s worker Pods (for the scale subresource and HPAs).'),
    conditions,
  },
};

export const daskAutoscalerSpec: JSONSchema = {
  type: 'object',
  description: 'Adaptive scaling of a cluster\'s default worker group between minimum and maximum, following the scheduler\'s adaptive target.',
  required: ['cluster', 'minimum', 'maximum'],
  properties: {
    cluster: str('Name of the DaskCluster (same namespace) to autoscale.'),
    minimum: int32('Minimum number of workers.', { minimum: 0 }),
    maximum: int32('Maximum number of workers.', { minimum: 0 }),
  },
  'x-kubernetes-validations': [{ rule: 'self.minimum <= self.maximum', message: 'minimum must be less than or equal to maximum', fieldPath: '.minimum', reason: 'FieldValueInvalid' }],
};

export const daskAutoscalerStatus: JSONSchema = {
  type: 'object',
  description: 'Observed state, written by the operator through the status subresource.',
  properties: {
    observedGeneration,
    desiredWorkers: int32('Workers the scheduler last asked for, clamped to [minimum, maximum].'),
    lastScaleTime: time('When the autoscaler last changed the worker count.'),
    conditions,
  },
};

export const daskJobSpec: JSONSchema = {
  type: 'object',
  description: 'A batch job: a runner Pod plus a DaskCluster that lives as long as the runner.',
  required: ['cluster', 'job'],
  properties: {
    job: {
      $type: 'DaskJobRunnerTemplate',
      type: 'object',
      description: 'The runner (client) Pod. DASK_SCHEDULER_ADDRESS is injected into its containers.',
      required: ['spec'],
      properties: {
        metadata: simpleObjectMeta,
        spec: podSpec('Pod spec of the runner. restartPolicy defaults to OnFailure.', { restartPolicy: 'OnFailure' }),
      },
    },
    backoffLimit: int32(
      'How many times a failed runner is retried, each time as a new runner Pod on the same cluster. Unset (the default) means ' +
      'no retries and, as upstream, no limit on in-place container restarts under restartPolicy OnFailure. When set, those ' +
      'restarts count towards the limit too (as in a batch/v1 Job); beyond it the job fails with reason BackoffLimitExceeded.',
      { minimum: 0 },
    ),
    activeDeadlineSeconds: int64(
      'Seconds the job may be active, cluster start-up included, counted from when it was created or last resumed. When they ' +
      'are up, the runner and the cluster are deleted and the job fails with reason DeadlineExceeded. Unset: no deadline.',
      { minimum: 1 },
    ),
    ttlSecondsAfterFinished: int32(
      'Delete the DaskJob itself (and with it the runner Pods) this many seconds after it finished (Successful or Failed). ' +
      'Unset: the DaskJob is kept.',
      { minimum: 0 },
    ),
    suspend: {
      type: 'boolean',
      description:
        'A suspended job holds no Pods: created suspended it creates nothing; suspending a running job deletes its runner and ' +
        'cluster (condition Suspended, Event Suspended); resuming starts afresh with a new cluster and a new runner attempt. ' +
        'Kueue sets and clears it for jobs labelled kueue.x-k8s.io/queue-name. Default false.',
    },
    cluster: {
      $type: 'DaskJobClusterTemplate',
      type: 'object',
      description: 'The DaskCluster created for the job (named after the job).',
      required: ['spec'],
      properties: {
        metadata: simpleObjectMeta,
        spec: daskClusterSpec,
        status: { type: 'object', description: 'Accepted for compatibility; ignored.', properties: { phase: { type: 'string' } } },
      },
    },
  },
};

export const daskJobStatus: JSONSchema = {
  type: 'object',
  description: 'Observed state, written by the operator through the status subresource.',
  properties: {
    jobStatus: str('JobCreated, ClusterCreated, Running, Successful or Failed (same values as the upstream operator).'),
    clusterName: str('Name of the DaskCluster created for the job.'),
    jobRunnerPodName: str('Name of the current runner Pod: {job}-runner-{5 characters of the job uid}-{attempt}.'),
    startTime: time('When a runner Pod of the current launch first ran.', true),
    endTime: time('When the job finished (the runner succeeded, or the job failed for good).', true),
    attempts: int32('Runner Pods created so far (runner attempts, across retries and resumes). The current one is jobRunnerPodName.'),
    failed: int32('Runner attempts that failed (counted against spec.backoffLimit).'),
    launchTime: time('When the job was last launched (created, or resumed from suspension): spec.activeDeadlineSeconds counts from here.'),
    observedGeneration,
    conditions,
  },
};

export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'date' | 'number' | 'boolean';
  readonly jsonPath: string;
  readonly description?: string;
  readonly priority?: number;
}

export interface KindSchema {
  readonly names: KindNames;
  readonly description: string;
  readonly spec: JSONSchema;
  readonly status: JSONSchema;
  readonly columns: readonly PrinterColumn[];
  readonly scale?: { readonly specReplicasPath: string; readonly statusReplicasPath: string; readonly labelSelectorPath: string };
  /** Whether the object must have a spec (upstream requires it only for DaskCluster; we accept what upstream accepts). */
  readonly specRequired?: boolean;
  /** CEL rules on the whole object (e.g. on metadata.name). */
  readonly rules?: NonNullable<JSONSchema['x-kubernetes-validations']>;
}

const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
const workers: PrinterColumn = { name: 'Workers', type: 'integer', description: 'The number of desired worker Pods', jsonPath: '.spec.worker.replicas' };
const ready: PrinterColumn = { name: 'Ready', type: 'integer', description: 'Worker Pods that are Ready', jsonPath: '.status.readyReplicas' };
const workerScale = { specReplicasPath: '.spec.worker.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' };

const nameRules = (what: string, max: number, rfc1123: boolean): NonNullable<JSONSchema['x-kubernetes-validations']> => [
  { rule: `self.metadata.name.size() <= ${max}`, message: `${what} name must be at most ${max} characters`, fieldPath: '.metadata.name', reason: 'FieldValueInvalid' },
  ...(rfc1123
    ? [{ rule: `self.metadata.name.matches('${RFC1123_LABEL}')`, message: `${what} name must be an RFC 1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit`, fieldPath: '.metadata.name', reason: 'FieldValueInvalid' }]
    : []),
];

export const KIND_SCHEMAS: readonly KindSchema[] = [
  {
    names: DASK_CLUSTER,
    description: 'A Dask cluster: a scheduler Pod and Service plus a default worker group, reconciled by the Dask operator.',
    spec: daskClusterSpec,
    status: daskClusterStatus,
    columns: [workers, ready, { name: 'Status', type: 'string', jsonPath: '.status.phase' }, age],
    scale: workerScale,
    specRequired: true,
    rules: nameRules('DaskCluster', MAX_CLUSTER_NAME_LENGTH, true),
  },
  {
    names: DASK_WORKER_GROUP,
    description: 'A group of Dask workers of one shape, attached to a DaskCluster.',
    spec: daskWorkerGroupSpec,
    status: daskWorkerGroupStatus,
    columns: [workers, ready, age],
    scale: workerScale,
    rules: nameRules('DaskWorkerGroup', MAX_WORKER_GROUP_NAME_LENGTH, false),
  },
  {
    names: DASK_AUTOSCALER,
    description: 'Adaptive autoscaling for a DaskCluster\'s default worker group.',
    spec: daskAutoscalerSpec,
    status: daskAutoscalerStatus,
    columns: [
      { name: 'Cluster', type: 'string', description: 'Cluster to autoscale', jsonPath: '.spec.cluster' },
      { name: 'Minimum', type: 'integer', description: 'Minimum number of workers', jsonPath: '.spec.minimum' },
      { name: 'Maximum', type: 'integer', description: 'Maximum number of workers', jsonPath: '.spec.maximum' },
      { name: 'Desired', type: 'integer', description: 'Workers last requested by the scheduler', jsonPath: '.status.desiredWorkers' },
      age,
    ],
  },
  {
    names: DASK_JOB,
    description: 'A Dask batch job: a runner Pod and the DaskCluster it uses, removed when the runner finishes.',
    spec: daskJobSpec,
    status: daskJobStatus,
    columns: [
      { name: 'Status', type: 'string', jsonPath: '.status.jobStatus' },
      { name: 'Number Of Workers', type: 'integer', jsonPath: '.spec.cluster.spec.worker.replicas' },
      age,
      { name: 'Attempts', type: 'integer', description: 'Runner Pods created so far', jsonPath: '.status.attempts', priority: 1 },
      { name: 'Suspended', type: 'boolean', description: 'Whether the job is suspended', jsonPath: '.spec.suspend', priority: 1 },
    ],
    rules: nameRules('DaskJob', MAX_CLUSTER_NAME_LENGTH, true),
  },
];
