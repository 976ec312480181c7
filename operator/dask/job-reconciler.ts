/**
 * DaskJob → a DaskCluster named after the job and a runner Pod `{job}-runner`. The job's status follows the
 * runner: Running (startTime), then Successful or Failed (endTime), when the cluster is deleted. Status keys and
 * values are the upstream operator's.
 */
import type { Request } from '../runtime/object';
import type { ReconcileContext, Result } from '../runtime/reconcile';
import { jobCluster, runnerPod } from '../../lib/render';
import type { DaskJob, DaskJobStatus } from '../../lib/schema/generated/types';
import { clusterNameProblem, jobRunnerName } from '../../lib/schema/names';
import { jsonEqual } from './conditions';
import { isRejected } from './api';
import type { DaskContext } from './context';
import { isControlledBy } from './pods';

const ref = (j: DaskJob) => ({ plural: 'daskjobs' as const, namespace: j.metadata.namespace as string, name: j.metadata.name as string });
const stamp = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function reconcileJob(ctx: DaskContext, req: Request, _rc: ReconcileContext): Promise<Result | void> {
  const job = ctx.caches.jobs.get(req.namespace, req.name);
  if (!job || job.metadata.deletionTimestamp || !job.spec) return;
  const current: DaskJobStatus = job.status ?? {};
  const write = async (s: DaskJobStatus): Promise<void> => {
    if (!jsonEqual({ ...current, ...s }, current)) await ctx.api.patchStatus(ref(job), s);
  };
  const problem = clusterNameProblem(req.name);
  if (problem) {
    if (current.jobStatus !== 'Failed') ctx.events.event(job, 'Warning', 'InvalidName', `DaskJob name ${problem}`);
    await write({ jobStatus: 'Failed' });
    return;
  }
  if (!current.jobStatus) await write({ jobStatus: 'JobCreated' });
  const finished = current.jobStatus === 'Successful' || current.jobStatus === 'Failed';
  const runnerName = jobRunnerName(req.name);
  const cluster = ctx.caches.clusters.get(req.namespace, req.name);
  const runner = ctx.caches.pods.get(req.namespace, runnerName);

  if (runner && (runner.status?.phase === 'Succeeded' || runner.status?.phase === 'Failed') && isControlledBy(runner, job.metadata.uid)) {
    const ok = runner.status.phase === 'Succeeded';
    if (cluster && isControlledBy(cluster, job.metadata.uid)) {
      await ctx.api.delete({ plural: 'daskclusters', namespace: req.namespace, name: req.name }, { uid: cluster.metadata.uid });
      ctx.events.event(job, ok ? 'Normal' : 'Warning', ok ? 'JobSucceeded' : 'JobFailed', `runner Pod ${runnerName} ${ok ? 'succeeded' : 'failed'}; deleted the Dask cluster`);
    }
    const endTime = current.endTime ?? stamp(ctx.now());
    if (!finished) ctx.metrics?.jobFinished(ok, current.startTime ? (Date.parse(endTime) - Date.parse(current.startTime)) / 1000 : undefined);
    await write({ jobStatus: ok ? 'Successful' : 'Failed', endTime });
    return;
  }
  if (finished) return;
  try {
    if (!cluster && (await ctx.api.create('daskclusters', req.namespace, jobCluster(job)))) {
      ctx.events.event(job, 'Normal', 'ClusterCreated', `created DaskCluster ${req.name}`);
    }
    if (!runner && (await ctx.api.create('pods', req.namespace, runnerPod(job, ctx.options)))) {
      ctx.events.event(job, 'Normal', 'RunnerCreated', `created runner Pod ${runnerName}`);
    }
  } catch (e) {
    if (isRejected(e)) {
      ctx.events.event(job, 'Warning', 'CreateFailed', `could not create the job's components: ${(e as Error).message}`);
      return { requeueAfter: 60_000 };
    }
    throw e;
  }
  const running = runner?.status?.phase === 'Running';
  await write({
    clusterName: req.name,
    jobRunnerPodName: runnerName,
    jobStatus: running ? 'Running' : current.jobStatus === 'Running' ? 'Running' : 'ClusterCreated',
    ...(running && !current.startTime ? { startTime: stamp(ctx.now()) } : {}),
  });
}
