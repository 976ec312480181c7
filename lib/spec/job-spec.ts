/**
 * Pure builder for a DaskJob spec, shared by the DaskJob construct and the TypeScript client, with the checks both
 * make before anything is synthesized or sent (the CRD and its CEL rules check the same again on the server).
 */
import type { Container, DaskClusterSpec, DaskJobSpec, PodSpec, SimpleObjectMeta } from '../schema/generated/types';
import { DaskEnv, DaskResources, envList } from './cluster-spec';

/** The runner (client) container of a DaskJob. */
export interface JobRunnerOptions {
  /** @default - the cluster's worker image */
  readonly image?: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: DaskEnv;
  readonly resources?: DaskResources;
  /** @default 'OnFailure' */
  readonly restartPolicy?: 'OnFailure' | 'Never';
  readonly metadata?: SimpleObjectMeta;
  /** The whole runner Pod spec (replaces everything above but metadata). */
  readonly podSpec?: PodSpec;
}

/** The lifecycle fields of a DaskJob spec, in the CRD's units (seconds). */
export interface JobLifecycleOptions {
  readonly backoffLimit?: number;
  readonly activeDeadlineSeconds?: number;
  readonly ttlSecondsAfterFinished?: number;
  readonly suspend?: boolean;
}

export interface JobSpecOptions extends JobLifecycleOptions {
  readonly runner: JobRunnerOptions;
  readonly cluster: DaskClusterSpec;
}

/** The DaskJob spec; lifecycle fields left unset stay out of it (the operator's defaults then apply). */
export function jobSpec(opts: JobSpecOptions): DaskJobSpec {
  const r = opts.runner;
  const image = opts.cluster.worker.spec.containers[0]?.image;
  const container = Object.fromEntries(Object.entries({
    name: 'job',
    image: r.image ?? image,
    command: r.command && [...r.command],
    args: r.args && [...r.args],
    env: envList(r.env),
    resources: r.resources && { ...r.resources },
  }).filter(([, v]) => v !== undefined)) as unknown as Container;
  const spec: DaskJobSpec = {
    job: { ...(r.metadata ? { metadata: { ...r.metadata } } : {}), spec: r.podSpec ?? { containers: [container], restartPolicy: r.restartPolicy ?? 'OnFailure' } },
    cluster: { spec: opts.cluster },
  };
  if (opts.backoffLimit !== undefined) spec.backoffLimit = opts.backoffLimit;
  if (opts.activeDeadlineSeconds !== undefined) spec.activeDeadlineSeconds = opts.activeDeadlineSeconds;
  if (opts.ttlSecondsAfterFinished !== undefined) spec.ttlSecondsAfterFinished = opts.ttlSecondsAfterFinished;
  if (opts.suspend !== undefined) spec.suspend = opts.suspend;
  return spec;
}

/** What is wrong with the lifecycle fields; `names` says what the caller calls them (construct props or client options). */
export function jobLifecycleProblems(
  opts: JobLifecycleOptions,
  names: { backoffLimit: string; activeDeadline: string; ttlAfterFinished: string } = { backoffLimit: 'backoffLimit', activeDeadline: 'activeDeadlineSeconds', ttlAfterFinished: 'ttlSecondsAfterFinished' },
): string[] {
  const problems: string[] = [];
  const whole = (v: number | undefined, min: number): boolean => v === undefined || (Number.isInteger(v) && v >= min && v <= 2 ** 31 - 1);
  if (!whole(opts.backoffLimit, 0)) problems.push(`${names.backoffLimit} must be a whole number >= 0 (retries of a failed runner), got ${opts.backoffLimit}`);
  if (!whole(opts.activeDeadlineSeconds, 1)) problems.push(`${names.activeDeadline} must be a whole number of seconds >= 1, got ${opts.activeDeadlineSeconds}`);
  if (!whole(opts.ttlSecondsAfterFinished, 0)) problems.push(`${names.ttlAfterFinished} must be a whole number of seconds >= 0, got ${opts.ttlSecondsAfterFinished}`);
  return problems;
}
