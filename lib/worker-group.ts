import { Construct } from 'constructs';
import type { DaskCluster } from './cluster';
import { DaskMetadataProps, DaskResource, DaskResourceProps, replicasProblems, resourcesProblems } from './resource';
import type { DaskWorkerGroupSpec, PodSpec } from './schema/generated/types';
import { DASK_WORKER_GROUP, defaultWorkerGroupName } from './schema/names';
import { DaskEnv, DaskResources, DEFAULT_IMAGE_REPOSITORY, DEFAULT_IMAGE_TAG, workerTemplate } from './spec/cluster-spec';

/** Options of `DaskCluster.addWorkerGroup()`: everything but the cluster. */
export interface DaskWorkerGroupOptions {
  /** Number of workers. @default 1 */
  readonly workers?: number;
  /** Worker image. @default - the cluster's image (standalone: ghcr.io/dask/dask:2026.8.0) */
  readonly image?: string;
  /** Worker environment, in order. @default - the cluster's env */
  readonly env?: DaskEnv;
  /** Requests/limits of the worker container. @default - the cluster's resources */
  readonly resources?: DaskResources;
  /** Command that starts a worker; `--name $(DASK_WORKER_NAME)` is appended. @default ['dask', 'worker'] */
  readonly workerCommand?: string[];
  /** Extra worker arguments, after the name (e.g. ['--resources', 'GPU=1']). @default - none */
  readonly workerArgs?: string[];
  /** Labels/annotations for the worker Pods. @default - none */
  readonly workerMetadata?: DaskMetadataProps;
  /** Escape hatch: the whole worker Pod spec. @default - generated from the options above */
  readonly podSpec?: PodSpec;
}

/** Props of a standalone DaskWorkerGroup. */
export interface DaskWorkerGroupProps extends DaskResourceProps, DaskWorkerGroupOptions {
  /** The cluster the workers join: a DaskCluster construct or the name of one in the same namespace. */
  readonly cluster: DaskCluster | string;
}

/** A group of identically shaped workers attached to a cluster (kubernetes.dask.org/v1 DaskWorkerGroup). */
export class DaskWorkerGroup extends DaskResource {
  /** Name of the cluster the group belongs to. */
  public readonly clusterName: string;
  private readonly props: DaskWorkerGroupProps;

  public constructor(scope: Construct, id: string, props: DaskWorkerGroupProps) {
    super(scope, id, DASK_WORKER_GROUP.kind, props);
    this.props = props;
    this.clusterName = typeof props.cluster === 'string' ? props.cluster : props.cluster.name;
  }

  protected renderSpec(): Record<string, unknown> {
    const p = this.props;
    const worker = workerTemplate({
      image: p.image ?? `${DEFAULT_IMAGE_REPOSITORY}:${DEFAULT_IMAGE_TAG}`,
      replicas: p.workers ?? 1,
      env: p.env,
      resources: p.resources,
      workerCommand: p.workerCommand,
      extraArgs: p.workerArgs,
      metadata: p.workerMetadata && { ...p.workerMetadata },
    });
    if (p.podSpec) worker.spec = p.podSpec;
    const spec: DaskWorkerGroupSpec = { cluster: this.clusterName, worker };
    return spec as unknown as Record<string, unknown>;
  }

  protected validateProps(): string[] {
    const problems = [...replicasProblems('workers', this.props.workers), ...resourcesProblems('DaskWorkerGroup', this.props.resources)];
    const ns = this.namespace ?? '';
    for (const other of this.node.root.node.findAll()) {
      if (other === this) continue;
      if (other instanceof DaskWorkerGroup && other.name === this.name && (other.namespace ?? '') === ns && other.node.path < this.node.path) {
        problems.push(`DaskWorkerGroup "${this.name}" is also defined at ${other.node.path}; worker-group names must be unique per namespace`);
      }
      if (isCluster(other) && defaultWorkerGroupName(other.name) === this.name && (other.namespace ?? '') === ns) {
        problems.push(`DaskWorkerGroup "${this.name}" collides with the default worker group the operator creates for DaskCluster "${other.name}"; choose another name`);
      }
    }
    return problems;
  }
}

function isCluster(c: Construct): c is DaskCluster {
  return (c as DaskCluster).adapt !== undefined && (c as DaskCluster).addWorkerGroup !== undefined;
}
