/**
 * The DaskJob lifecycle as a pure function: what the caches show (the job, its cluster, its runner Pods) and the time
 * go in; the status to write, the Events to emit and the writes to make come out. The reconciler (job-reconciler.ts)
 * writes the status first and only then acts, so every step can be repeated after any failed write: a terminal status
 * is recorded before the cluster is deleted (dask/dask-kubernetes#975 deleted first and stayed Running forever when the
 * status write that followed was refused), and a new attempt's number is recorded before its Pod is created.
 *
 *   created ──▶ JobCreated ──▶ ClusterCreated ──▶ Running ──▶ Successful   (Complete=True)
 *      │            ▲  cluster + runner exist   runner runs  │  └─▶ Failed (Failed=True: BackoffLimitExceeded, DeadlineExceeded)
 *      │            │                                        └── runner failed, retries left: next attempt, same cluster
 *      └─ suspend ──┴── resume: a new cluster and a new attempt (Suspended=True while suspended)
 */
import type { Condition, DaskCluster, DaskJob, DaskJobStatus, Pod } from '../../lib/schema/generated/types';
import type { DaskJobFailureReason, DaskJobPhase } from '../../lib/schema/job';
import { jobFinished } from '../../lib/schema/job';
import { clusterNameProblem, jobRunnerPodName } from '../../lib/schema/names';
import type { EventType } from '../runtime/events';
import { ConditionInput, findCondition, jsonEqual, setConditions } from './conditions';
import { isControlledBy, isFinished, isTerminating } from './pods';

/** What the reconciler observed, from the caches. */
export interface JobObservation {
  readonly job: DaskJob;
  /** The DaskCluster named after the job, if any (ours or not). */
  readonly cluster?: DaskCluster;
  /** Runner Pods controlled by this job (any attempt). */
  readonly runners: readonly Pod[];
  /** Pods labelled with the job's cluster name that have not finished (scheduler, workers, runners). */
  readonly podsHeld: number;
  readonly now: Date;
}

export type JobAction =
  | { readonly kind: 'createCluster' }
  | { readonly kind: 'createRunner'; readonly attempt: number }
  /** `foreground`: the cluster stays (deleting) until its Pods are gone, so a resume never meets them. */
  | { readonly kind: 'deleteCluster'; readonly uid: string; readonly foreground: boolean }
  | { readonly kind: 'deleteRunner'; readonly name: string; readonly uid: string }
  | { readonly kind: 'deleteJob'; readonly uid: string };

export interface JobEvent {
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
}

export interface JobPlan {
  /** The whole new status, or undefined when it does not change. Written before any action. */
  readonly status?: DaskJobStatus;
  readonly events: readonly JobEvent[];
  readonly actions: readonly JobAction[];
  readonly requeueAfterMs?: number;
}

const stamp = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const isTrue = (conds: readonly Condition[] | undefined, type: string): boolean => findCondition(conds, type)?.status === 'True';

/** Container restarts of a Pod (what restartPolicy OnFailure does instead of failing the Pod). */
export function restartsOf(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

/** "exit code 1 (Error)" for the first terminated container, else the Pod's reason/message. */
function failureText(pod: Pod): string {
  for (const c of pod.status?.containerStatuses ?? []) {
    const t = c.state?.terminated ?? c.lastState?.terminated;
    if (t) return `container ${c.name} exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}`;
  }
  return pod.status?.reason ? `${pod.status.reason}${pod.status.message ? `: ${pod.status.message}` : ''}` : 'Pod phase Failed';
}

/** The plan for one reconcile of a DaskJob. */
export function planJob(obs: JobObservation): JobPlan {
  const { job, cluster, now } = obs;
  const name = job.metadata.name as string;
  const uid = job.metadata.uid as string;
  const spec = job.spec;
  const current: DaskJobStatus = job.status ?? {};
  const generation = job.metadata.generation;
  const events: JobEvent[] = [];
  const actions: JobAction[] = [];
  const conds: ConditionInput[] = [];
  const next: DaskJobStatus = { ...current };
  let requeueAfterMs: number | undefined;
  const requeue = (ms: number): void => {
    requeueAfterMs = requeueAfterMs === undefined ? ms : Math.min(requeueAfterMs, ms);
  };
  const finish = (): JobPlan => {
    if (generation !== undefined) next.observedGeneration = generation;
    next.conditions = setConditions(current.conditions, conds, generation, now);
    const status = jsonEqual(current, next) ? undefined : next;
    return { status, events, actions, ...(requeueAfterMs !== undefined ? { requeueAfterMs: Math.max(0, requeueAfterMs) } : {}) };
  };

  const ourCluster = cluster && isControlledBy(cluster, uid) ? cluster : undefined;
  const activeRunners = obs.runners.filter((p) => !isFinished(p) && !isTerminating(p));
  const cleanUp = (foreground: boolean): void => {
    for (const p of activeRunners) actions.push({ kind: 'deleteRunner', name: p.metadata.name as string, uid: p.metadata.uid as string });
    if (ourCluster && !ourCluster.metadata.deletionTimestamp) actions.push({ kind: 'deleteCluster', uid: ourCluster.metadata.uid as string, foreground });
  };
  const fail = (reason: DaskJobFailureReason, message: string, eventReason: string): JobPlan => {
    next.jobStatus = 'Failed' satisfies DaskJobPhase;
    next.endTime = current.endTime ?? stamp(now);
    conds.push({ type: 'Failed', status: 'True', reason, message });
    events.push({ type: 'Warning', reason: eventReason, message: `${message}; deleting the Dask cluster` });
    cleanUp(false);
    return finish();
  };

  const problem = clusterNameProblem(name);
  if (problem) {
    if (current.jobStatus !== 'Failed') events.push({ type: 'Warning', reason: 'InvalidName', message: `DaskJob name ${problem}` });
    next.jobStatus = 'Failed';
    conds.push({ type: 'Failed', status: 'True', reason: 'InvalidName', message: `DaskJob name ${problem}` });
    return finish();
  }
  if (!spec) return finish();

  // Finished: keep it that way. Anything still running goes (level-triggered cleanup), then the TTL.
  if (jobFinished(current)) {
    if (current.jobStatus === 'Successful' && !isTrue(current.conditions, 'Complete')) {
      conds.push({ type: 'Complete', status: 'True', reason: 'RunnerSucceeded', message: `runner Pod ${current.jobRunnerPodName ?? ''} succeeded` });
    }
    if (current.jobStatus === 'Failed' && !findCondition(current.conditions, 'Failed')) {
      conds.push({ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: `runner Pod ${current.jobRunnerPodName ?? ''} failed` });
    }
    cleanUp(false);
    const ttl = spec.ttlSecondsAfterFinished;
    if (ttl !== undefined) {
      const end = current.endTime ? Date.parse(current.endTime) : now.getTime();
      if (!current.endTime) next.endTime = stamp(now);
      const due = end + ttl * 1000;
      if (now.getTime() >= due) {
        events.push({ type: 'Normal', reason: 'TTLExpired', message: `finished ${ttl}s ago (ttlSecondsAfterFinished); deleting the DaskJob` });
        actions.push({ kind: 'deleteJob', uid });
      } else {
        requeue(due - now.getTime());
      }
    }
    return finish();
  }

  const wasSuspended = isTrue(current.conditions, 'Suspended');
  if (spec.suspend === true) {
    const held = activeRunners.length > 0 || (ourCluster !== undefined && !ourCluster.metadata.deletionTimestamp);
    cleanUp(true);
    if (!wasSuspended) {
      const what = [
        ...activeRunners.map((p) => `runner Pod ${p.metadata.name}`),
        ...(ourCluster && !ourCluster.metadata.deletionTimestamp ? [`DaskCluster ${name}`] : []),
      ];
      events.push({
        type: 'Normal',
        reason: 'Suspended',
        message: held
          ? `suspended: deleted ${what.join(' and ')}; resuming starts a new cluster and a new runner attempt`
          : 'suspended: nothing is created until spec.suspend is false',
      });
    }
    next.jobStatus = 'JobCreated' satisfies DaskJobPhase;
    conds.push({
      type: 'Suspended',
      status: 'True',
      reason: 'JobSuspended',
      message: obs.podsHeld > 0 ? `${obs.podsHeld} Pod(s) still terminating` : 'the job holds no Pods',
    });
    return finish();
  }

  // Active. A resume starts afresh: a new launch time, no start time, and a new attempt (recorded now, created once
  // the old cluster is gone) on a new cluster.
  const recorded = current.attempts ?? (current.jobRunnerPodName ? 1 : 0);
  const recordAttempt = (n: number): void => {
    next.attempts = n;
    next.jobRunnerPodName = jobRunnerPodName(name, uid, n);
  };
  if (wasSuspended) {
    conds.push({ type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'resumed: a new cluster and a new runner attempt' });
    events.push({ type: 'Normal', reason: 'Resumed', message: 'resumed: creating a new cluster and a new runner attempt' });
    next.launchTime = stamp(now);
    next.startTime = null;
    next.jobStatus = 'JobCreated';
    recordAttempt(recorded + 1);
  } else if (!current.launchTime) {
    next.launchTime = job.metadata.creationTimestamp ?? stamp(now);
  }
  if (recorded === 0 && !wasSuspended) {
    recordAttempt(1);
    if (current.jobStatus === undefined) next.jobStatus = 'JobCreated';
  }

  const deadline = spec.activeDeadlineSeconds;
  if (deadline !== undefined) {
    const due = Date.parse(next.launchTime as string) + deadline * 1000;
    if (now.getTime() >= due) {
      return fail('DeadlineExceeded', `the job was active longer than activeDeadlineSeconds (${deadline}s)`, 'DeadlineExceeded');
    }
    requeue(due - now.getTime());
  }

  // The cluster: ours, or being removed (a resume right after a suspend waits for the old one to go).
  if (cluster && !ourCluster) {
    if (cluster.metadata.deletionTimestamp) {
      requeue(1000);
      return finish();
    }
    const message = `DaskCluster ${name} exists but is not controlled by this DaskJob; the operator leaves it alone. Delete or rename it to let the job create its own.`;
    if (findCondition(current.conditions, 'ComponentsHealthy')?.reason !== 'NameTaken') events.push({ type: 'Warning', reason: 'NameTaken', message });
    conds.push({ type: 'ComponentsHealthy', status: 'False', reason: 'NameTaken', message });
    requeue(30_000);
    return finish();
  }
  if (ourCluster?.metadata.deletionTimestamp) {
    requeue(1000);
    return finish();
  }
  if (findCondition(current.conditions, 'ComponentsHealthy')?.status === 'False') {
    conds.push({ type: 'ComponentsHealthy', status: 'True', reason: 'Reconciled', message: 'the job\'s cluster is its own' });
  }
  if (!ourCluster) actions.push({ kind: 'createCluster' });
  next.clusterName = name;

  // The runner. `attempts` records how many runner Pods were started; jobs of the upstream operator (or of an
  // operator before attempts existed) name one runner and count as attempt 1.
  const attempts = next.attempts ?? recorded;
  if (next.attempts === undefined) next.attempts = attempts;
  const runnerName = next.jobRunnerPodName as string;
  const runner = obs.runners.find((p) => p.metadata.name === runnerName);
  if (!runner) {
    // Not created yet (just recorded, a create failed, or the cache lags), or deleted under us: create it.
    actions.push({ kind: 'createRunner', attempt: attempts });
    return finish();
  }
  const phase = runner.status?.phase;
  const limit = spec.backoffLimit;
  const failedBefore = current.failed ?? 0;
  const restarts = limit !== undefined && phase !== 'Failed' ? restartsOf(runner) : 0;
  if (phase === 'Succeeded') {
    next.jobStatus = 'Successful';
    next.endTime = current.endTime ?? stamp(now);
    if (!current.startTime) next.startTime = runner.status?.startTime ?? stamp(now);
    conds.push({ type: 'Complete', status: 'True', reason: 'RunnerSucceeded', message: `runner Pod ${runnerName} succeeded (attempt ${attempts})` });
    events.push({ type: 'Normal', reason: 'JobSucceeded', message: `runner Pod ${runnerName} succeeded; deleting the Dask cluster` });
    cleanUp(false);
    return finish();
  }
  if (phase === 'Failed' || (limit !== undefined && failedBefore + restarts > limit)) {
    const failed = phase === 'Failed' ? failedBefore + 1 : failedBefore + restarts;
    const why = phase === 'Failed' ? failureText(runner) : `its container restarted ${restarts} time(s)`;
    const allowed = limit ?? 0;
    next.failed = failed;
    if (failed > allowed) {
      return fail('BackoffLimitExceeded', `runner Pod ${runnerName} failed: ${why}; ${failed} failure(s), backoffLimit ${allowed}`, 'JobFailed');
    }
    events.push({ type: 'Warning', reason: 'RunnerFailed', message: `runner Pod ${runnerName} failed: ${why}; retrying as attempt ${attempts + 1} (${failed} of at most ${allowed} retries used)` });
    recordAttempt(attempts + 1);
    actions.push({ kind: 'createRunner', attempt: attempts + 1 });
    return finish();
  }
  if (phase === 'Running') {
    next.jobStatus = 'Running';
    if (!current.startTime) next.startTime = stamp(now);
  } else if (current.jobStatus !== 'Running') {
    next.jobStatus = ourCluster ? 'ClusterCreated' : 'JobCreated';
  }
  return finish();
}
