import { Construct } from 'constructs';
import type { EnvValue } from './env';
import type { DaskClusterOptions, DaskMetadata } from './options';
import { DaskResource, DaskResourceProps } from './resource';
import { replicasProblems, resourcesProblems } from './validation/props';
import type { ContainerResources } from './resources';
import type { Container, DaskJobSpec, PodSpec } from './schema/generated/types';
import { clusterNameProblem, DASK_JOB } from './schema/names';
import { clusterSpecOf, envVars, resourceRequirements } from './spec/from-options';

/** What Kubernetes does when the runner container exits (`spec.job.spec.restartPolicy`). */
export enum RestartPolicy {
  /** Restart the runner until it exits 0. */
  ON_FAILURE = 'OnFailure',
  /** Run it once; a non-zero exit fails the job. */
  NEVER = 'Never',
}

/** The runner (client) Pod of a DaskJob. */
export interface DaskJobRunnerOptions {
  /** Runner image. @default - the cluster's image */
  readonly image?: string;
  /** Container command. @default - the image's entrypoint */
  readonly command?: string[];
  /** Container arguments, e.g. ['python', '-m', 'etl']. @default - none */
  readonly args?: string[];
  /** Environment variables with plain values, in order; DASK_SCHEDULER_ADDRESS is injected by the operator. @default - none */
  readonly env?: { [name: string]: string };
  /** Environment variables from Pod fields, Secrets, ConfigMaps or resources; after `env`. @default - none */
  readonly envValues?: { [name: string]: EnvValue };
  /** Requests and limits of the runner container. @default - none */
  readonly resources?: ContainerResources;
  /** @default RestartPolicy.ON_FAILURE */
  readonly restartPolicy?: RestartPolicy;
  /** Labels and annotations of the runner Pod. @default - none */
  readonly metadata?: DaskMetadata;
  /** Escape hatch: the whole runner Pod spec, as Kubernetes JSON (a core/v1 PodSpec). @default - generated from the options above */
  readonly podSpec?: { [key: string]: any };
}

/** Props of a DaskJob. */
export interface DaskJobProps extends DaskResourceProps {
  /** The runner Pod. */
  readonly runner: DaskJobRunnerOptions;
  /** The cluster created for the job (named after the job). @default - a default cluster (3 workers) */
  readonly cluster?: DaskClusterOptions;
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

  /** @internal */
  public _renderSpec(): object {
    const r = this.props.runner;
    const cluster = clusterSpecOf(this.name, this.props.cluster ?? {});
    const image = cluster.worker.spec.containers[0].image;
    const container = Object.fromEntries(Object.entries({
      name: 'job',
      image: r.image ?? image,
      command: r.command,
      args: r.args,
      env: envVars(r),
      resources: resourceRequirements(r.resources),
    }).filter(([, v]) => v !== undefined)) as unknown as Container;
    const jobSpec: PodSpec = r.podSpec
      ? (JSON.parse(JSON.stringify(r.podSpec)) as PodSpec)
      : { containers: [container], restartPolicy: r.restartPolicy ?? RestartPolicy.ON_FAILURE };
    const metadata = r.metadata && { ...(r.metadata.labels ? { labels: { ...r.metadata.labels } } : {}), ...(r.metadata.annotations ? { annotations: { ...r.metadata.annotations } } : {}) };
    const spec: DaskJobSpec = {
      job: { ...(metadata ? { metadata } : {}), spec: jobSpec },
      cluster: { spec: cluster },
    };
    return spec;
  }

  /** @internal */
  public _validateProps(): string[] {
    const problems: string[] = [];
    const nameProblem = clusterNameProblem(this.name);
    if (nameProblem) problems.push(`DaskJob name ${nameProblem} (the job's cluster is named after it). Pass a valid \`name\` prop.`);
    problems.push(...replicasProblems('cluster.workers', this.props.cluster?.workers));
    problems.push(...resourcesProblems('DaskJob cluster', this.props.cluster?.resources));
    problems.push(...resourcesProblems('DaskJob runner', this.props.runner.resources));
    return problems;
  }
}
