import { Construct } from 'constructs';
import { clusterSpecFromProps, type DaskClusterProps } from './cluster';
import { DaskMetadataProps, DaskResource, DaskResourceProps, replicasProblems, resourcesProblems } from './resource';
import type { DaskJobSpec, PodSpec } from './schema/generated/types';
import { clusterNameProblem, DASK_JOB } from './schema/names';
import { DaskEnv, DaskResources, envList } from './spec/cluster-spec';

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
}

/**
 * A Dask batch job (kubernetes.dask.org/v1 DaskJob): a runner Pod plus a DaskCluster named after the job; the cluster
 * is removed when the runner exits successfully (or fails for good).
 */
export class DaskJob extends DaskResource {
  private readonly props: DaskJobProps;

  public constructor(scope: Construct, id: string, props: DaskJobProps) {
    super(scope, id, DASK_JOB.kind, props);
    this.props = props;
  }

  protected renderSpec(): Record<string, unknown> {
    const c = this.props.cluster ?? {};
    const r = this.props.runner;
    const cluster = clusterSpecFromProps(this.name, c);
    const image = cluster.worker.spec.containers[0].image;
    const container = Object.fromEntries(Object.entries({
      name: 'job',
      image: r.image ?? image,
      command: r.command,
      args: r.args,
      env: envList(r.env),
      resources: r.resources && { ...r.resources },
    }).filter(([, v]) => v !== undefined));
    const jobSpec: PodSpec = r.podSpec ?? { containers: [container as unknown as PodSpec['containers'][number]], restartPolicy: r.restartPolicy ?? 'OnFailure' };
    const spec: DaskJobSpec = {
      job: { ...(r.metadata ? { metadata: { ...r.metadata } } : {}), spec: jobSpec },
      cluster: { spec: cluster },
    };
    return spec as unknown as Record<string, unknown>;
  }

  protected validateProps(): string[] {
    const problems: string[] = [];
    const nameProblem = clusterNameProblem(this.name);
    if (nameProblem) problems.push(`DaskJob name ${nameProblem} (the job's cluster is named after it). Pass a valid \`name\` prop.`);
    problems.push(...replicasProblems('cluster.workers', this.props.cluster?.workers));
    problems.push(...resourcesProblems('DaskJob cluster', this.props.cluster?.resources));
    problems.push(...resourcesProblems('DaskJob runner', this.props.runner.resources));
    return problems;
  }
}
