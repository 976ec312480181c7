import type { DaskCluster, DaskJob, Pod } from '../schema/generated/types';
import { API_VERSION, COMPONENT_JOB_RUNNER, DASK_CLUSTER, jobRunnerName, LABEL_CLUSTER, LABEL_COMPONENT } from '../schema/names';
import { clone, injectEnv } from './env';
import { childMetadata, withDefaultIstioInject } from './metadata';
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

/** The runner Pod `{job}-runner`, with DASK_SCHEDULER_ADDRESS injected. */
export function runnerPod(job: DaskJob, opts: RenderOptions = {}): Pod {
  const name = job.metadata.name as string;
  const tpl = job.spec?.job;
  if (!tpl) throw new Error(`DaskJob ${name} has no spec.job`);
  const cluster = jobCluster(job);
  const spec = injectEnv(clone(tpl.spec), [{ name: 'DASK_SCHEDULER_ADDRESS', value: schedulerAddress(cluster, opts) }]);
  if (!spec.restartPolicy) spec.restartPolicy = 'OnFailure';
  const metadata = childMetadata(job, jobRunnerName(name), tpl.metadata, { [LABEL_CLUSTER]: name, [LABEL_COMPONENT]: COMPONENT_JOB_RUNNER });
  metadata.labels = withDefaultIstioInject(metadata.labels ?? {});
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec } as Pod;
}
