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
  /** Delete the cluster once its scheduler has been idle this long (`idleTimeout`, whole seconds). @default - never */
  readonly idleTimeout?: Duration;
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
