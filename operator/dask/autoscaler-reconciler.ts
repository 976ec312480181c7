/**
 * DaskAutoscaler: every period, ask the scheduler for its adaptive target and set the default worker group's
 * replicas within [minimum, maximum], scaling down at most 25% per step, with a 15 s cooldown after each change
 * (the upstream operator's rules; the cooldown lives in the kubernetes.dask.org/cooldown-until annotation).
 */
import type { Request } from '../runtime/object';
import type { ReconcileContext, Result } from '../runtime/reconcile';
import { controllerReference } from '../../lib/render/metadata';
import type { DaskAutoscaler } from '../../lib/schema/generated/types';
import { ANNOTATION_COOLDOWN_UNTIL, defaultWorkerGroupName, schedulerName } from '../../lib/schema/names';
import { ConditionInput } from './conditions';
import { fieldsAndConditions, updateStatus } from './status';
import type { DaskContext } from './context';
import { isReady } from './pods';

export const COOLDOWN_SECONDS = 15;
const ref = (a: DaskAutoscaler) => ({ plural: 'daskautoscalers' as const, namespace: a.metadata.namespace as string, name: a.metadata.name as string });

/** The upstream operator's target: clamp, then limit a scale-down step to 25% of the current count (at least 1). */
export function nextReplicas(current: number, target: number, minimum: number, maximum: number): number {
  let desired = Math.min(maximum, Math.max(minimum, target));
  if (current > 0 && desired < current) desired = Math.max(current - Math.max(1, Math.floor(current * 0.25)), desired);
  return desired;
}

export async function reconcileAutoscaler(ctx: DaskContext, req: Request, rc: ReconcileContext): Promise<Result | void> {
  const scaler = ctx.caches.autoscalers.get(req.namespace, req.name);
  if (!scaler || scaler.metadata.deletionTimestamp || !scaler.spec) return;
  const now = ctx.now();
  const gen = scaler.metadata.generation;
  const period = { requeueAfter: ctx.options.autoscalerPeriodMs };
  /** The autoscaler as last written by this run (its status write is guarded by this resourceVersion). */
  let latest: DaskAutoscaler = scaler;
  const status = async (conds: ConditionInput[], extra: Record<string, unknown> = {}): Promise<void> => {
    await updateStatus(ctx, ref(scaler), latest, fieldsAndConditions({ observedGeneration: gen, ...extra }, conds, gen, now));
  };
  const patchScaler = async (patch: object): Promise<void> => {
    latest = ((await ctx.api.patch(ref(scaler), patch)) as DaskAutoscaler | undefined) ?? latest;
  };
  const { cluster: clusterName, minimum, maximum } = scaler.spec;
  const cluster = ctx.caches.clusters.get(req.namespace, clusterName);
  if (!cluster) {
    const message = `DaskCluster ${clusterName} does not exist in namespace ${req.namespace}; autoscaling starts when it does`;
    if (scaler.status?.conditions?.find((c) => c.type === 'ClusterFound')?.status !== 'False') ctx.events.event(scaler, 'Warning', 'ClusterNotFound', message);
    await status([{ type: 'ClusterFound', status: 'False', reason: 'ClusterNotFound', message }, { type: 'ScalingActive', status: 'False', reason: 'ClusterNotFound', message }]);
    return;
  }
  if (!(scaler.metadata.ownerReferences ?? []).some((r) => r.controller)) {
    await patchScaler({ metadata: { resourceVersion: scaler.metadata.resourceVersion, ownerReferences: [...(scaler.metadata.ownerReferences ?? []), controllerReference(cluster)] } });
  }
  const found: ConditionInput = { type: 'ClusterFound', status: 'True', reason: 'ClusterFound', message: `autoscaling DaskCluster ${clusterName}` };
  const schedulerPod = ctx.caches.pods.get(req.namespace, schedulerName(clusterName));
  const group = ctx.caches.workerGroups.get(req.namespace, defaultWorkerGroupName(clusterName));
  if (!schedulerPod || !isReady(schedulerPod) || !group?.spec) {
    await status([found, { type: 'ScalingActive', status: 'False', reason: 'SchedulerNotReady', message: 'waiting for the scheduler Pod and the default worker group' }]);
    return period;
  }
  const cooldown = Number(scaler.metadata.annotations?.[ANNOTATION_COOLDOWN_UNTIL] ?? '0');
  if (cooldown * 1000 > now.getTime()) return { requeueAfter: Math.max(100, cooldown * 1000 - now.getTime()) };
  const client = ctx.schedulerClient(cluster);
  let target: number;
  try {
    if (!client) throw new Error('the scheduler cannot be reached from the operator');
    target = await client.adaptiveTarget();
  } catch (e) {
    const message = `could not read the scheduler's adaptive target: ${(e as Error).message}`;
    if (scaler.status?.conditions?.find((c) => c.type === 'ScalingActive')?.reason !== 'SchedulerUnreachable') ctx.events.event(scaler, 'Warning', 'SchedulerUnreachable', message);
    await status([found, { type: 'ScalingActive', status: 'False', reason: 'SchedulerUnreachable', message }]);
    return period;
  }
  const current = group.spec.worker.replicas ?? 1;
  // A cluster scaled to zero for idleness stays there until work arrives: its minimum counts from then on.
  const idle = cluster.status?.conditions?.find((c) => c.type === 'Idle')?.status === 'True';
  const desired = nextReplicas(current, target, idle ? 0 : minimum, maximum);
  if (desired !== current) {
    // Guarded: replicas computed from a stale copy of the group must not overwrite a newer change (409 → retried).
    await ctx.api.patch({ plural: 'daskworkergroups', namespace: req.namespace, name: group.metadata.name as string }, { metadata: { resourceVersion: group.metadata.resourceVersion }, spec: { worker: { replicas: desired } } });
    await patchScaler({ metadata: { annotations: { [ANNOTATION_COOLDOWN_UNTIL]: String(now.getTime() / 1000 + COOLDOWN_SECONDS) } } });
    ctx.events.event(scaler, 'Normal', 'Scaled', `scheduler wants ${target} workers; scaled ${group.metadata.name} from ${current} to ${desired} (bounds ${minimum}..${maximum})`);
    rc.logger.info('autoscaled', { group: group.metadata.name, from: current, to: desired, target });
    await status([found, { type: 'ScalingActive', status: 'True', reason: 'Scaled', message: `scaled from ${current} to ${desired}` }], { desiredWorkers: desired, lastScaleTime: now.toISOString().replace(/\.\d{3}Z$/, 'Z') });
  } else {
    await status([found, { type: 'ScalingActive', status: 'True', reason: 'Steady', message: `scheduler target ${target}; keeping ${current} workers` }], { desiredWorkers: desired });
  }
  return period;
}
