/**
 * DaskWorkerGroup → worker Pods `{group}-worker-{10 hex}`, created directly by the operator.
 *
 * Each run: adopt the group into its cluster; drop finished Pods (self-healing); count live Pods, including
 * creations and deletions the cache does not show yet (expectations); then
 *  - too few: create fresh Pods in bounded parallel batches;
 *  - too many: remove Pending Pods first (newest first), then retire running workers through the Dask scheduler
 *    (their data moves to other workers) and delete exactly the retired Pods; if the scheduler cannot be asked,
 *    fall back per --scale-down-fallback and say so in a condition and a Warning Event;
 *  - template changed: Pods whose template hash is stale count as surplus, so fresh ones are created (at most 25%
 *    extra at a time) and stale ones are retired.
 */
import type { Request } from '../runtime/object';
import type { ReconcileContext, Result } from '../runtime/reconcile';
import { newWorkerName, workerPod, workerSelector, workerTemplateHash, ANNOTATION_TEMPLATE_HASH } from '../../lib/render';
import { controllerReference } from '../../lib/render/metadata';
import type { DaskCluster, DaskWorkerGroup, Pod } from '../../lib/schema/generated/types';
import { keyOf } from '../runtime/object';
import { statusCodeOf } from '../runtime/kube-errors';
import { ConditionInput } from './conditions';
import { fieldsAndConditions, updateStatus } from './status';
import { ContainerFailure, containerFailure } from './container-failures';
import { isRejected } from './api';
import type { DaskContext } from './context';
import { forEachLimit } from './parallel';
import { daskWorkerName, isControlledBy, isFinished, isReady, isRunning, isTerminating, newestFirst } from './pods';

const groupRef = (g: DaskWorkerGroup) => ({ plural: 'daskworkergroups' as const, namespace: g.metadata.namespace as string, name: g.metadata.name as string });

export async function reconcileWorkerGroup(ctx: DaskContext, req: Request, rc: ReconcileContext): Promise<Result | void> {
  const group = ctx.caches.workerGroups.get(req.namespace, req.name);
  if (!group || group.metadata.deletionTimestamp) {
    // Expectations belong to one incarnation of the group (its uid): a group recreated under the same name starts
    // with none. A group already gone is swept from the expectations once its entries expire.
    if (group?.metadata.uid) ctx.expectations.forget(group.metadata.uid);
    return;
  }
  const key = group.metadata.uid ?? keyOf(req);
  const now = ctx.now();
  const generation = group.metadata.generation;
  const conditions: ConditionInput[] = [];
  const clusterName = group.spec?.cluster;
  const cluster = clusterName ? ctx.caches.clusters.get(req.namespace, clusterName) : undefined;

  if (!group.spec?.worker?.spec || !clusterName) {
    const message = 'spec.cluster and spec.worker.spec are required; nothing was created';
    ctx.events.event(group, 'Warning', 'InvalidSpec', message);
    await writeStatus(ctx, group, { observedGeneration: generation }, [{ type: 'Ready', status: 'False', reason: 'InvalidSpec', message }], now);
    return;
  }
  if (!cluster || cluster.metadata.deletionTimestamp) {
    const message = `DaskCluster ${clusterName} does not exist in namespace ${req.namespace}; the workers will be created when it does`;
    if (group.status?.conditions?.find((c) => c.type === 'ClusterFound')?.status !== 'False') {
      ctx.events.event(group, 'Warning', 'ClusterNotFound', message);
    }
    await writeStatus(ctx, group, { observedGeneration: generation }, [
      { type: 'ClusterFound', status: 'False', reason: 'ClusterNotFound', message },
      { type: 'Ready', status: 'False', reason: 'ClusterNotFound', message },
    ], now);
    return;
  }
  conditions.push({ type: 'ClusterFound', status: 'True', reason: 'ClusterFound', message: `attached to DaskCluster ${clusterName}` });

  // Adopt: the group belongs to its cluster, so deleting the cluster removes it (upstream does the same).
  const owner = (group.metadata.ownerReferences ?? []).find((r) => r.controller);
  /** The group as last written by this run (the status write is guarded by its resourceVersion). */
  let latest = group;
  if (!owner) {
    // Guarded: an adoption on a stale copy must not overwrite ownerReferences someone else just set.
    const adoption = { metadata: { resourceVersion: group.metadata.resourceVersion, ownerReferences: [...(group.metadata.ownerReferences ?? []), controllerReference(cluster)] } };
    latest = ((await ctx.api.patch(groupRef(group), adoption)) as DaskWorkerGroup | undefined) ?? group;
  } else if (owner.uid !== cluster.metadata.uid) {
    conditions.push({ type: 'Adopted', status: 'False', reason: 'OwnedByAnother', message: `controlled by ${owner.kind} ${owner.name}, not by DaskCluster ${clusterName}` });
  }

  const uid = group.metadata.uid;
  const cached = ctx.caches.pods.list(req.namespace).filter((p) => isControlledBy(p, uid));
  // Self-healing: finished worker Pods (the container exited, or the node lost them) are removed and replaced.
  const finished = cached.filter((p) => isFinished(p) && !isTerminating(p));
  await deletePods(ctx, key, finished, 0);
  ctx.metrics?.workersDeleted('finished', finished.length);
  if (finished.length > 0) ctx.events.event(group, 'Normal', 'WorkersReplaced', `removed ${finished.length} finished worker Pod(s) (${finished.map((p) => p.metadata.name).join(', ')}); replacing them`);

  const byName = new Map(cached.map((p) => [p.metadata.name as string, p]));
  const pendingDeletes = new Set(ctx.expectations.pendingDeletes(key, (n) => { const p = byName.get(n); return p !== undefined && !isTerminating(p); }));
  const live = cached.filter((p) => !isTerminating(p) && !isFinished(p) && !pendingDeletes.has(p.metadata.name as string));
  const pendingCreates = ctx.expectations.pendingCreates(key, (n) => byName.has(n));
  const hash = workerTemplateHash(group);
  const fresh = live.filter((p) => p.metadata.annotations?.[ANNOTATION_TEMPLATE_HASH] === hash);
  const stale = live.filter((p) => p.metadata.annotations?.[ANNOTATION_TEMPLATE_HASH] !== hash);
  const desired = Math.max(0, group.spec.worker.replicas ?? 1);
  const liveCount = live.length + pendingCreates.length;
  const freshCount = fresh.length + pendingCreates.length;

  let requeue: number | undefined;
  // Scale up / roll out: create fresh Pods, bounded by the batch size and (during a rollout) a 25% surge.
  const surge = stale.length > 0 ? Math.max(1, Math.floor(desired / 4)) : 0;
  const toCreate = Math.max(0, Math.min(desired - freshCount, desired + surge - liveCount));
  if (toCreate > 0) {
    const batch = Math.min(toCreate, ctx.options.createBatchSize);
    const failed = await createWorkers(ctx, group, cluster, batch, key, conditions);
    if (batch < toCreate && !failed) requeue = 0;
    if (failed) requeue = 30_000;
  }

  // Scale down: stale Pods once replaced, then surplus Pending Pods, then running workers (gracefully).
  const removals = computeRemovals(fresh, stale, desired, pendingCreates.length);
  if (removals.pending.length + removals.running.length + removals.chooseCount > 0) {
    const r = await scaleDown(ctx, group, cluster, removals, key, conditions, rc);
    if (r !== undefined) requeue = requeue === undefined ? r : Math.min(requeue, r);
  }

  const readyCount = live.filter(isReady).length;
  const failures = live.map(containerFailure).filter((f): f is ContainerFailure => f !== undefined);
  const failed = failures.length > 0
    ? `${failures.length} of ${live.length} worker Pod(s) cannot start: ${failures[0].message}`
    : undefined;
  const prevHealthy = group.status?.conditions?.find((c) => c.type === 'ContainersHealthy');
  if (failed && (prevHealthy?.status !== 'False' || prevHealthy.reason !== failures[0].reason)) {
    ctx.events.event(group, 'Warning', 'WorkerFailed', failed);
  }
  conditions.push(
    failed
      ? { type: 'ContainersHealthy', status: 'False', reason: failures[0].reason, message: failed }
      : { type: 'ContainersHealthy', status: 'True', reason: 'NoFailures', message: 'no worker container is failing to start' },
    readyCount >= desired && stale.length === 0
      ? { type: 'Ready', status: 'True', reason: 'WorkersReady', message: `${readyCount}/${desired} workers Ready` }
      : failed
        ? { type: 'Ready', status: 'False', reason: 'WorkersFailed', message: `${readyCount}/${desired} workers Ready; ${failed}` }
        : { type: 'Ready', status: 'False', reason: stale.length > 0 ? 'RollingOut' : 'WorkersNotReady', message: `${readyCount}/${desired} workers Ready${stale.length > 0 ? `, ${stale.length} on an old template being replaced` : ''}` },
  );
  await writeStatus(ctx, latest, {
    observedGeneration: generation,
    replicas: liveCount,
    readyReplicas: readyCount,
    selector: workerSelector(req.name),
  }, conditions, now);
  return requeue !== undefined ? { requeueAfter: requeue } : undefined;
}

interface Removals {
  /** Pods to remove without asking the scheduler (not running a worker yet). */
  readonly pending: Pod[];
  /** Running workers to retire through the scheduler, or their count when the scheduler chooses. */
  readonly running: Pod[];
  /** How many running workers must go when the scheduler may choose among `choosable`. */
  readonly chooseCount: number;
  readonly choosable: Pod[];
}

/**
 * Which Pods must go. Stale (old-template) Pods that are not running go at once; running stale ones go as fresh ones
 * start running, so at least `desired` workers keep running during a rollout. Surplus fresh Pods go Pending ones
 * first (newest first); the rest are chosen by the scheduler among running fresh workers.
 */
export function computeRemovals(fresh: Pod[], stale: Pod[], desired: number, inFlight: number): Removals {
  const staleRunning = stale.filter(isRunning).sort(newestFirst);
  const freshRunning = fresh.filter(isRunning);
  const retireStale = staleRunning.slice(0, Math.max(0, Math.min(staleRunning.length, freshRunning.length + staleRunning.length - desired)));
  // Stale Pods still running do not make fresh ones surplus: the fresh ones are their replacements.
  const surplus = Math.max(0, fresh.length + inFlight - desired);
  const freshPending = fresh.filter((p) => !isRunning(p)).sort(newestFirst);
  const pendingToRemove = freshPending.slice(0, surplus);
  return {
    pending: [...stale.filter((p) => !isRunning(p)), ...pendingToRemove],
    running: retireStale,
    chooseCount: Math.min(freshRunning.length, surplus - pendingToRemove.length),
    choosable: freshRunning,
  };
}

async function createWorkers(ctx: DaskContext, group: DaskWorkerGroup, cluster: DaskCluster, n: number, key: string, conditions: ConditionInput[]): Promise<boolean> {
  const ns = group.metadata.namespace as string;
  const names = Array.from({ length: n }, () => newWorkerName(group.metadata.name as string));
  let failure: Error | undefined;
  await forEachLimit(names, ctx.options.createParallelism, async (name) => {
    ctx.expectations.expectCreate(key, name);
    try {
      await ctx.api.create('pods', ns, workerPod(group, cluster, name, ctx.options));
    } catch (e) {
      if (isRejected(e)) {
        ctx.expectations.dropCreate(key, name);
        failure = e as Error;
        return;
      }
      // Anything but a refusal before processing (429) may have created the Pod with the answer lost on the way back
      // (a 5xx, a cut connection): ask before counting it as missing, or the next run creates a duplicate.
      if (statusCodeOf(e) === 429 || !(await existsLive(ctx, ns, name))) ctx.expectations.dropCreate(key, name);
      throw e;
    }
  }, () => failure !== undefined);
  if (failure) {
    const message = `the API server rejected worker Pod creation: ${failure.message}. Fix spec.worker.spec of DaskWorkerGroup ${group.metadata.name}.`;
    ctx.events.event(group, 'Warning', 'CreateFailed', message);
    conditions.push({ type: 'PodsCreated', status: 'False', reason: 'CreateFailed', message });
    return true;
  }
  ctx.events.event(group, 'Normal', 'WorkersCreated', `created ${n} worker Pod(s)`);
  conditions.push({ type: 'PodsCreated', status: 'True', reason: 'Created', message: `created ${n} worker Pod(s)` });
  return false;
}

/** Whether the API server has the Pod (a live read; a failed read counts as no, so the Pod is created again). */
async function existsLive(ctx: DaskContext, namespace: string, name: string): Promise<boolean> {
  try {
    return (await ctx.api.get({ plural: 'pods', namespace, name })) !== undefined;
  } catch {
    return false;
  }
}

async function deletePods(ctx: DaskContext, key: string, pods: Pod[], gracePeriodSeconds?: number): Promise<void> {
  await forEachLimit(pods, ctx.options.createParallelism, async (p) => {
    const name = p.metadata.name as string;
    ctx.expectations.expectDelete(key, name);
    try {
      await ctx.api.delete({ plural: 'pods', namespace: p.metadata.namespace as string, name }, { uid: p.metadata.uid, gracePeriodSeconds });
    } catch (e) {
      // Not known to be deleted (refused, or the answer was lost): the Pod counts as live again, so the next run
      // deletes it (again) instead of waiting for the expectation to expire with the group one worker too large.
      ctx.expectations.dropDelete(key, name);
      throw e;
    }
  });
}

/** Removes Pending Pods, then retires running workers gracefully; returns a requeue delay when work remains. */
async function scaleDown(ctx: DaskContext, group: DaskWorkerGroup, cluster: DaskCluster, r: Removals, key: string, conditions: ConditionInput[], rc: ReconcileContext): Promise<number | undefined> {
  const groupName = group.metadata.name as string;
  if (r.pending.length > 0) {
    await deletePods(ctx, key, r.pending);
    ctx.metrics?.workersDeleted('not_running', r.pending.length);
    rc.logger.info('removed worker Pods that were not running yet', { pods: r.pending.map((p) => p.metadata.name) });
  }
  const named = r.running;
  const count = r.chooseCount;
  if (named.length === 0 && count === 0) {
    conditions.push({ type: 'ScaledDownGracefully', status: 'True', reason: 'PendingRemoved', message: `removed ${r.pending.length} Pending worker Pod(s)` });
    ctx.metrics?.scaleDown('pending_removed');
    return undefined;
  }
  const client = ctx.schedulerClient(cluster);
  const needed = named.length + count;
  /** Pods already deleted in this run (retired, or never connected to the scheduler). */
  const removed: Pod[] = [];
  /** The Pods picked for removal, in order (the fallback deletes these first). */
  let chosen: Pod[] = [];
  let failure: string | undefined;
  if (client) {
    try {
      const candidates = [...named, ...r.choosable.filter((p) => !named.includes(p))];
      const byWorkerName = new Map(candidates.map((p) => [daskWorkerName(p), p]));
      const byIp = new Map(candidates.filter((p) => p.status?.podIP).map((p) => [p.status?.podIP as string, p]));
      // Who the scheduler knows before anything is retired: a requested worker it never knew holds no data.
      const known = new Set((await client.workers()).map((w) => w.name));
      let names: string[] = named.map(daskWorkerName);
      if (count > 0) {
        const choosable = new Set(r.choosable.map(daskWorkerName));
        let suggested: string[] = [];
        try {
          // The scheduler's order over all its workers (other groups share it); ours are taken in that order.
          suggested = await client.workersToClose(Math.max(known.size, 1));
        } catch (e) {
          // TCP-only call: without the comm port (HTTP-only access) the operator picks the names itself below.
          rc.logger.debug('workers_to_close unavailable; choosing workers to retire newest first', { error: (e as Error).message });
        }
        names = names.concat(suggested.filter((n) => choosable.has(n) && known.has(n) && !names.includes(n)).slice(0, count));
        if (names.length < needed) {
          // Not suggested (no suggestion available, or not known to the scheduler yet): known workers newest first,
          // then Pods whose worker never connected.
          const rest = r.choosable
            .filter((p) => !names.includes(daskWorkerName(p)))
            .sort((a, b) => Number(known.has(daskWorkerName(b))) - Number(known.has(daskWorkerName(a))) || newestFirst(a, b))
            .slice(0, needed - names.length);
          names = names.concat(rest.map(daskWorkerName));
        }
      }
      chosen = names.map((n) => byWorkerName.get(n)).filter((p): p is Pod => p !== undefined);
      const toRetire = names.filter((n) => known.has(n));
      const neverConnected = names.filter((n) => !known.has(n)).map((n) => byWorkerName.get(n)).filter((p): p is Pod => p !== undefined);
      const result = toRetire.length > 0 ? await client.retireWorkers({ names: toRetire }) : { retired: [], notRetired: [] };
      const retiredPods: Pod[] = [];
      for (const w of result.retired) {
        const pod = byWorkerName.get(w.name) ?? byIp.get(w.host);
        if (pod && !retiredPods.includes(pod)) retiredPods.push(pod);
      }
      const victims = [...retiredPods, ...neverConnected.filter((p) => !retiredPods.includes(p))].slice(0, needed);
      await deletePods(ctx, key, victims);
      removed.push(...victims);
      ctx.metrics?.workersDeleted('retired', victims.filter((p) => retiredPods.includes(p)).length);
      ctx.metrics?.workersDeleted('not_running', victims.filter((p) => !retiredPods.includes(p)).length);
      const refused = toRetire.filter((n) => !result.retired.some((w) => w.name === n || byIp.get(w.host) === byWorkerName.get(n)));
      if (refused.length > 0) {
        failure = `the scheduler did not retire ${refused.join(', ')} (their data could not be moved)${removed.length > 0 ? `; retired and deleted ${removed.map((p) => p.metadata.name).join(', ')}` : ''}`;
      } else {
        const message = `retired ${retiredPods.length} worker(s) through the scheduler (${client.transport}) and deleted their Pods: ${retiredPods.map((p) => p.metadata.name).join(', ')}${neverConnected.length > 0 ? `; deleted ${neverConnected.length} Pod(s) whose worker never connected: ${neverConnected.map((p) => p.metadata.name).join(', ')}` : ''}`;
        ctx.events.event(group, 'Normal', 'WorkersRetired', message);
        conditions.push({ type: 'ScaledDownGracefully', status: 'True', reason: 'Retired', message });
        ctx.metrics?.scaleDown('retired');
        return undefined;
      }
    } catch (e) {
      failure = `could not retire workers through the scheduler: ${(e as Error).message}`;
    }
  } else {
    failure = 'the scheduler of this cluster cannot be reached from the operator';
  }
  if (ctx.options.scaleDownFallback === 'wait') {
    const message = `${failure}; keeping the workers (--scale-down-fallback=wait) and retrying`;
    ctx.events.event(group, 'Warning', 'RetireFailed', message);
    conditions.push({ type: 'ScaledDownGracefully', status: 'False', reason: 'RetireFailed', message });
    ctx.metrics?.scaleDown('retire_failed');
    return 15_000;
  }
  // Only what is still missing, never more: Pods deleted above already count toward the requested size.
  const order = [...chosen, ...named, ...r.choosable.slice().sort(newestFirst)];
  const victims = order.filter((p, i) => order.indexOf(p) === i && !removed.includes(p)).slice(0, needed - removed.length);
  await deletePods(ctx, key, victims);
  ctx.metrics?.workersDeleted('without_retirement', victims.length);
  ctx.metrics?.scaleDown('deleted_without_retirement');
  const message = `${failure}; deleted ${victims.length} worker Pod(s) newest first without retiring them (data on them is lost): ${victims.map((p) => p.metadata.name).join(', ')}`;
  ctx.events.event(group, 'Warning', 'WorkersDeletedWithoutRetirement', message);
  conditions.push({ type: 'ScaledDownGracefully', status: 'False', reason: 'DeletedWithoutRetirement', message });
  rc.logger.warn('scaled down without graceful retirement', { group: groupName, pods: victims.map((p) => p.metadata.name) });
  return undefined;
}

/** Status fields and conditions, through the one status path (operator/dask/status.ts). */
async function writeStatus(ctx: DaskContext, group: DaskWorkerGroup, fields: Record<string, unknown>, inputs: ConditionInput[], now: Date): Promise<void> {
  await updateStatus(ctx, groupRef(group), group, fieldsAndConditions(fields, inputs, group.metadata.generation, now));
}
