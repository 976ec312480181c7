import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { clusterSpecFromProps, idleProblems, type DaskClusterProps } from './cluster';
import { DaskMetadataProps, DaskResource, DaskResourceProps, replicasProblems, resourcesProblems } from './resource';
import type { PodSpec } from './schema/generated/types';
import { clusterNameProblem, DASK_JOB } from './schema/names';
import { DaskEnv, DaskResources } from './spec/cluster-spec';
import { jobLifecycleProblems, jobSpec } from './spec/job-spec';

/** The runner (client) Pod of a DaskJob. */
export interface DaskJobRunnerProps {
  /** Runner image. @default - the cluster's image */
  readonly image?: string;
  /** Container command. @default - the image's entrypoint */
  readonly command?: string[];
  /** Container arguments, e.g. ['python', '-c', '...']. */
  readonly args?: string[];
  /** Runner environment, in order. DASK_SCHEDULER_ADDRESS is injected by the operator. @default - none */
  readonly env?: DaskEnv;
  readonly resources?: DaskResources;
  /** @default 'OnFailure' (the runner is restarted until it exits 0) */
  readonly restartPolicy?: 'OnFailure' | 'Never';
  /** Labels/annotations of the runner Pod. @default - none */
  readonly metadata?: DaskMetadataProps;
  /** Escape hatch: the whole runner Pod spec. @default - generated from the props above */
  readonly podSpec?: PodSpec;
}

/** The cluster part of a DaskJob: DaskCluster props other than name/namespace. */
export type DaskJobClusterProps = Omit<DaskClusterProps, 'name' | 'namespace' | 'metadata'>;

export interface DaskJobProps extends DaskResourceProps {
  readonly runner: DaskJobRunnerProps;
  /** The cluster created for the job (named after the job). @default - a default cluster (3 workers) */
  readonly cluster?: DaskJobClusterProps;
  /**
   * How many times a failed runner is retried, each retry a new runner Pod on the same cluster. When set, in-place
   * container restarts (restartPolicy OnFailure) count towards it too, as in a batch/v1 Job.
   * @default - no retries, and no limit on in-place restarts: the upstream DaskJob's behaviour (batch/v1 Job defaults
   *   to 6; a runner that is not idempotent must not be re-run unasked, so retries are opt-in here)
   * @see https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-backoff-failure-policy
   */
  readonly backoffLimit?: number;
  /**
   * How long the job may be active, cluster start-up included, counted from its creation (or its last resume). Then
   * the runner and cluster are deleted and the job fails with reason DeadlineExceeded. Whole seconds.
   * @default - no deadline
   */
  readonly activeDeadline?: Duration;
  /**
   * Delete the DaskJob itself this long after it finished (Successful or Failed). Whole seconds.
   * @default - the DaskJob is kept
   */
  readonly ttlAfterFinished?: Duration;
  /**
   * Create the job suspended: nothing is created until `spec.suspend` is set to false (kubectl patch, or Kueue).
   * @default false
   */
  readonly suspend?: boolean;
}

/**
 * A Dask batch job (kubernetes.dask.org/v1 DaskJob): a runner Pod plus a DaskCluster named after the job. The cluster
 * is removed when the runner succeeds, or when the job fails for good: after `backoffLimit` retries (each a new runner
 * Pod on the same cluster), or when `activeDeadline` passes. `suspend` holds the job without Pods; `ttlAfterFinished`
 * deletes it some time after it finished. Status keeps the upstream `jobStatus` values, plus batch/v1-style conditions
 * `Suspended`, `Complete` and `Failed` (docs/daskjob.md).
 *
 * @example
 * new DaskJob(chart, 'nightly', {
 *   runner: { args: ['python', '-m', 'etl'], restartPolicy: 'Never' },
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

  protected renderSpec(): Record<string, unknown> {
    const p = this.props;
    const r = p.runner;
    return jobSpec({
      runner: { image: r.image, command: r.command, args: r.args, env: r.env, resources: r.resources, restartPolicy: r.restartPolicy, metadata: r.metadata && { ...r.metadata }, podSpec: r.podSpec },
      cluster: clusterSpecFromProps(this.name, p.cluster ?? {}),
      backoffLimit: p.backoffLimit,
      activeDeadlineSeconds: seconds(p.activeDeadline),
      ttlSecondsAfterFinished: seconds(p.ttlAfterFinished),
      suspend: p.suspend,
    }) as unknown as Record<string, unknown>;
  }

  protected validateProps(): string[] {
    const problems: string[] = [];
    const nameProblem = clusterNameProblem(this.name);
    if (nameProblem) problems.push(`DaskJob name ${nameProblem} (the job's cluster is named after it). Pass a valid \`name\` prop.`);
    problems.push(...replicasProblems('cluster.workers', this.props.cluster?.workers));
    problems.push(...resourcesProblems('DaskJob cluster', this.props.cluster?.resources));
    problems.push(...resourcesProblems('DaskJob runner', this.props.runner.resources));
    problems.push(...idleProblems(this.props.cluster ?? {}).map((m) => `cluster.${m}`));
    problems.push(...jobLifecycleProblems(
      { backoffLimit: this.props.backoffLimit, activeDeadlineSeconds: seconds(this.props.activeDeadline), ttlSecondsAfterFinished: seconds(this.props.ttlAfterFinished) },
      { backoffLimit: 'backoffLimit', activeDeadline: 'activeDeadline (in seconds)', ttlAfterFinished: 'ttlAfterFinished (in seconds)' },
    ));
    return problems;
  }
}

/** A Duration in seconds, fractions kept (so validation can name them) and no throw on them. */
function seconds(d: Duration | undefined): number | undefined {
  return d === undefined ? undefined : d.toMilliseconds() / 1000;
}
