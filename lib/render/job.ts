import type { DaskCluster, DaskJob, Pod, SimpleObjectMeta } from '../schema/generated/types';
import type { JobPlacement, PodSetPlacement } from '../schema/kueue';
import {
  ANNOTATION_JOB_ATTEMPT, API_VERSION, COMPONENT_JOB_RUNNER, DASK_CLUSTER, jobRunnerPodName, LABEL_CLUSTER, LABEL_COMPONENT,
} from '../schema/names';
import { clone, injectEnv } from './env';
import { withPlacement } from './kueue';
import { childMetadata, withDefaultIstioInject } from './metadata';
import { RenderOptions } from './options';
import { schedulerAddress } from './scheduler';

/**
 * The DaskCluster of a DaskJob: named after the job, owned by it. With a placement (a Kueue admission), the scheduler
 * and worker templates carry its node selectors, tolerations, labels and annotations.
 */
export function jobCluster(job: DaskJob, placement?: JobPlacement): DaskCluster {
  const name = job.metadata.name as string;
  const tpl = job.spec?.cluster;
  if (!tpl) throw new Error(`DaskJob ${name} has no spec.cluster`);
  const spec = clone(tpl.spec);
  if (placement?.scheduler) {
    spec.scheduler.spec = withPlacement(spec.scheduler.spec, placement.scheduler);
    spec.scheduler.metadata = withPlacementMetadata(spec.scheduler.metadata, placement.scheduler);
  }
  if (placement?.worker) {
    spec.worker.spec = withPlacement(spec.worker.spec, placement.worker);
    spec.worker.metadata = withPlacementMetadata(spec.worker.metadata, placement.worker);
  }
  return {
    apiVersion: API_VERSION,
    kind: DASK_CLUSTER.kind as 'DaskCluster',
    metadata: childMetadata(job, name, tpl.metadata, { [LABEL_CLUSTER]: name }),
    spec,
  };
}

function withPlacementMetadata(meta: SimpleObjectMeta | undefined, p: PodSetPlacement): SimpleObjectMeta | undefined {
  if (!p.labels && !p.annotations) return meta;
  return {
    ...(meta ?? {}),
    ...(p.labels ? { labels: { ...(meta?.labels ?? {}), ...p.labels } } : {}),
    ...(p.annotations ? { annotations: { ...(meta?.annotations ?? {}), ...p.annotations } } : {}),
  };
}

/**
 * The runner Pod of attempt `attempt` (1, 2, ...): `{job}-runner-{uid}-{attempt}` (lib/schema/names.ts
 * jobRunnerPodName), with DASK_SCHEDULER_ADDRESS injected and the attempt recorded in an annotation.
 */
export function runnerPod(job: DaskJob, opts: RenderOptions = {}, attempt = 1, placement?: PodSetPlacement): Pod {
  const name = job.metadata.name as string;
  const tpl = job.spec?.job;
  if (!tpl) throw new Error(`DaskJob ${name} has no spec.job`);
  if (!job.metadata.uid) throw new Error(`DaskJob ${name} has no uid yet: runner Pod names are derived from it (read the job from the API server first)`);
  const cluster = jobCluster(job);
  const spec = withPlacement(injectEnv(clone(tpl.spec), [{ name: 'DASK_SCHEDULER_ADDRESS', value: schedulerAddress(cluster, opts) }]), placement);
  if (!spec.restartPolicy) spec.restartPolicy = 'OnFailure';
  const template = placement ? withPlacementMetadata(tpl.metadata, placement) : tpl.metadata;
  const metadata = childMetadata(job, jobRunnerPodName(name, job.metadata.uid, attempt), template, { [LABEL_CLUSTER]: name, [LABEL_COMPONENT]: COMPONENT_JOB_RUNNER });
  metadata.labels = withDefaultIstioInject(metadata.labels ?? {});
  metadata.annotations = { ...(metadata.annotations ?? {}), [ANNOTATION_JOB_ATTEMPT]: String(attempt) };
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec } as Pod;
}
