/**
 * The shapes of a Dask cluster, a worker group and an autoscaler, shared by the constructs (DaskCluster, DaskJob's
 * cluster, DaskWorkerGroup, DaskAutoscaler) and the TypeScript client (KubeCluster), so the same words and defaults
 * mean the same things everywhere. Field docs name the CRD field each one fills.
 */
import type { Duration } from 'cdk8s';
import type { EnvValue } from './env';
import type { ContainerResources } from './resources';

/** Type of the `{cluster}-scheduler` Service (`spec.scheduler.service.type`). */
export enum SchedulerServiceType {
  CLUSTER_IP = 'ClusterIP',
  NODE_PORT = 'NodePort',
  LOAD_BALANCER = 'LoadBalancer',
}

/** What a DaskCluster does once its scheduler has been idle longer than its idle timeout (`spec.idleAction`). */
export enum DaskIdleAction {
  /** Delete the cluster (the upstream behaviour). */
  DELETE = 'Delete',
  /**
   * Scale every worker group to zero and keep the scheduler (and its clients' connections); work arriving scales the
   * workers back up, through the cluster's autoscaler if it has one. Data held only in worker memory is lost.
   */
  SCALE_TO_ZERO = 'ScaleToZero',
}

/** What a change to the scheduler template does to a running scheduler (`spec.scheduler.updateStrategy`). */
export enum SchedulerUpdateStrategy {
  /** Nothing until the scheduler Pod is deleted; its replacement follows the template (the upstream behaviour). */
  ON_DELETE = 'OnDelete',
  /**
   * The operator replaces the scheduler Pod, with a Warning Event: everything the scheduler held in memory (tasks,
   * results, client connections) is lost; the workers reconnect to the new scheduler.
   */
  RECREATE = 'Recreate',
}

/** What Kubernetes does when the runner container exits (`spec.job.spec.restartPolicy`). */
export enum RestartPolicy {
  /** Restart the runner until it exits 0. */
  ON_FAILURE = 'OnFailure',
  /** Run it once; a non-zero exit fails the attempt. */
  NEVER = 'Never',
}

/** Labels and annotations of an object, or of the objects created from a template. */
export interface DaskMetadata {
  /** @default - none */
  readonly labels?: { [key: string]: string };
  /** @default - none */
  readonly annotations?: { [key: string]: string };
}

/** Service ports of the scheduler (the containers keep listening on 8786 and 8787; the Service maps by port name). */
export interface SchedulerServicePorts {
  /** Port `tcp-comm`, the one workers and clients connect to. @default 8786 */
  readonly comm?: number;
  /** Port `http-dashboard`. @default 8787 */
  readonly dashboard?: number;
}

/**
 * What a worker group is made of (`spec.worker` of a DaskWorkerGroup, or of a DaskCluster for its default group).
 * Unset fields of a group added to a cluster inherit the cluster's.
 */
export interface DaskWorkerGroupOptions {
  /** Number of workers (`worker.replicas`). @default 3 */
  readonly workers?: number;
  /** Worker image. @default - the cluster's image; standalone: `ghcr.io/dask/dask:${DaskCluster.DEFAULT_IMAGE_TAG}` */
  readonly image?: string;
  /** Environment variables with plain values, in order. @default - the cluster's; standalone: none */
  readonly env?: { [name: string]: string };
  /** Environment variables from Pod fields, Secrets, ConfigMaps or resources; after `env`. @default - the cluster's; standalone: none */
  readonly envValues?: { [name: string]: EnvValue };
  /** Requests and limits of the worker container. @default - the cluster's; standalone: none */
  readonly resources?: ContainerResources;
  /** Command that starts a worker; `--name $(DASK_WORKER_NAME)` is appended. @default ['dask', 'worker'] */
  readonly workerCommand?: string[];
  /** Extra worker arguments, after the name (e.g. ['--nthreads', '2']). @default - none */
  readonly workerArgs?: string[];
  /** Labels and annotations of the worker Pods. @default - none */
  readonly workerMetadata?: DaskMetadata;
  /**
   * Escape hatch: the whole worker Pod spec, as Kubernetes JSON (a core/v1 PodSpec). Checked against the CRD schema
   * at synth time.
   * @default - generated from the options above
   */
  readonly workerPodSpec?: { [key: string]: any };
}

/** What a Dask cluster is made of (`spec` of a DaskCluster, or `spec.cluster.spec` of a DaskJob). */
export interface DaskClusterOptions {
  /** Image of the scheduler and the workers. @default `ghcr.io/dask/dask:${imageTag}` */
  readonly image?: string;
  /** Tag of the default image (ignored when `image` is set). @default DaskCluster.DEFAULT_IMAGE_TAG */
  readonly imageTag?: string;
  /** Number of workers in the default worker group (`worker.replicas`). @default 3 */
  readonly workers?: number;
  /** Environment variables of the scheduler and worker containers, with plain values, in order. @default - none */
  readonly env?: { [name: string]: string };
  /** Environment variables from Pod fields, Secrets, ConfigMaps or resources; after `env`. @default - none */
  readonly envValues?: { [name: string]: EnvValue };
  /** Requests and limits of the scheduler and worker containers. @default - none */
  readonly resources?: ContainerResources;
  /** Command that starts a worker; `--name $(DASK_WORKER_NAME)` is appended. @default ['dask', 'worker'] */
  readonly workerCommand?: string[];
  /** Extra worker arguments, after the name. @default - none */
  readonly workerArgs?: string[];
  /** Extra scheduler arguments, after `dask scheduler --host 0.0.0.0`. @default - none */
  readonly schedulerArgs?: string[];
  /** Type of the `{name}-scheduler` Service. @default SchedulerServiceType.CLUSTER_IP */
  readonly schedulerServiceType?: SchedulerServiceType;
  /** Ports of the `{name}-scheduler` Service; workers get the comm port in DASK_SCHEDULER_ADDRESS. @default - comm 8786, dashboard 8787 */
  readonly schedulerServicePorts?: SchedulerServicePorts;
  /** Act (`idleAction`) once the scheduler has been idle this long (`idleTimeout`, whole seconds). @default - never */
  readonly idleTimeout?: Duration;
  /** What the idle timeout does (`idleAction`); needs `idleTimeout`. @default DaskIdleAction.DELETE */
  readonly idleAction?: DaskIdleAction;
  /**
   * What a change to the scheduler template (image, env, args, metadata, ...) does to a running scheduler
   * (`scheduler.updateStrategy`).
   * @default SchedulerUpdateStrategy.ON_DELETE
   */
  readonly schedulerUpdateStrategy?: SchedulerUpdateStrategy;
  /** Labels and annotations of the scheduler Pod and Service. @default - none */
  readonly schedulerMetadata?: DaskMetadata;
  /** Labels and annotations of the worker Pods. @default - none */
  readonly workerMetadata?: DaskMetadata;
  /** Escape hatch: the whole scheduler Pod spec, as Kubernetes JSON (a core/v1 PodSpec). @default - generated from the options above */
  readonly schedulerPodSpec?: { [key: string]: any };
  /** Escape hatch: the whole scheduler Service spec, as Kubernetes JSON (a core/v1 ServiceSpec). @default - ports tcp-comm and http-dashboard, selecting the scheduler */
  readonly schedulerServiceSpec?: { [key: string]: any };
  /** Escape hatch: the whole worker Pod spec, as Kubernetes JSON (a core/v1 PodSpec). @default - generated from the options above */
  readonly workerPodSpec?: { [key: string]: any };
}

/** Adaptive scaling bounds (`spec.minimum` / `spec.maximum` of a DaskAutoscaler). */
export interface DaskAutoscalerOptions {
  /** Fewest workers. @default 0 */
  readonly minimum?: number;
  /** Most workers. */
  readonly maximum: number;
}

/** The runner (client) Pod of a DaskJob (`spec.job`). */
export interface DaskJobRunnerOptions {
  /** Runner image. @default - the cluster's image */
  readonly image?: string;
  /** Container command. @default - the image's entrypoint */
  readonly command?: string[];
  /** Container arguments, e.g. ['python', '-m', 'etl']. @default - none */
  readonly args?: string[];
  /** Environment variables with plain values, in order; DASK_SCHEDULER_ADDRESS is injected by the operator. @default - none */
  readonly env?: { [name: string]: string };
  /** Environment variables from Pod fields, Secrets, ConfigMaps or resources; after `env`. @default - none */
  readonly envValues?: { [name: string]: EnvValue };
  /** Requests and limits of the runner container. @default - none */
  readonly resources?: ContainerResources;
  /** @default RestartPolicy.ON_FAILURE */
  readonly restartPolicy?: RestartPolicy;
  /** Labels and annotations of the runner Pod. @default - none */
  readonly metadata?: DaskMetadata;
  /** Escape hatch: the whole runner Pod spec, as Kubernetes JSON (a core/v1 PodSpec). @default - generated from the options above */
  readonly podSpec?: { [key: string]: any };
}

/** What a DaskJob is made of: its runner, its cluster and its lifecycle (docs/daskjob.md). */
export interface DaskJobOptions {
  /** The runner Pod. */
  readonly runner: DaskJobRunnerOptions;
  /** The cluster created for the job (named after the job). @default - a default cluster (3 workers) */
  readonly cluster?: DaskClusterOptions;
  /**
   * How many times a failed runner is retried, each retry a new runner Pod on the same cluster (`spec.backoffLimit`).
   * When set, in-place container restarts (RestartPolicy.ON_FAILURE) count towards it too, as in a batch/v1 Job.
   * @default - no retries, and no limit on in-place restarts: the upstream DaskJob's behaviour (batch/v1 Job defaults
   *   to 6; a runner that is not idempotent must not be re-run unasked, so retries are opt-in here)
   * @see https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-backoff-failure-policy
   */
  readonly backoffLimit?: number;
  /**
   * How long the job may be active, cluster start-up included, counted from its creation or last resume
   * (`spec.activeDeadlineSeconds`, whole seconds). Then the runner and cluster are deleted and the job fails
   * (reason DeadlineExceeded).
   * @default - no deadline
   */
  readonly activeDeadline?: Duration;
  /** Delete the DaskJob itself this long after it finished (`spec.ttlSecondsAfterFinished`, whole seconds). @default - kept */
  readonly ttlAfterFinished?: Duration;
  /** Create the job suspended (`spec.suspend`): nothing is created until it is set to false. @default false */
  readonly suspend?: boolean;
}
