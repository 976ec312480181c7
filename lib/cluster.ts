import { Construct } from 'constructs';
import { DaskAutoscaler } from './autoscaler';
import type { IDaskCluster } from './cluster-ref';
import type { DaskAutoscalerOptions, DaskClusterOptions, DaskWorkerGroupOptions } from './options';
import { DaskResource, DaskResourceProps } from './resource';
import type { DaskCluster as DaskClusterObject } from './schema/generated/types';
import { API_VERSION, clusterNameProblem, DASK_CLUSTER, defaultWorkerGroupName, schedulerName } from './schema/names';
import { schedulerAddress as renderSchedulerAddress } from './render/scheduler';
import { DEFAULT_IMAGE_REPOSITORY, DEFAULT_IMAGE_TAG, DEFAULT_WORKERS } from './spec/cluster-spec';
import { clusterSpecOf, idleTimeoutSeconds, imageOf } from './spec/from-options';
import { idleProblems, replicasProblems, resourcesProblems } from './validation/props';
import { DaskWorkerGroup } from './worker-group';

/** Props of a DaskCluster. Defaults reproduce `KubeCluster(name=..., n_workers=3)` of the upstream Python client. */
export interface DaskClusterProps extends DaskResourceProps, DaskClusterOptions {}

/**
 * A Dask cluster (kubernetes.dask.org/v1 DaskCluster): the operator creates a scheduler Pod and Service and a
 * default worker group `{name}-default` from it.
 *
 * @example
 * const cluster = new DaskCluster(chart, 'my-cluster', { workers: 3, env: { FOO: 'bar' } });
 * cluster.addWorkerGroup('highmem', { workers: 2, resources: { memory: { limit: Size.gibibytes(64) } } });
 * cluster.adapt({ minimum: 1, maximum: 100 });
 */
export class DaskCluster extends DaskResource implements IDaskCluster {
  /** The image repository of the default image. */
  public static readonly DEFAULT_IMAGE_REPOSITORY: string = DEFAULT_IMAGE_REPOSITORY;
  /** The Dask release the default image is pinned to (the release the project's tests run). */
  public static readonly DEFAULT_IMAGE_TAG: string = DEFAULT_IMAGE_TAG;
  /** Workers of the default worker group (and of an added group) unless `workers` is given. */
  public static readonly DEFAULT_WORKERS: number = DEFAULT_WORKERS;

  /** A DaskCluster made elsewhere (another app, the TypeScript client, kubectl), for worker groups and autoscalers to reference. */
  public static fromClusterName(scope: Construct, id: string, clusterName: string): IDaskCluster {
    return new ImportedDaskCluster(scope, id, clusterName);
  }

  /** metadata.name, as worker groups and autoscalers reference it. */
  public readonly clusterName: string;
  /** Image of the scheduler and the workers. */
  public readonly image: string;
  /** Workers of the default worker group. */
  public readonly workers: number;
  /** Seconds of scheduler idleness after which the operator deletes the cluster; 0: never. */
  public readonly idleTimeoutSeconds: number;
  /** Name of the scheduler Service the operator creates (`{name}-scheduler`), for Ingress, Istio or mesh objects. */
  public readonly schedulerServiceName: string;
  /** Name of the default worker group the operator creates (`{name}-default`). */
  public readonly defaultWorkerGroupName: string;

  private readonly props: DaskClusterProps;
  private readonly groups = new Map<string, DaskWorkerGroup>();
  private autoscaler?: DaskAutoscaler;

  public constructor(scope: Construct, id: string, props: DaskClusterProps = {}) {
    super(scope, id, DASK_CLUSTER.kind, props);
    this.props = props;
    this.clusterName = this.name;
    this.image = imageOf(props);
    this.workers = props.workers ?? DEFAULT_WORKERS;
    this.idleTimeoutSeconds = idleTimeoutSeconds(props);
    this.schedulerServiceName = schedulerName(this.name);
    this.defaultWorkerGroupName = defaultWorkerGroupName(this.name);
  }

  /** In-cluster address of the scheduler, as the operator gives it to workers (DASK_SCHEDULER_ADDRESS). */
  public schedulerAddress(clusterDomain: string = 'cluster.local'): string {
    const wire: DaskClusterObject = { apiVersion: API_VERSION as 'kubernetes.dask.org/v1', kind: 'DaskCluster', metadata: { name: this.name, namespace: this.namespace ?? 'default' }, spec: this.spec() };
    return renderSchedulerAddress(wire, { clusterDomain });
  }

  /**
   * Adds a DaskWorkerGroup named `{cluster}-{name}`, inheriting the cluster's image, env, resources and worker command
   * unless the options override them.
   */
  public addWorkerGroup(name: string, options: DaskWorkerGroupOptions = {}): DaskWorkerGroup {
    if (this.groups.has(name)) {
      throw new Error(`${this.node.path}: worker group "${name}" is already defined on DaskCluster "${this.name}"; give each addWorkerGroup() call a distinct name`);
    }
    const group = new DaskWorkerGroup(this, `WorkerGroup-${name}`, { ...options, cluster: this, name: `${this.name}-${name}`, namespace: this.props.namespace });
    group._inherit({ image: this.image, env: this.props.env, envValues: this.props.envValues, resources: this.props.resources, workerCommand: this.props.workerCommand });
    this.groups.set(name, group);
    return group;
  }

  /** Puts the default worker group under adaptive scaling: a DaskAutoscaler named after the cluster. */
  public adapt(options: DaskAutoscalerOptions): DaskAutoscaler {
    if (this.autoscaler) throw new Error(`${this.node.path}: adapt() was already called on DaskCluster "${this.name}"; call it once`);
    this.autoscaler = new DaskAutoscaler(this, 'Autoscaler', { ...options, name: this.name, namespace: this.props.namespace, cluster: this });
    return this.autoscaler;
  }

  /** @internal */
  public _renderSpec(): object {
    return this.spec();
  }

  /** @internal */
  public _validateProps(): string[] {
    const p = this.props;
    const problems: string[] = [];
    const nameProblem = clusterNameProblem(this.name);
    if (nameProblem) problems.push(`DaskCluster name ${nameProblem}. Pass a valid \`name\` prop.`);
    problems.push(...replicasProblems('workers', p.workers));
    problems.push(...resourcesProblems('DaskCluster', p.resources));
    problems.push(...idleProblems('', p));
    for (const [what, port] of Object.entries(p.schedulerServicePorts ?? {})) {
      if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) problems.push(`schedulerServicePorts.${what} must be a port number 1-65535, got ${port}`);
    }
    // The operator creates `{name}-default`; a DaskWorkerGroup of that name in the same namespace would fight it.
    const ns = this.namespace ?? '';
    for (const other of this.node.root.node.findAll()) {
      if (other instanceof DaskWorkerGroup && other.name === this.defaultWorkerGroupName && (other.namespace ?? '') === ns) {
        problems.push(`DaskWorkerGroup "${other.name}" at ${other.node.path} collides with the default worker group the operator creates for DaskCluster "${this.name}"; choose another name`);
      }
    }
    return problems;
  }

  private spec() {
    return clusterSpecOf(this.name, this.props);
  }
}

/** A cluster created elsewhere (another app, the TypeScript client, kubectl), known by name. */
class ImportedDaskCluster extends Construct implements IDaskCluster {
  public constructor(scope: Construct, id: string, public readonly clusterName: string) {
    super(scope, id);
  }
}
