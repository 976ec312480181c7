import { Construct } from 'constructs';
import { DaskAutoscaler } from './autoscaler';
import { DaskMetadataProps, DaskResource, DaskResourceProps, replicasProblems, resourcesProblems } from './resource';
import type { DaskClusterSpec, PodSpec, ServiceSpec } from './schema/generated/types';
import { API_VERSION, clusterNameProblem, DASK_CLUSTER, schedulerName } from './schema/names';
import { schedulerAddress as renderSchedulerAddress } from './render/scheduler';
import { clusterSpec, DaskEnv, DaskResources, DEFAULT_IMAGE_REPOSITORY, DEFAULT_IMAGE_TAG, DEFAULT_WORKERS } from './spec/cluster-spec';
import { DaskWorkerGroup, DaskWorkerGroupOptions } from './worker-group';

/** Scheduler Service type. */
export enum SchedulerServiceType {
  CLUSTER_IP = 'ClusterIP',
  NODE_PORT = 'NodePort',
  LOAD_BALANCER = 'LoadBalancer',
}

/** What a DaskCluster does when its scheduler has been idle longer than its idle timeout. */
export enum DaskIdleAction {
  /** Delete the cluster (the upstream behaviour). */
  DELETE = 'Delete',
  /**
   * Scale every worker group to zero and keep the scheduler (and its clients' connections); work arriving scales the
   * workers back up, through the cluster's autoscaler if it has one. Data held only in worker memory is lost.
   */
  SCALE_TO_ZERO = 'ScaleToZero',
}

/** What a change to the scheduler template does to a running scheduler. */
export enum SchedulerUpdateStrategy {
  /** Nothing until the scheduler Pod is deleted; its replacement follows the template (the upstream behaviour). */
  ON_DELETE = 'OnDelete',
  /**
   * The operator replaces the scheduler Pod, with a Warning Event: everything the scheduler held in memory (tasks,
   * results, client connections) is lost; the workers reconnect to the new scheduler.
   */
  RECREATE = 'Recreate',
}

/** Props of a DaskCluster. Defaults reproduce `KubeCluster(name=..., n_workers=3)` of the Python client. */
export interface DaskClusterProps extends DaskResourceProps {
  /** Container image of the scheduler and workers. @default `ghcr.io/dask/dask:${imageTag}` */
  readonly image?: string;
  /** Tag of the default image (ignored when `image` is set). @default '2026.8.0' (the Dask release the project tests) */
  readonly imageTag?: string;
  /** Number of workers in the default worker group. @default 3 */
  readonly workers?: number;
  /** Environment of the scheduler and worker containers, in order. @default - none */
  readonly env?: DaskEnv;
  /** Requests/limits of the scheduler and worker containers. @default - none */
  readonly resources?: DaskResources;
  /** Command that starts a worker; `--name $(DASK_WORKER_NAME)` is appended. @default ['dask', 'worker'] */
  readonly workerCommand?: string[];
  /** Extra worker arguments, after the name. @default - none */
  readonly workerArgs?: string[];
  /** Extra scheduler arguments, after `dask scheduler --host 0.0.0.0`. @default - none */
  readonly schedulerArgs?: string[];
  /** Type of the `{name}-scheduler` Service. @default SchedulerServiceType.CLUSTER_IP */
  readonly schedulerServiceType?: SchedulerServiceType;
  /**
   * Ports of the `{name}-scheduler` Service (the containers keep listening on 8786/8787; the Service maps to them by
   * port name). Workers are given the comm port in DASK_SCHEDULER_ADDRESS.
   * @default { comm: 8786, dashboard: 8787 }
   */
  readonly schedulerServicePorts?: { readonly comm?: number; readonly dashboard?: number };
  /** Act (`idleAction`) after the scheduler has been idle this many seconds; 0 never. @default 0 */
  readonly idleTimeoutSeconds?: number;
  /**
   * What the idle timeout does. Requires `idleTimeoutSeconds` > 0.
   * @default DaskIdleAction.DELETE
   */
  readonly idleAction?: DaskIdleAction;
  /**
   * What a change to the scheduler template (image, env, args, metadata ...) does to a running scheduler.
   * @default SchedulerUpdateStrategy.ON_DELETE
   */
  readonly schedulerUpdateStrategy?: SchedulerUpdateStrategy;
  /** Labels/annotations for the scheduler Pod and Service. @default - none */
  readonly schedulerMetadata?: DaskMetadataProps;
  /** Labels/annotations for the worker Pods. @default - none */
  readonly workerMetadata?: DaskMetadataProps;
  /** Escape hatch: the whole scheduler Pod spec (replaces the generated one). @default - generated from the props above */
  readonly schedulerPodSpec?: PodSpec;
  /** Escape hatch: the whole scheduler Service spec. @default - ports tcp-comm 8786 and http-dashboard 8787, selecting the scheduler */
  readonly schedulerServiceSpec?: ServiceSpec;
  /** Escape hatch: the whole worker Pod spec. @default - generated from the props above */
  readonly workerPodSpec?: PodSpec;
}

/** The spec a set of DaskCluster props describes (shared with DaskJob, whose cluster takes the same props). */
export function clusterSpecFromProps(name: string, p: Omit<DaskClusterProps, 'name' | 'namespace' | 'metadata'>): DaskClusterSpec {
  const spec = clusterSpec({
    name,
    image: p.image ?? `${DEFAULT_IMAGE_REPOSITORY}:${p.imageTag ?? DEFAULT_IMAGE_TAG}`,
    replicas: p.workers ?? DEFAULT_WORKERS,
    env: p.env,
    resources: p.resources,
    workerCommand: p.workerCommand,
    extraArgs: p.workerArgs,
    schedulerExtraArgs: p.schedulerArgs,
    serviceType: p.schedulerServiceType,
    commPort: p.schedulerServicePorts?.comm,
    dashboardPort: p.schedulerServicePorts?.dashboard,
    idleTimeout: p.idleTimeoutSeconds,
    idleAction: p.idleAction,
    schedulerUpdateStrategy: p.schedulerUpdateStrategy,
    schedulerMetadata: p.schedulerMetadata && { ...p.schedulerMetadata },
    workerMetadata: p.workerMetadata && { ...p.workerMetadata },
  });
  if (p.schedulerPodSpec) spec.scheduler.spec = p.schedulerPodSpec;
  if (p.schedulerServiceSpec) spec.scheduler.service = p.schedulerServiceSpec;
  if (p.workerPodSpec) spec.worker.spec = p.workerPodSpec;
  return spec;
}

/** Problems with the idle settings (shared with DaskJob's cluster). */
export function idleProblems(p: Pick<DaskClusterProps, 'idleTimeoutSeconds' | 'idleAction'>): string[] {
  const problems: string[] = [];
  if (p.idleTimeoutSeconds !== undefined && (!Number.isInteger(p.idleTimeoutSeconds) || p.idleTimeoutSeconds < 0)) {
    problems.push(`idleTimeoutSeconds must be a whole number of seconds >= 0, got ${p.idleTimeoutSeconds}`);
  }
  if (p.idleAction !== undefined && !(p.idleTimeoutSeconds && p.idleTimeoutSeconds > 0)) {
    problems.push(`idleAction ${p.idleAction} has no effect without an idle timeout: set idleTimeoutSeconds > 0 (or drop idleAction)`);
  }
  return problems;
}

/** Options of `DaskCluster.adapt()`. */
export interface AdaptOptions {
  /** Fewest workers. @default 0 */
  readonly minimum?: number;
  /** Most workers. */
  readonly maximum: number;
}

/**
 * A Dask cluster (kubernetes.dask.org/v1 DaskCluster): the operator creates a scheduler Pod and Service and a
 * default worker group `{name}-default` from it.
 */
export class DaskCluster extends DaskResource {
  /** The props, with defaults applied, that shape the spec. */
  private readonly props: DaskClusterProps;
  private readonly groups = new Map<string, DaskWorkerGroup>();
  private autoscaler?: DaskAutoscaler;

  public constructor(scope: Construct, id: string, props: DaskClusterProps = {}) {
    super(scope, id, DASK_CLUSTER.kind, props);
    this.props = props;
  }

  /** Image used by the scheduler and workers. */
  public get image(): string {
    return this.props.image ?? `${DEFAULT_IMAGE_REPOSITORY}:${this.props.imageTag ?? DEFAULT_IMAGE_TAG}`;
  }

  /** Name of the scheduler Service the operator creates (`{name}-scheduler`), for composing Ingress/Istio/mesh objects. */
  public get schedulerServiceName(): string {
    return schedulerName(this.name);
  }

  /** In-cluster address of the scheduler, as the operator injects it into workers (DASK_SCHEDULER_ADDRESS). */
  public schedulerAddress(clusterDomain = 'cluster.local'): string {
    const wire = { apiVersion: API_VERSION as 'kubernetes.dask.org/v1', kind: 'DaskCluster' as const, metadata: { name: this.name, namespace: this.namespace ?? 'default' }, spec: this.spec };
    return renderSchedulerAddress(wire, { clusterDomain });
  }

  /**
   * Adds a DaskWorkerGroup named `{cluster}-{name}`, inheriting the cluster's image, env, resources and worker command
   * unless overridden.
   */
  public addWorkerGroup(name: string, options: DaskWorkerGroupOptions = {}): DaskWorkerGroup {
    if (this.groups.has(name)) {
      throw new Error(`${this.node.path}: worker group "${name}" is already defined on DaskCluster "${this.name}"; give each addWorkerGroup() call a distinct name`);
    }
    const group = new DaskWorkerGroup(this, `WorkerGroup-${name}`, {
      cluster: this,
      name: `${this.name}-${name}`,
      namespace: this.props.namespace,
      image: this.image,
      env: this.props.env,
      resources: this.props.resources,
      workerCommand: this.props.workerCommand,
      ...options,
    });
    this.groups.set(name, group);
    return group;
  }

  /** Puts the cluster under adaptive scaling: a DaskAutoscaler named after the cluster. */
  public adapt(options: AdaptOptions): DaskAutoscaler {
    if (this.autoscaler) throw new Error(`${this.node.path}: adapt() was already called on DaskCluster "${this.name}"; call it once`);
    this.autoscaler = new DaskAutoscaler(this, 'Autoscaler', {
      name: this.name,
      namespace: this.props.namespace,
      cluster: this,
      minimum: options.minimum ?? 0,
      maximum: options.maximum,
    });
    return this.autoscaler;
  }

  /** The DaskCluster spec this construct synthesizes. */
  public get spec(): DaskClusterSpec {
    return this.renderSpec() as unknown as DaskClusterSpec;
  }

  protected renderSpec(): Record<string, unknown> {
    return clusterSpecFromProps(this.name, this.props) as unknown as Record<string, unknown>;
  }

  protected validateProps(): string[] {
    const p = this.props;
    const problems: string[] = [];
    const nameProblem = clusterNameProblem(this.name);
    if (nameProblem) problems.push(`DaskCluster name ${nameProblem}. Pass a valid \`name\` prop.`);
    problems.push(...replicasProblems('workers', p.workers));
    problems.push(...resourcesProblems('DaskCluster', p.resources));
    for (const [what, port] of Object.entries(p.schedulerServicePorts ?? {})) {
      if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) problems.push(`schedulerServicePorts.${what} must be a port number 1-65535, got ${port}`);
    }
    problems.push(...idleProblems(p));
    return problems;
  }
}
