/**
 * DaskCluster → scheduler Pod, scheduler Service, default DaskWorkerGroup, status; idle-timeout deletion.
 * Level-triggered: everything is computed from the caches on every run.
 */
import type { Request } from '../runtime/object';
import type { ReconcileContext, Result } from '../runtime/reconcile';
import {
  ANNOTATION_SCHEDULER_TEMPLATE_HASH, dashboardAddress, defaultWorkerGroup, schedulerAddress, schedulerPod, schedulerService, schedulerTemplateHash, workerSelector,
} from '../../lib/render';
import type { DaskCluster, DaskWorkerGroup, Pod, Service } from '../../lib/schema/generated/types';
import { clusterNameProblem, defaultWorkerGroupName, schedulerName } from '../../lib/schema/names';
import { ANNOTATION_REPLICAS_BEFORE_IDLE } from '../../lib/render/worker-group';
import { ConditionInput, findCondition, jsonEqual } from './conditions';
import { fieldsAndConditions, updateStatus } from './status';
import { mergeDiff, specSchema, withSchemaDefaults } from './desired';
import { isRejected } from './api';
import type { DaskContext } from './context';
import { ContainerFailure, containerFailure, containersRunning } from './container-failures';
import { isControlledBy, isFinished, isReady, isTerminating } from './pods';

/** The DaskWorkerGroup spec schema (its defaults are what the API server fills in). */
const GROUP_SPEC = specSchema('DaskWorkerGroup');

export const PHASE_CREATED = 'Created';
export const PHASE_PENDING = 'Pending';
export const PHASE_RUNNING = 'Running';
export const PHASE_ERROR = 'Error';

const ref = (c: DaskCluster) => ({ plural: 'daskclusters' as const, namespace: c.metadata.namespace as string, name: c.metadata.name as string });

export async function reconcileCluster(ctx: DaskContext, req: Request, rc: ReconcileContext): Promise<Result | void> {
  const cluster = ctx.caches.clusters.get(req.namespace, req.name);
  if (!cluster || cluster.metadata.deletionTimestamp) return;
  const now = ctx.now();
  const generation = cluster.metadata.generation;

  const nameProblem = clusterNameProblem(req.name);
  if (nameProblem) {
    if (cluster.status?.phase !== PHASE_ERROR) {
      ctx.events.event(cluster, 'Warning', 'InvalidName', `DaskCluster name ${nameProblem}; nothing was created. Recreate the cluster with a valid name.`);
    }
    await updateStatus(ctx, ref(cluster), cluster, fieldsAndConditions({ phase: PHASE_ERROR, observedGeneration: generation }, [{ type: 'Ready', status: 'False', reason: 'InvalidName', message: `name ${nameProblem}` }], generation, now));
    return;
  }

  // Upstream clients poll for the first non-empty phase and expect "Created" before the components exist.
  let latest: DaskCluster | undefined = cluster;
  if (!cluster.status?.phase) {
    latest = await updateStatus(ctx, ref(cluster), cluster, (c) => (c.status?.phase ? {} : { phase: PHASE_CREATED, observedGeneration: generation }));
    if (!latest) return; // deleted meanwhile
  }

  const problems: ConditionInput[] = [];
  const service = await ensureService(ctx, cluster, problems);
  const pod = await ensureSchedulerPod(ctx, cluster, problems);
  const group = await ensureDefaultGroup(ctx, cluster, problems);

  // Status
  const ns = req.namespace;
  const groupName = defaultWorkerGroupName(req.name);
  const workers = ctx.caches.pods.list(ns).filter((p) => group && isControlledBy(p, group.metadata.uid) && !isTerminating(p) && !isFinished(p));
  const ready = workers.filter(isReady).length;
  const desired = group?.spec?.worker.replicas ?? cluster.spec.worker.replicas ?? 1;
  const schedulerReady = pod !== undefined && isReady(pod);
  const ours = pod !== undefined && isControlledBy(pod, cluster.metadata.uid);
  const schedulerFailure = ours ? containerFailure(pod) : undefined;
  const workerFailure = workers.map(containerFailure).find((f) => f !== undefined);
  const lbWaiting = service?.spec.type === 'LoadBalancer' && !(service.status?.loadBalancer?.ingress?.length);
  // A new worker template being rolled out to the default group: its Ready says RollingOut until no old Pod is left.
  const groupReady = group && isControlledBy(group, cluster.metadata.uid) ? findCondition(group.status?.conditions, 'Ready') : undefined;
  const rollingOut = groupReady?.reason === 'RollingOut' && group?.status?.observedGeneration === group?.metadata.generation;
  // Running once the Service is up and the scheduler process runs: a Pod whose container cannot start (or crash-loops)
  // stays in phase Running for the kubelet, so the phase alone would report a cluster that never ran as Running.
  const schedulerRuns = ours && (schedulerReady || (containersRunning(pod) && !schedulerFailure));
  const phase = service && !lbWaiting && schedulerRuns ? PHASE_RUNNING : PHASE_PENDING;
  const conditions: ConditionInput[] = [
    schedulerReady
      ? { type: 'SchedulerReady', status: 'True', reason: 'PodReady', message: `scheduler Pod ${schedulerName(req.name)} is Ready` }
      : schedulerFailure
        ? { type: 'SchedulerReady', status: 'False', reason: schedulerFailure.reason, message: `the scheduler cannot start: ${schedulerFailure.message}` }
        : { type: 'SchedulerReady', status: 'False', reason: pod ? 'PodNotReady' : 'PodMissing', message: pod ? `scheduler Pod ${pod.metadata.name} is ${pod.status?.phase ?? 'Pending'}` : 'scheduler Pod does not exist yet' },
    ready >= desired && !rollingOut
      ? { type: 'WorkersReady', status: 'True', reason: 'AllWorkersReady', message: `${ready}/${desired} workers of ${groupName} are Ready` }
      : rollingOut && !workerFailure
        ? { type: 'WorkersReady', status: 'False', reason: 'RollingOut', message: `${groupName}: ${groupReady?.message ?? 'rolling out a new worker template'}` }
        : workerFailure
        ? { type: 'WorkersReady', status: 'False', reason: workerFailure.reason, message: `${ready}/${desired} workers of ${groupName} are Ready; a worker cannot start: ${workerFailure.message}` }
        : { type: 'WorkersReady', status: 'False', reason: 'WorkersNotReady', message: `${ready}/${desired} workers of ${groupName} are Ready` },
    ...problems,
  ];
  const prevScheduler = findCondition(cluster.status?.conditions, 'SchedulerReady');
  if (schedulerFailure && prevScheduler?.reason !== schedulerFailure.reason) {
    ctx.events.event(cluster, 'Warning', 'SchedulerFailed', `the scheduler cannot start: ${schedulerFailure.message}`);
  }
  const allGood = schedulerReady && ready >= desired && !rollingOut && problems.length === 0 && !lbWaiting;
  conditions.push(
    allGood
      ? { type: 'Ready', status: 'True', reason: 'ClusterReady', message: 'scheduler and all workers are Ready' }
      : notReady(problems, schedulerFailure, workerFailure, lbWaiting, schedulerReady, rollingOut),
  );
  const prevComponents = findCondition(cluster.status?.conditions, 'ComponentsHealthy');
  const taken = problems.find((p) => p.reason === 'NameTaken');
  if (taken && prevComponents?.reason !== 'NameTaken') ctx.events.event(cluster, 'Warning', 'NameTaken', taken.message);
  if (problems.length === 0 && prevComponents && prevComponents.status === 'False') {
    conditions.push({ type: 'ComponentsHealthy', status: 'True', reason: 'Reconciled', message: 'all components were created' });
  }
  const idle = await checkIdle(ctx, cluster, schedulerReady, rc);
  if (idle.deleted) return;
  if (idle.condition) conditions.push(idle.condition);
  await updateStatus(ctx, ref(cluster), latest, fieldsAndConditions({
    phase,
    observedGeneration: generation,
    replicas: workers.length,
    readyReplicas: ready,
    selector: workerSelector(groupName),
    schedulerAddress: schedulerAddress(cluster, ctx.options),
    dashboardAddress: dashboardAddress(cluster, ctx.options),
  }, conditions, generation, now));

  if (problems.length > 0) return { requeueAfter: 30_000 };
  return idle.result;
}

/** The Ready=False condition: the first problem, else the first failing container, else what is still awaited. */
function notReady(problems: ConditionInput[], scheduler: ContainerFailure | undefined, worker: ContainerFailure | undefined, lbWaiting: boolean, schedulerReady: boolean, rollingOut: boolean): ConditionInput {
  if (problems[0]) return { type: 'Ready', status: 'False', reason: problems[0].reason, message: problems[0].message };
  if (scheduler) return { type: 'Ready', status: 'False', reason: 'SchedulerFailed', message: `the scheduler cannot start: ${scheduler.message}` };
  if (worker && schedulerReady) return { type: 'Ready', status: 'False', reason: 'WorkersFailed', message: `a worker cannot start: ${worker.message}` };
  if (rollingOut && schedulerReady && !lbWaiting) return { type: 'Ready', status: 'False', reason: 'RollingOut', message: 'rolling out a new worker template to the default worker group' };
  const reason = lbWaiting ? 'LoadBalancerPending' : !schedulerReady ? 'SchedulerNotReady' : 'WorkersNotReady';
  return { type: 'Ready', status: 'False', reason, message: 'waiting for the scheduler and workers to become Ready' };
}

async function ensureService(ctx: DaskContext, cluster: DaskCluster, problems: ConditionInput[]): Promise<Service | undefined> {
  const name = schedulerName(cluster.metadata.name as string);
  const existing = ctx.caches.services.get(cluster.metadata.namespace as string, name);
  if (existing) {
    if (!isControlledBy(existing, cluster.metadata.uid)) problems.push(notOurs('Service', name));
    return existing;
  }
  await create(ctx, cluster, 'services', schedulerService(cluster), problems);
  return undefined;
}

async function ensureSchedulerPod(ctx: DaskContext, cluster: DaskCluster, problems: ConditionInput[]): Promise<Pod | undefined> {
  const name = schedulerName(cluster.metadata.name as string);
  const ns = cluster.metadata.namespace as string;
  const existing = ctx.caches.pods.get(ns, name);
  if (existing) {
    if (!isControlledBy(existing, cluster.metadata.uid)) {
      problems.push(notOurs('Pod', name));
      return existing;
    }
    if (isFinished(existing) && !isTerminating(existing)) {
      // Self-healing: a scheduler Pod that exited is replaced (its name is fixed, so delete first).
      ctx.events.event(cluster, 'Warning', 'SchedulerRestarted', `scheduler Pod ${name} ${existing.status?.phase}; replacing it`);
      await ctx.api.delete({ plural: 'pods', namespace: ns, name }, { uid: existing.metadata.uid, gracePeriodSeconds: 0 });
    } else if (!isTerminating(existing) && cluster.spec.scheduler.updateStrategy === 'Recreate' && existing.metadata.annotations?.[ANNOTATION_SCHEDULER_TEMPLATE_HASH] !== schedulerTemplateHash(cluster)) {
      // Recreate: the template changed under a running scheduler. The Pod goes with its normal grace period and
      // the next pass creates it from the current template (the name is fixed, so it cannot be surged).
      ctx.events.event(cluster, 'Warning', 'SchedulerRecreated',
        `the scheduler template changed and spec.scheduler.updateStrategy is Recreate: replacing scheduler Pod ${name}. ` +
        'Everything the scheduler held in memory (tasks, results, client connections) is lost; the workers reconnect to the new scheduler and clients must reconnect and resubmit.');
      await ctx.api.delete({ plural: 'pods', namespace: ns, name }, { uid: existing.metadata.uid });
    }
    return existing;
  }
  const pod = schedulerPod(cluster, ctx.options);
  if (await create(ctx, cluster, 'pods', pod, problems)) {
    ctx.events.event(cluster, 'Normal', 'SchedulerCreated', `created scheduler Pod ${name}`);
  }
  return undefined;
}

async function ensureDefaultGroup(ctx: DaskContext, cluster: DaskCluster, problems: ConditionInput[]): Promise<DaskWorkerGroup | undefined> {
  const ns = cluster.metadata.namespace as string;
  const name = defaultWorkerGroupName(cluster.metadata.name as string);
  const existing = ctx.caches.workerGroups.get(ns, name);
  if (!existing) {
    await create(ctx, cluster, 'daskworkergroups', defaultWorkerGroup(cluster), problems);
    return undefined;
  }
  if (!isControlledBy(existing, cluster.metadata.uid)) {
    problems.push(notOurs('DaskWorkerGroup', name));
    return existing;
  }
  // The full desired template, with the defaults the API server adds, compared with what is stored: a patch is sent
  // only for a real difference, and it removes what the cluster's template no longer has.
  const desired = defaultWorkerGroup(cluster, existing);
  const want = withSchemaDefaults(GROUP_SPEC, desired.spec);
  const patch: Record<string, unknown> = {};
  if (!jsonEqual(want, existing.spec)) patch.spec = mergeDiff(existing.spec ?? {}, want);
  const ann = desired.metadata.annotations ?? {};
  const liveAnn = existing.metadata.annotations ?? {};
  const annPatch = Object.fromEntries(Object.entries(ann).filter(([k, v]) => liveAnn[k] !== v));
  const metadata: Record<string, unknown> = Object.keys(annPatch).length > 0 ? { annotations: annPatch } : {};
  if (Object.keys(patch).length > 0 || Object.keys(metadata).length > 0) {
    // Guarded: a template computed from a stale copy of the group must not overwrite a newer change (409 → retried).
    patch.metadata = { ...metadata, resourceVersion: existing.metadata.resourceVersion };
    await ctx.api.patch({ plural: 'daskworkergroups', namespace: ns, name }, patch);
  }
  return existing;
}

/** Creates a child; an API rejection becomes a condition + Event instead of an endless error loop. */
async function create(ctx: DaskContext, cluster: DaskCluster, plural: 'pods' | 'services' | 'daskworkergroups', body: { kind: string; metadata: { name?: string } }, problems: ConditionInput[]): Promise<boolean> {
  try {
    const created = await ctx.api.create(plural, cluster.metadata.namespace as string, body);
    if (!created) {
      // AlreadyExists though the cache does not show it: our cache lags, or the object is someone else's (our caches
      // only hold objects labelled with a cluster name). Ask the API server; never touch it if it is not ours.
      const name = body.metadata.name as string;
      const live = await ctx.api.get({ plural, namespace: cluster.metadata.namespace as string, name });
      if (live && !isControlledBy(live, cluster.metadata.uid)) problems.push(notOurs(body.kind, name));
    }
    return created;
  } catch (e) {
    if (isRejected(e)) {
      const message = `could not create ${body.kind} ${body.metadata.name}: ${(e as Error).message}`;
      ctx.events.event(cluster, 'Warning', 'CreateFailed', message);
      problems.push({ type: 'ComponentsHealthy', status: 'False', reason: 'CreateFailed', message });
      return false;
    }
    throw e;
  }
}

function notOurs(kind: string, name: string): ConditionInput {
  return {
    type: 'ComponentsHealthy',
    status: 'False',
    reason: 'NameTaken',
    message: `${kind} ${name} exists but is not controlled by this DaskCluster; the operator leaves it alone. Delete or rename it to let the operator create its own.`,
  };
}

interface IdleOutcome {
  readonly deleted?: boolean;
  /** The Idle condition to record (ScaleToZero clusters only, on transitions). */
  readonly condition?: ConditionInput;
  readonly result?: Result;
}

/**
 * Idle timeout: once the scheduler has been idle longer than spec.idleTimeout seconds, delete the cluster
 * (idleAction Delete, the default) or scale every worker group to zero (ScaleToZero), remembering their replicas; when
 * work arrives again, hand the default group back to its autoscaler, or restore the remembered replicas.
 */
async function checkIdle(ctx: DaskContext, cluster: DaskCluster, schedulerReady: boolean, rc: ReconcileContext): Promise<IdleOutcome> {
  const timeout = cluster.spec.idleTimeout ?? 0;
  const scaledToZero = findCondition(cluster.status?.conditions, 'Idle')?.status === 'True';
  if (timeout <= 0 && !scaledToZero) return {};
  const period = { requeueAfter: ctx.options.idleCheckPeriodMs };
  if (!schedulerReady) return { result: period };
  const client = ctx.schedulerClient(cluster);
  if (!client) return { result: period };
  let since: number | null;
  try {
    since = await client.idleSince();
  } catch (e) {
    rc.logger.warn('could not ask the scheduler whether it is idle; will retry', { error: (e as Error).message });
    return { result: period };
  }
  const nowSeconds = ctx.now().getTime() / 1000;
  const idleTooLong = timeout > 0 && since !== null && nowSeconds > since + timeout;
  const toZero = cluster.spec.idleAction === 'ScaleToZero';
  if (idleTooLong && !toZero) {
    ctx.events.event(cluster, 'Normal', 'IdleTimeout', `scheduler idle since ${new Date((since as number) * 1000).toISOString()} (longer than idleTimeout ${timeout}s); deleting the cluster`);
    await ctx.api.delete(ref(cluster), { uid: cluster.metadata.uid });
    return { deleted: true };
  }
  const ns = cluster.metadata.namespace as string;
  const name = cluster.metadata.name as string;
  const groups = ctx.caches.workerGroups.list(ns)
    .filter((g) => g.spec?.cluster === name && !g.metadata.deletionTimestamp)
    .sort((a, b) => ((a.metadata.name as string) < (b.metadata.name as string) ? -1 : 1));
  if (idleTooLong && !scaledToZero) {
    const changed: string[] = [];
    for (const g of groups) {
      const replicas = g.spec?.worker.replicas ?? 1;
      if (replicas === 0) continue;
      await ctx.api.patch({ plural: 'daskworkergroups', namespace: ns, name: g.metadata.name as string }, {
        metadata: { annotations: { [ANNOTATION_REPLICAS_BEFORE_IDLE]: String(replicas) } },
        spec: { worker: { replicas: 0 } },
      });
      changed.push(`${g.metadata.name} (${replicas} → 0)`);
    }
    const message = `scheduler idle since ${new Date((since as number) * 1000).toISOString()} (longer than idleTimeout ${timeout}s): ` +
      `${changed.length > 0 ? `scaled ${changed.join(', ')}` : 'no workers to remove'}; the scheduler keeps running`;
    ctx.events.event(cluster, 'Normal', 'ScaledToZero', message);
    return { condition: { type: 'Idle', status: 'True', reason: 'ScaledToZero', message }, result: period };
  }
  if (scaledToZero && !idleTooLong) {
    // The idle period ended. That alone also happens when the last workers leave with data on them (their tasks
    // change state), so only a scheduler that wants workers (queued or unrunnable tasks) counts as work arriving.
    let wanted: number;
    try {
      wanted = await client.adaptiveTarget();
    } catch (e) {
      rc.logger.warn('could not read the scheduler\'s adaptive target; will retry', { error: (e as Error).message });
      return { result: period };
    }
    if (wanted <= 0) return { result: period };
    const autoscaled = ctx.caches.autoscalers.list(ns).some((a) => a.spec?.cluster === name && !a.metadata.deletionTimestamp);
    const restored: string[] = [];
    for (const g of groups) {
      const before = g.metadata.annotations?.[ANNOTATION_REPLICAS_BEFORE_IDLE];
      if (before === undefined) continue;
      const byAutoscaler = autoscaled && g.metadata.name === defaultWorkerGroupName(name);
      const restore = !byAutoscaler && (g.spec?.worker.replicas ?? 1) === 0;
      await ctx.api.patch({ plural: 'daskworkergroups', namespace: ns, name: g.metadata.name as string }, {
        metadata: { annotations: { [ANNOTATION_REPLICAS_BEFORE_IDLE]: null } },
        ...(restore ? { spec: { worker: { replicas: Number(before) } } } : {}),
      });
      if (restore) restored.push(`${g.metadata.name} (0 → ${before})`);
      else if (byAutoscaler) restored.push(`${g.metadata.name} (back to its DaskAutoscaler)`);
    }
    const message = `work arrived: ${restored.length > 0 ? `scaled up ${restored.join(', ')}` : 'the worker groups were already scaled'}`;
    ctx.events.event(cluster, 'Normal', 'IdleEnded', message);
    return { condition: { type: 'Idle', status: 'False', reason: 'WorkArrived', message }, result: period };
  }
  return { result: period };
}
