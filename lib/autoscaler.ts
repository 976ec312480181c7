import { Construct } from 'constructs';
import type { DaskCluster } from './cluster';
import { DaskResource, DaskResourceProps } from './resource';
import type { DaskAutoscalerSpec } from './schema/generated/types';
import { DASK_AUTOSCALER } from './schema/names';

/** Props of a DaskAutoscaler. */
export interface DaskAutoscalerProps extends DaskResourceProps {
  /** The cluster to autoscale: a DaskCluster construct or the name of one in the same namespace. */
  readonly cluster: DaskCluster | string;
  /** Fewest workers. @default 0 */
  readonly minimum?: number;
  /** Most workers. */
  readonly maximum: number;
}

/**
 * Adaptive scaling of a cluster's default worker group (kubernetes.dask.org/v1 DaskAutoscaler): the operator
 * periodically asks the scheduler how many workers it wants and keeps the count within [minimum, maximum].
 */
export class DaskAutoscaler extends DaskResource {
  public readonly clusterName: string;
  private readonly props: DaskAutoscalerProps;

  public constructor(scope: Construct, id: string, props: DaskAutoscalerProps) {
    super(scope, id, DASK_AUTOSCALER.kind, props);
    this.props = props;
    this.clusterName = typeof props.cluster === 'string' ? props.cluster : props.cluster.name;
  }

  protected renderSpec(): Record<string, unknown> {
    const spec: DaskAutoscalerSpec = { cluster: this.clusterName, minimum: this.props.minimum ?? 0, maximum: this.props.maximum };
    return spec as unknown as Record<string, unknown>;
  }

  protected validateProps(): string[] {
    const min = this.props.minimum ?? 0;
    const max = this.props.maximum;
    const problems: string[] = [];
    for (const [what, n] of [['minimum', min], ['maximum', max]] as const) {
      if (!Number.isInteger(n) || n < 0) problems.push(`DaskAutoscaler "${this.name}": ${what} must be a whole number >= 0, got ${n}`);
    }
    if (problems.length === 0 && min > max) {
      problems.push(`DaskAutoscaler "${this.name}": minimum (${min}) is greater than maximum (${max}); pass minimum <= maximum`);
    }
    return problems;
  }
}
