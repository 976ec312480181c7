import { Construct } from 'constructs';
import type { IDaskCluster } from './cluster-ref';
import type { DaskWorkerGroupOptions } from './options';
import { DaskResource, DaskResourceProps } from './resource';
import { replicasProblems, resourcesProblems } from './validation/props';
import type { DaskWorkerGroupSpec } from './schema/generated/types';
import { DASK_WORKER_GROUP } from './schema/names';
import { DEFAULT_WORKERS } from './spec/cluster-spec';
import { workerTemplateOf } from './spec/from-options';

/** Props of a standalone DaskWorkerGroup. */
export interface DaskWorkerGroupProps extends DaskResourceProps, DaskWorkerGroupOptions {
  /** The cluster the workers join: a DaskCluster, or `DaskCluster.fromClusterName()` for one made elsewhere. */
  readonly cluster: IDaskCluster;
}

/** A group of identically shaped workers attached to a cluster (kubernetes.dask.org/v1 DaskWorkerGroup). */
export class DaskWorkerGroup extends DaskResource {
  /** Name of the cluster the group belongs to. */
  public readonly clusterName: string;
  /** Number of workers. */
  public readonly workers: number;
  private readonly props: DaskWorkerGroupProps;
  private inherited: DaskWorkerGroupOptions = {};

  public constructor(scope: Construct, id: string, props: DaskWorkerGroupProps) {
    super(scope, id, DASK_WORKER_GROUP.kind, props);
    this.props = props;
    this.clusterName = props.cluster.clusterName;
    this.workers = props.workers ?? DEFAULT_WORKERS;
  }

  /** @internal What a group added with `DaskCluster.addWorkerGroup()` takes from its cluster. */
  public _inherit(options: DaskWorkerGroupOptions): void {
    this.inherited = options;
  }

  /** @internal */
  public _renderSpec(): object {
    const spec: DaskWorkerGroupSpec = { cluster: this.clusterName, worker: workerTemplateOf(this.props, this.inherited) };
    return spec;
  }

  /** @internal */
  public _validateProps(): string[] {
    const problems = [...replicasProblems('workers', this.props.workers), ...resourcesProblems('DaskWorkerGroup', this.props.resources)];
    const ns = this.namespace ?? '';
    for (const other of this.node.root.node.findAll()) {
      if (other !== this && other instanceof DaskWorkerGroup && other.name === this.name && (other.namespace ?? '') === ns && other.node.path < this.node.path) {
        problems.push(`DaskWorkerGroup "${this.name}" is also defined at ${other.node.path}; worker-group names must be unique per namespace`);
      }
    }
    return problems;
  }
}
