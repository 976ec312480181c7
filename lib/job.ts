import { Construct } from 'constructs';
import type { DaskJobOptions } from './options';
import { DaskResource, DaskResourceProps } from './resource';
import { idleProblems, jobLifecycleProblems, replicasProblems, resourcesProblems } from './validation/props';
import { clusterNameProblem, DASK_JOB } from './schema/names';
import { jobSpecOf } from './spec/from-options';

/** Props of a DaskJob. */
export interface DaskJobProps extends DaskResourceProps, DaskJobOptions {}

/**
 * A Dask batch job (kubernetes.dask.org/v1 DaskJob): a runner Pod plus a DaskCluster named after the job. The cluster
 * is removed when the runner succeeds, or when the job fails for good: after `backoffLimit` retries (each a new runner
 * Pod on the same cluster), or when `activeDeadline` passes. `suspend` holds the job without Pods; `ttlAfterFinished`
 * deletes it some time after it finished. Status keeps the upstream `jobStatus` values, plus batch/v1-style conditions
 * `Suspended`, `Complete` and `Failed` (docs/daskjob.md). Labelled `kueue.x-k8s.io/queue-name`, it waits for Kueue's
 * admission when the operator's Kueue integration is on (docs/kueue.md).
 *
 * @example
 * new DaskJob(chart, 'nightly', {
 *   runner: { args: ['python', '-m', 'etl'], restartPolicy: RestartPolicy.NEVER },
 *   cluster: { workers: 4 },
 *   backoffLimit: 2,
 *   activeDeadline: Duration.hours(2),
 *   ttlAfterFinished: Duration.days(1),
 * });
 */
export class DaskJob extends DaskResource {
  private readonly props: DaskJobProps;

  public constructor(scope: Construct, id: string, props: DaskJobProps) {
    super(scope, id, DASK_JOB.kind, props);
    this.props = props;
  }

  /** @internal */
  public _renderSpec(): object {
    return jobSpecOf(this.name, this.props);
  }

  /** @internal */
  public _validateProps(): string[] {
    const problems: string[] = [];
    const nameProblem = clusterNameProblem(this.name);
    if (nameProblem) problems.push(`DaskJob name ${nameProblem} (the job's cluster is named after it). Pass a valid \`name\` prop.`);
    problems.push(...replicasProblems('cluster.workers', this.props.cluster?.workers));
    problems.push(...resourcesProblems('DaskJob cluster', this.props.cluster?.resources));
    problems.push(...resourcesProblems('DaskJob runner', this.props.runner.resources));
    problems.push(...idleProblems('cluster.', this.props.cluster ?? {}));
    problems.push(...jobLifecycleProblems(this.props));
    return problems;
  }
}
