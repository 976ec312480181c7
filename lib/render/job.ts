import type { DaskCluster, DaskJob, Pod } from '../schema/generated/types';
import {
  ANNOTATION_JOB_ATTEMPT, API_VERSION, COMPONENT_JOB_RUNNER, DASK_CLUSTER, jobRunnerPodName, LABEL_CLUSTER, LABEL_COMPONENT, LABEL_ISTIO_INJECT,
} from '../schema/names';
import { clone, injectEnv } from './env';
import { childMetadata } from './metadata';
import { RenderOptions } from './options';
import { schedulerAddress } from './scheduler';

/** The DaskCluster of a DaskJob: named after the job, owned by it. */
export function jobCluster(job: DaskJob): DaskCluster {
  const name = job.metadata.name as string;
  const tpl = job.spec?.cluster;
  if (!tpl) throw new Error(`DaskJob ${name} has no spec.cluster`);
  return {
    apiVersion: API_VERSION,
    kind: DASK_CLUSTER.kind as 'DaskCluster',
    metadata: childMetadata(job, name, tpl.metadata, { [LABEL_CLUSTER]: name }),
    spec: clone(tpl.spec),
  };
}

/**
 * The runner Pod of attempt `attempt` (1, 2, ...): `{job}-runner-{uid}-{attempt}` (lib/schema/names.ts
 * jobRunnerPodName), with DASK_SCHEDULER_ADDRESS injected and the attempt recorded in an annotation.
 */
export function runnerPod(job: DaskJob, opts: RenderOptions = {}, attempt = 1): Pod {
  const name = job.metadata.name as string;
  const tpl = job.spec?.job;
  if (!tpl) throw new Error(`DaskJob ${name} has no spec.job`);
  if (!job.metadata.uid) throw new Error(`DaskJob ${name} has no uid yet: runner Pod names are derived from it (read the job from the API server first)`);
  const cluster = jobCluster(job);
  const spec = injectEnv(clone(tpl.spec), [{ name: 'DASK_SCHEDULER_ADDRESS', value: schedulerAddress(cluster, opts) }]);
  if (!spec.restartPolicy) spec.restartPolicy = 'OnFailure';
  const metadata = childMetadata(job, jobRunnerPodName(name, job.metadata.uid, attempt), tpl.metadata, { [LABEL_CLUSTER]: name, [LABEL_COMPONENT]: COMPONENT_JOB_RUNNER, [LABEL_ISTIO_INJECT]: 'false' });
  metadata.annotations = { ...(metadata.annotations ?? {}), [ANNOTATION_JOB_ATTEMPT]: String(attempt) };
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec } as Pod;
}
