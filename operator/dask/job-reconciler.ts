/**
 * DaskJob → a DaskCluster named after the job and runner Pods `{job}-runner-{uid}-{attempt}`; retries
 * (spec.backoffLimit), a deadline (spec.activeDeadlineSeconds), deletion after finishing (spec.ttlSecondsAfterFinished)
 * and suspension (spec.suspend). What to do is decided by planJob (job-lifecycle.ts) from the caches; this module
 * writes the status it asks for, then makes the writes. Status keys and values are the upstream operator's plus
 * attempts, failed, launchTime, conditions and observedGeneration.
 */
import type { Request } from '../runtime/object';
import type { ReconcileContext, Result } from '../runtime/reconcile';
import { jobCluster, runnerPod } from '../../lib/render';
import type { DaskJob, Pod } from '../../lib/schema/generated/types';
import { COMPONENT_JOB_RUNNER, jobRunnerPodName, LABEL_CLUSTER, LABEL_COMPONENT } from '../../lib/schema/names';
import { isRejected } from './api';
import { updateStatus } from './status';
import type { DaskContext } from './context';
import { JobAction, JobObservation, JobPlan, planJob } from './job-lifecycle';
import { jobActive, reconcileKueue } from './kueue';
import { jobFinished } from '../../lib/schema/job';
import type { JobPlacement } from '../../lib/schema/kueue';
import { isControlledBy, isFinished } from './pods';

const ref = (j: DaskJob) => ({ plural: 'daskjobs' as const, namespace: j.metadata.namespace as string, name: j.metadata.name as string });

/** What the caches show about one job. */
export function observeJob(ctx: DaskContext, job: DaskJob): JobObservation {
  const ns = job.metadata.namespace as string;
  const name = job.metadata.name as string;
  const labelled = ctx.caches.pods.list(ns).filter((p) => p.metadata.labels?.[LABEL_CLUSTER] === name);
  return {
    job,
    cluster: ctx.caches.clusters.get(ns, name),
    runners: labelled.filter((p) => p.metadata.labels?.[LABEL_COMPONENT] === COMPONENT_JOB_RUNNER && isControlledBy(p, job.metadata.uid)),
    podsHeld: labelled.filter((p: Pod) => !isFinished(p)).length,
    now: ctx.now(),
  };
}

export async function reconcileJob(ctx: DaskContext, req: Request, rc: ReconcileContext): Promise<Result | void> {
  const job = ctx.caches.jobs.get(req.namespace, req.name);
  if (!job || job.metadata.deletionTimestamp || !job.metadata.uid) return;
  const obs = observeJob(ctx, job);
  // Kueue (docs/kueue.md): a queued job is held suspended until its Workload is admitted, as Kueue's own job
  // integrations do, and started with the admission's placement.
  const gate = await reconcileKueue(ctx, job, jobActive(obs.cluster, job, obs.podsHeld), rc);
  if (gate.state !== 'unqueued' && !jobFinished(job.status)) {
    const hold = gate.state === 'held';
    if ((job.spec?.suspend === true) !== hold) {
      await ctx.api.patch(ref(job), { spec: { suspend: hold } });
      if (gate.state === 'admitted') ctx.events.event(job, 'Normal', 'Admitted', 'Kueue admitted the job\'s Workload; starting it');
      else ctx.events.event(job, 'Normal', gate.evicted ? 'Evicted' : 'Queued', `${gate.reason}; the job is suspended`);
      return gate.state === 'held' && gate.requeueAfterMs !== undefined ? { requeueAfter: gate.requeueAfterMs } : undefined;
    }
  }
  const placement = gate.state === 'admitted' ? gate.placement : undefined;
  // The status first, guarded by the resourceVersion it was planned from (operator/dask/status.ts): a stale cache or
  // another writer gets a 409 and the plan is made again from a fresh read, so a failure is never counted twice, an
  // attempt number never re-used and nothing another client wrote is dropped.
  let planned: DaskJob = job;
  let plan: JobPlan = planJob(obs);
  if (plan.status) {
    const written = await updateStatus(ctx, ref(job), job, (current) => {
      if (current !== planned) plan = planJob({ ...obs, job: current });
      planned = current;
      return plan.status ?? {};
    });
    if (!written) return; // deleted, or replaced by a namesake, meanwhile
  }
  if (plan.status && jobFinished(plan.status) && !jobFinished(planned.status)) {
    const { startTime, endTime } = plan.status;
    ctx.metrics?.jobFinished(plan.status.jobStatus === 'Successful', startTime && endTime ? (Date.parse(endTime) - Date.parse(startTime)) / 1000 : undefined);
  }
  for (const e of plan.events) ctx.events.event(job, e.type, e.reason, e.message);
  let requeue = plan.requeueAfterMs;
  if (gate.state === 'held' && gate.requeueAfterMs !== undefined) requeue = requeue === undefined ? gate.requeueAfterMs : Math.min(requeue, gate.requeueAfterMs);
  for (const action of plan.actions) {
    const retryAfter = await act(ctx, job, action, rc, placement);
    if (retryAfter !== undefined) requeue = requeue === undefined ? retryAfter : Math.min(requeue, retryAfter);
  }
  return requeue !== undefined ? { requeueAfter: requeue } : undefined;
}

/** One write; returns a requeue delay when the API server refused it for good (an invalid spec). */
async function act(ctx: DaskContext, job: DaskJob, action: JobAction, rc: ReconcileContext, placement?: JobPlacement): Promise<number | undefined> {
  const ns = job.metadata.namespace as string;
  const name = job.metadata.name as string;
  try {
    switch (action.kind) {
      case 'createCluster':
        if (await ctx.api.create('daskclusters', ns, jobCluster(job, placement))) ctx.events.event(job, 'Normal', 'ClusterCreated', `created DaskCluster ${name}`);
        return undefined;
      case 'createRunner': {
        const pod = runnerPod(job, ctx.options, action.attempt, placement?.runner);
        if (await ctx.api.create('pods', ns, pod)) {
          ctx.events.event(job, 'Normal', 'RunnerCreated', `created runner Pod ${jobRunnerPodName(name, job.metadata.uid as string, action.attempt)} (attempt ${action.attempt})`);
        }
        return undefined;
      }
      case 'deleteCluster':
        await ctx.api.delete({ plural: 'daskclusters', namespace: ns, name }, { uid: action.uid, ...(action.foreground ? { propagationPolicy: 'Foreground' as const } : {}) });
        return undefined;
      case 'deleteRunner':
        await ctx.api.delete({ plural: 'pods', namespace: ns, name: action.name }, { uid: action.uid });
        return undefined;
      case 'deleteJob':
        await ctx.api.delete(ref(job), { uid: action.uid });
        return undefined;
    }
  } catch (e) {
    if (isRejected(e)) {
      rc.logger.warn('the API server refused a write for this job', { action: action.kind, error: (e as Error).message });
      ctx.events.event(job, 'Warning', 'CreateFailed', `could not create the job's components: ${(e as Error).message}`);
      return 60_000;
    }
    throw e;
  }
}
