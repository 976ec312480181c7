import { Construct } from 'constructs';
import type { IDaskCluster } from './cluster-ref';
import type { DaskAutoscalerOptions } from './options';
import { DaskResource, DaskResourceProps } from './resource';
import type { DaskAutoscalerSpec } from './schema/generated/types';
import { DASK_AUTOSCALER } from './schema/names';

/** Props of a DaskAutoscaler. */
export interface DaskAutoscalerProps extends DaskResourceProps, DaskAutoscalerOptions {
  /** The cluster to autoscale: a DaskCluster, or `DaskCluster.fromClusterName()` for one made elsewhere. */
  readonly cluster: IDaskCluster;
}

/**
 * Adaptive scaling of a cluster's default worker group (kubernetes.dask.org/v1 DaskAutoscaler): the operator
 * periodically asks the scheduler how many workers it wants and keeps the count within [minimum, maximum].
 */
export class DaskAutoscaler extends DaskResource {
  /** Name of the cluster it scales. */
  public readonly clusterName: string;
  /** Fewest workers. */
  public readonly minimum: number;
  /** Most workers. */
  public readonly maximum: number;

  public constructor(scope: Construct, id: string, props: DaskAutoscalerProps) {
    super(scope, id, DASK_AUTOSCALER.kind, props);
    this.clusterName = props.cluster.clusterName;
    this.minimum = props.minimum ?? 0;
    this.maximum = props.maximum;
  }

  /** @internal */
  public _renderSpec(): object {
    const spec: DaskAutoscalerSpec = { cluster: this.clusterName, minimum: this.minimum, maximum: this.maximum };
    return spec;
  }

  /** @internal */
  public _validateProps(): string[] {
    const problems: string[] = [];
    for (const [what, n] of [['minimum', this.minimum], ['maximum', this.maximum]] as const) {
      if (!Number.isInteger(n) || n < 0) problems.push(`DaskAutoscaler "${this.name}": ${what} must be a whole number >= 0, got ${n}`);
    }
    if (problems.length === 0 && this.minimum > this.maximum) {
      problems.push(`DaskAutoscaler "${this.name}": minimum (${this.minimum}) is greater than maximum (${this.maximum}); pass minimum <= maximum`);
    }
    return problems;
  }
}
