/**
 * The Kueue integration of DaskJob: what Kueue's job framework does for its built-in job kinds, done by the Dask
 * operator for a DaskJob labelled kueue.x-k8s.io/queue-name (Kueue itself has no Dask integration):
 *
 *  - the job gets a Workload (owned by it) whose pod sets are the scheduler, the workers and the runner with their
 *    requests, in the labelled LocalQueue, with the priority of its kueue.x-k8s.io/priority-class;
 *  - the job is held suspended (spec.suspend) until Kueue admits the Workload, then started with the admission's
 *    node selectors and tolerations (from the admitted ResourceFlavors) on its scheduler, worker and runner Pods;
 *  - evicted (preempted, deactivated, ...), it is suspended again; once it holds no Pods, the Workload's admission is
 *    cleared (QuotaReserved=False, Requeued) so Kueue can hand the quota to another workload and requeue this one;
 *  - finished, the Workload gets Finished=True, which gives its quota back.
 *
 * Everything is level-triggered: decided from the caches on every reconcile of the job.
 */
import type { DaskCluster, DaskJob } from '../../lib/schema/generated/types';
import { admittedPlacement, ANNOTATION_POD_SETS_HASH, jobPodSets, jobWorkload, podSetsHash, workloadName } from '../../lib/render/kueue';
import { jobFinished } from '../../lib/schema/job';
import type { JobPlacement, Workload } from '../../lib/schema/kueue';
import { LABEL_KUEUE_PRIORITY_CLASS, LABEL_KUEUE_QUEUE_NAME } from '../../lib/schema/names';
import type { Condition } from '../../lib/schema/generated/types';
import type { ReconcileContext } from '../runtime/reconcile';
import { findCondition, setConditions } from './conditions';
import type { DaskContext, KueueCaches } from './context';
import { isControlledBy } from './pods';

/** What Kueue allows a queued job to do now. */
export type KueueGate =
  /** Not queued (no queue label), or the integration is off: the job follows its own spec.suspend. */
  | { readonly state: 'unqueued' }
  /** Admitted: run, placed as the admission says. */
  | { readonly state: 'admitted'; readonly placement: JobPlacement }
  /** Waiting for admission, or evicted: hold the job suspended. */
  | { readonly state: 'held'; readonly reason: string; readonly evicted?: boolean; readonly requeueAfterMs?: number };

const wlRef = (ns: string, name: string) => ({ plural: 'workloads' as const, namespace: ns, name });
const isTrue = (conds: readonly Condition[] | undefined, type: string): boolean => findCondition(conds, type)?.status === 'True';

/** The queue a job is labelled with, if any. */
export const queueOf = (job: DaskJob): string | undefined => job.metadata.labels?.[LABEL_KUEUE_QUEUE_NAME] || undefined;

/**
 * Brings the job's Workload up to date and says whether the job may run. `active`: the job still holds Pods or its
 * cluster (an evicted Workload keeps its quota until they are gone).
 */
export async function reconcileKueue(ctx: DaskContext, job: DaskJob, active: boolean, rc: ReconcileContext): Promise<KueueGate> {
  const kueue = ctx.caches.kueue;
  const queue = queueOf(job);
  if (!kueue || !queue) return { state: 'unqueued' };
  const ns = job.metadata.namespace as string;
  const name = workloadName(job);
  const wl = kueue.workloads.get(ns, name);
  const now = ctx.now();

  if (jobFinished(job.status)) {
    if (wl && !isTrue(wl.status?.conditions, 'Finished')) {
      const ok = job.status?.jobStatus === 'Successful';
      await patchWorkloadStatus(ctx, wl, { conditions: setConditions(wl.status?.conditions, [{
        type: 'Finished', status: 'True', reason: ok ? 'Succeeded' : 'Failed', message: ok ? 'the DaskJob succeeded' : `the DaskJob failed: ${failedMessage(job)}`,
      }], wl.metadata.generation, now) });
      ctx.events.event(job, 'Normal', 'WorkloadFinished', `marked Workload ${name} Finished; Kueue releases its quota`);
    }
    return { state: 'unqueued' };
  }

  if (!wl) {
    const priority = priorityOf(job, kueue);
    if (priority === 'missing') {
      const message = `WorkloadPriorityClass ${job.metadata.labels?.[LABEL_KUEUE_PRIORITY_CLASS]} (label ${LABEL_KUEUE_PRIORITY_CLASS}) does not exist; the job waits for it`;
      ctx.events.event(job, 'Warning', 'PriorityClassNotFound', message);
      return { state: 'held', reason: message, requeueAfterMs: 30_000 };
    }
    if (await ctx.api.create('workloads', ns, jobWorkload(job, priority))) {
      ctx.events.event(job, 'Normal', 'WorkloadCreated', `created Workload ${name} in LocalQueue ${queue}; the job starts when Kueue admits it`);
    }
    return { state: 'held', reason: `waiting for Kueue to admit Workload ${name}` };
  }
  if (wl.metadata.deletionTimestamp || !isControlledBy(wl, job.metadata.uid)) {
    return { state: 'held', reason: `Workload ${name} is being deleted`, requeueAfterMs: 1000 };
  }

  const conds = wl.status?.conditions;
  const reserved = isTrue(conds, 'QuotaReserved');
  const evicted = findCondition(conds, 'Evicted');
  if (evicted?.status === 'True') {
    if (reserved && !active) {
      // The job let go of everything: give the quota back and let Kueue requeue the Workload.
      const requeued = evicted.reason === 'Preempted' || evicted.reason === 'NodeFailures';
      await patchWorkloadStatus(ctx, wl, {
        admission: null,
        conditions: setConditions(conds, [
          { type: 'Requeued', status: requeued ? 'True' : 'False', reason: evicted.reason ?? 'Evicted', message: evicted.message ?? '' },
          { type: 'QuotaReserved', status: 'False', reason: 'Pending', message: evicted.message ?? 'evicted' },
          { type: 'Admitted', status: 'False', reason: 'NoReservation', message: 'The workload has no reservation' },
        ], wl.metadata.generation, now),
      });
      rc.logger.info('cleared the admission of an evicted Workload', { workload: name, reason: evicted.reason });
    }
    return { state: 'held', evicted: true, reason: `Workload ${name} was evicted (${evicted.reason}): ${evicted.message ?? ''}` };
  }

  if (isTrue(conds, 'Admitted')) {
    const { placement, missingFlavors } = admittedPlacement(wl, (f) => kueue.resourceFlavors.get('', f));
    if (missingFlavors.length > 0) {
      return { state: 'held', reason: `ResourceFlavor(s) ${missingFlavors.join(', ')} of the admission are not known yet`, requeueAfterMs: 2000 };
    }
    return { state: 'admitted', placement };
  }

  // Not admitted. A job whose pod sets changed since its Workload was made gets a new Workload, as long as no quota
  // is reserved for the old one.
  if (!reserved && wl.metadata.annotations?.[ANNOTATION_POD_SETS_HASH] !== podSetsHash(jobPodSets(job))) {
    await ctx.api.delete(wlRef(ns, name), { uid: wl.metadata.uid });
    return { state: 'held', reason: `the job changed; replacing Workload ${name}`, requeueAfterMs: 1000 };
  }
  const waiting = findCondition(conds, 'QuotaReserved');
  return { state: 'held', reason: `waiting for Kueue to admit Workload ${name}${waiting?.message ? `: ${waiting.message}` : ''}` };
}

/** Whether the job still holds anything Kueue counts against its quota. */
export function jobActive(cluster: DaskCluster | undefined, job: DaskJob, podsHeld: number): boolean {
  return podsHeld > 0 || (cluster !== undefined && isControlledBy(cluster, job.metadata.uid));
}

function priorityOf(job: DaskJob, kueue: KueueCaches): { name: string; value: number } | undefined | 'missing' {
  const name = job.metadata.labels?.[LABEL_KUEUE_PRIORITY_CLASS];
  if (!name) return undefined;
  const pc = kueue.priorityClasses.get('', name);
  return pc ? { name, value: pc.value } : 'missing';
}

function failedMessage(job: DaskJob): string {
  return findCondition(job.status?.conditions, 'Failed')?.message ?? 'jobStatus Failed';
}

/** A merge patch of the Workload's status, guarded by the resourceVersion it was computed from. */
async function patchWorkloadStatus(ctx: DaskContext, wl: Workload, status: Record<string, unknown>): Promise<void> {
  await ctx.api.patchStatus(wlRef(wl.metadata.namespace as string, wl.metadata.name as string), status, wl.metadata.resourceVersion);
}
