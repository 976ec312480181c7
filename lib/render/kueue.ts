/**
 * Pure functions of the Kueue integration: the Workload that stands for a queued DaskJob (one pod set each for the
 * scheduler, the workers and the runner, with their requests), and where an admission puts each pod set (the node
 * labels and tolerations of the admitted ResourceFlavors, plus admission checks' pod set updates).
 */
import { createHash } from 'node:crypto';
import type { DaskJob, PodSpec, Toleration } from '../schema/generated/types';
import {
  DaskPodSetName, JobPlacement, KUEUE_API_VERSION, KUEUE_GROUP, PodSetPlacement, POD_SET_RUNNER, POD_SET_SCHEDULER, POD_SET_WORKER,
  ResourceFlavor, Workload, WorkloadPodSet,
} from '../schema/kueue';
import { LABEL_KUEUE_QUEUE_NAME } from '../schema/names';
import { clone } from './env';
import { controllerReference } from './metadata';

/** Annotation on a Workload: hash of the pod sets it was made from (a changed job gets a new Workload before admission). */
export const ANNOTATION_POD_SETS_HASH = 'kubernetes.dask.org/pod-sets-hash';

/** `daskjob-{job}-{5 hex of the job uid}`: one Workload per DaskJob incarnation. */
export function workloadName(job: DaskJob): string {
  return `daskjob-${job.metadata.name}-${(job.metadata.uid ?? '').replace(/-/g, '').slice(0, 5).toLowerCase()}`;
}

/** The pod sets of a DaskJob: scheduler (1), workers (the replicas of its cluster), runner (1). */
export function jobPodSets(job: DaskJob): WorkloadPodSet[] {
  const spec = job.spec;
  if (!spec) throw new Error(`DaskJob ${job.metadata.name} has no spec`);
  const runner = clone(spec.job.spec);
  if (!runner.restartPolicy) runner.restartPolicy = 'OnFailure';
  const cluster = spec.cluster.spec;
  return [
    { name: POD_SET_SCHEDULER, count: 1, template: { spec: clone(cluster.scheduler.spec) } },
    { name: POD_SET_WORKER, count: Math.max(0, cluster.worker.replicas ?? 1), template: { spec: clone(cluster.worker.spec) } },
    { name: POD_SET_RUNNER, count: 1, template: { spec: runner } },
  ];
}

export function podSetsHash(podSets: readonly WorkloadPodSet[]): string {
  return createHash('sha256').update(JSON.stringify(podSets)).digest('hex').slice(0, 10);
}

/** The Workload of a queued DaskJob, owned by it; `priority` from the job's WorkloadPriorityClass, if it names one. */
export function jobWorkload(job: DaskJob, priority?: { readonly name: string; readonly value: number }): Workload {
  const podSets = jobPodSets(job);
  const queue = job.metadata.labels?.[LABEL_KUEUE_QUEUE_NAME];
  return {
    apiVersion: KUEUE_API_VERSION,
    kind: 'Workload',
    metadata: {
      name: workloadName(job),
      namespace: job.metadata.namespace,
      labels: { 'kubernetes.dask.org/job-name': job.metadata.name as string },
      annotations: { [ANNOTATION_POD_SETS_HASH]: podSetsHash(podSets) },
      ownerReferences: [controllerReference(job)],
    },
    spec: {
      podSets,
      ...(queue ? { queueName: queue } : {}),
      ...(priority ? { priorityClassRef: { group: KUEUE_GROUP, kind: 'WorkloadPriorityClass', name: priority.name }, priority: priority.value } : {}),
    },
  };
}

/**
 * Where the admission puts each pod set. Returns the ResourceFlavors it names that are not known (yet), so the caller
 * can wait for them instead of starting Pods on the wrong nodes.
 */
export function admittedPlacement(wl: Workload, flavor: (name: string) => ResourceFlavor | undefined): { placement: JobPlacement; missingFlavors: string[] } {
  const placement: JobPlacement = {};
  const missing = new Set<string>();
  for (const a of wl.status?.admission?.podSetAssignments ?? []) {
    const nodeSelector: Record<string, string> = {};
    const tolerations: Toleration[] = [];
    for (const name of new Set(Object.values(a.flavors ?? {}))) {
      const f = flavor(name);
      if (!f) {
        missing.add(name);
        continue;
      }
      Object.assign(nodeSelector, f.spec?.nodeLabels ?? {});
      for (const t of f.spec?.tolerations ?? []) addToleration(tolerations, t);
    }
    const p: { nodeSelector?: Record<string, string>; tolerations?: Toleration[]; labels?: Record<string, string>; annotations?: Record<string, string> } = {};
    for (const check of wl.status?.admissionChecks ?? []) {
      for (const u of check.podSetUpdates ?? []) {
        if (u.name !== a.name) continue;
        Object.assign(nodeSelector, u.nodeSelector ?? {});
        for (const t of u.tolerations ?? []) addToleration(tolerations, t);
        if (u.labels) p.labels = { ...(p.labels ?? {}), ...u.labels };
        if (u.annotations) p.annotations = { ...(p.annotations ?? {}), ...u.annotations };
      }
    }
    if (Object.keys(nodeSelector).length > 0) p.nodeSelector = nodeSelector;
    if (tolerations.length > 0) p.tolerations = tolerations;
    placement[a.name as DaskPodSetName] = p;
  }
  return { placement, missingFlavors: [...missing].sort() };
}

function addToleration(list: Toleration[], t: Toleration): void {
  if (!list.some((x) => JSON.stringify(x) === JSON.stringify(t))) list.push({ ...t });
}

/** A pod spec with a placement applied: node selector entries added (the admission's win), tolerations appended. */
export function withPlacement(spec: PodSpec, p: PodSetPlacement | undefined): PodSpec {
  if (!p || (!p.nodeSelector && !p.tolerations)) return spec;
  const out = { ...spec };
  if (p.nodeSelector) out.nodeSelector = { ...(spec.nodeSelector ?? {}), ...p.nodeSelector };
  if (p.tolerations) {
    const tolerations = [...(spec.tolerations ?? [])];
    for (const t of p.tolerations) addToleration(tolerations, t);
    out.tolerations = tolerations;
  }
  return out;
}
