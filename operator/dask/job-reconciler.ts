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
import { ConditionInput, findCondition, setConditions } from './conditions';
import { fieldsAndConditions, updateStatus } from './status';
import { isRejected } from './api';
import type { DaskContext } from './context';
import { isControlledBy } from './pods';

const ref = (j: DaskJob) => ({ plural: 'daskjobs' as const, namespace: j.metadata.namespace as string, name: j.metadata.name as string });
const stamp = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function reconcileJob(ctx: DaskContext, req: Request, _rc: ReconcileContext): Promise<Result | void> {
  const job = ctx.caches.jobs.get(req.namespace, req.name);
  if (!job || job.metadata.deletionTimestamp || !job.spec) return;
  const current: DaskJobStatus = job.status ?? {};
  /** The job as last written by this run: each status write is guarded by its resourceVersion (operator/dask/status.ts). */
  let latest: DaskJob = job;
  const write = async (s: DaskJobStatus | ((status: DaskJobStatus) => DaskJobStatus)): Promise<void> => {
    latest = (await updateStatus(ctx, ref(job), latest, (j) => (typeof s === 'function' ? s(j.status ?? {}) : s))) ?? latest;
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

  // A DaskCluster or Pod with the job's names that the job does not control is someone else's: report it and touch
  // nothing (as the cluster reconciler does for its children).
  const taken: string[] = [];
  if (cluster && !isControlledBy(cluster, job.metadata.uid)) taken.push(`DaskCluster ${req.name}`);
  if (runner && !isControlledBy(runner, job.metadata.uid)) taken.push(`Pod ${runnerName}`);
  if (taken.length > 0 && !finished) return nameTaken(ctx, latest, taken);

  if (runner && (runner.status?.phase === 'Succeeded' || runner.status?.phase === 'Failed') && isControlledBy(runner, job.metadata.uid)) {
    const ok = runner.status.phase === 'Succeeded';
    if (cluster && isControlledBy(cluster, job.metadata.uid)) {
      await ctx.api.delete({ plural: 'daskclusters', namespace: req.namespace, name: req.name }, { uid: cluster.metadata.uid });
      ctx.events.event(job, ok ? 'Normal' : 'Warning', ok ? 'JobSucceeded' : 'JobFailed', `runner Pod ${runnerName} ${ok ? 'succeeded' : 'failed'}; deleted the Dask cluster`);
    }
    if (!finished) {
      const end = current.endTime ?? stamp(ctx.now());
      ctx.metrics?.jobFinished(ok, current.startTime ? (Date.parse(end) - Date.parse(current.startTime)) / 1000 : undefined);
    }
    await write((st) => ({ jobStatus: ok ? 'Successful' : 'Failed', endTime: st.endTime ?? stamp(ctx.now()) }));
    return;
  }
  if (finished) return;
  try {
    if (!cluster) {
      if (await ctx.api.create('daskclusters', req.namespace, jobCluster(job))) ctx.events.event(job, 'Normal', 'ClusterCreated', `created DaskCluster ${req.name}`);
      else if (await foreign(ctx, job, 'daskclusters', req.name)) taken.push(`DaskCluster ${req.name}`);
    }
    if (!runner) {
      // The Pods cache holds only Pods labelled with a cluster name: a foreign Pod without the label shows up as
      // AlreadyExists here, and a live read tells it from our own Pod the cache has not seen yet.
      if (await ctx.api.create('pods', req.namespace, runnerPod(job, ctx.options))) ctx.events.event(job, 'Normal', 'RunnerCreated', `created runner Pod ${runnerName}`);
      else if (await foreign(ctx, job, 'pods', runnerName)) taken.push(`Pod ${runnerName}`);
    }
  } catch (e) {
    if (isRejected(e)) {
      ctx.events.event(job, 'Warning', 'CreateFailed', `could not create the job's components: ${(e as Error).message}`);
      return { requeueAfter: 60_000 };
    }
    throw e;
  }
  if (taken.length > 0) return nameTaken(ctx, latest, taken);
  const running = runner?.status?.phase === 'Running';
  await write((st) => ({
    clusterName: req.name,
    jobRunnerPodName: runnerName,
    jobStatus: running ? 'Running' : st.jobStatus === 'Running' ? 'Running' : 'ClusterCreated',
    ...(running && !st.startTime ? { startTime: stamp(ctx.now()) } : {}),
    ...(findCondition(st.conditions, 'ComponentsHealthy')?.status === 'False'
      ? { conditions: setConditions(st.conditions, [{ type: 'ComponentsHealthy', status: 'True', reason: 'Reconciled', message: 'the job controls its DaskCluster and runner Pod' }], job.metadata.generation, ctx.now()) }
      : {}),
  }));
}

/** True when `plural/name` exists on the server and is not controlled by the job. */
async function foreign(ctx: DaskContext, job: DaskJob, plural: 'daskclusters' | 'pods', name: string): Promise<boolean> {
  const live = await ctx.api.get({ plural, namespace: job.metadata.namespace as string, name });
  return live !== undefined && !isControlledBy(live, job.metadata.uid);
}

/** Condition ComponentsHealthy=False NameTaken and (once per transition) a Warning Event; nothing is created or deleted. */
async function nameTaken(ctx: DaskContext, job: DaskJob, taken: string[]): Promise<Result> {
  const message = `${taken.join(' and ')} exist${taken.length === 1 ? 's' : ''} but ${taken.length === 1 ? 'is' : 'are'} not controlled by this DaskJob; the operator leaves ${taken.length === 1 ? 'it' : 'them'} alone. Delete or rename ${taken.length === 1 ? 'it' : 'them'}, or rename the job.`;
  const input: ConditionInput = { type: 'ComponentsHealthy', status: 'False', reason: 'NameTaken', message };
  if (findCondition(job.status?.conditions, 'ComponentsHealthy')?.reason !== 'NameTaken') ctx.events.event(job, 'Warning', 'NameTaken', message);
  await updateStatus(ctx, ref(job), job, fieldsAndConditions({}, [input], job.metadata.generation, ctx.now()));
  return { requeueAfter: 30_000 };
}
