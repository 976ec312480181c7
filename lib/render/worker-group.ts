import { createHash, randomBytes } from 'node:crypto';
import type { DaskCluster, DaskWorkerGroup, Pod } from '../schema/generated/types';
import {
  API_VERSION, COMPONENT_WORKER, COMPONENT_WORKER_GROUP, DASK_WORKER_GROUP, defaultWorkerGroupName, LABEL_CLUSTER, LABEL_COMPONENT,
  LABEL_WORKER_GROUP,
} from '../schema/names';
import { clone, injectEnv } from './env';
import { addMissing, childMetadata, withDefaultIstioInject, withoutServiceAccountToken } from './metadata';
import { RenderOptions } from './options';
import { schedulerAddress } from './scheduler';

/** Annotation on worker Pods: hash of the group's worker template they were made from (rollouts replace stale ones). */
export const ANNOTATION_TEMPLATE_HASH = 'kubernetes.dask.org/worker-template-hash';
/** Annotation on a default worker group: the DaskCluster's spec.worker.replicas last applied to it. */
export const ANNOTATION_CLUSTER_REPLICAS = 'kubernetes.dask.org/cluster-replicas';
/** Annotation on a worker group scaled to zero by an idle timeout (idleAction ScaleToZero): its replicas before. */
export const ANNOTATION_REPLICAS_BEFORE_IDLE = 'kubernetes.dask.org/replicas-before-idle';

/**
 * The default worker group `{cluster}-default`: the cluster's worker template. `replicas` is the group's own unless
 * the cluster's spec.worker.replicas changed since it was last applied (then the cluster's value wins), so
 * `kubectl scale daskworkergroup` and the autoscaler keep working next to `kubectl scale daskcluster`.
 */
export function defaultWorkerGroup(cluster: DaskCluster, existing?: DaskWorkerGroup): DaskWorkerGroup {
  const name = cluster.metadata.name as string;
  const clusterReplicas = cluster.spec.worker.replicas ?? 1;
  const lastApplied = existing?.metadata.annotations?.[ANNOTATION_CLUSTER_REPLICAS];
  const replicas = existing && lastApplied === String(clusterReplicas) ? existing.spec?.worker.replicas ?? clusterReplicas : clusterReplicas;
  const metadata = childMetadata(cluster, defaultWorkerGroupName(name), cluster.spec.worker.metadata, { [LABEL_CLUSTER]: name, [LABEL_COMPONENT]: COMPONENT_WORKER_GROUP });
  metadata.annotations = { ...(metadata.annotations ?? {}), [ANNOTATION_CLUSTER_REPLICAS]: String(clusterReplicas) };
  const worker = clone(cluster.spec.worker);
  delete worker.cluster;
  return { apiVersion: API_VERSION, kind: DASK_WORKER_GROUP.kind as 'DaskWorkerGroup', metadata, spec: { cluster: name, worker: { ...worker, replicas } } };
}

/** Hash of what a worker Pod is made from (template metadata and pod spec, not replicas): 10 hex chars. */
export function workerTemplateHash(group: DaskWorkerGroup): string {
  const { metadata, spec } = group.spec?.worker ?? { spec: {} };
  return createHash('sha256').update(JSON.stringify({ metadata: metadata ?? {}, spec })).digest('hex').slice(0, 10);
}

/** A fresh worker Pod name `{group}-worker-{10 hex}` (the shape the upstream operator uses). */
export function newWorkerName(group: string, random: () => string = () => randomBytes(5).toString('hex')): string {
  return `${group}-worker-${random()}`;
}

/**
 * A worker Pod of `group`. DASK_WORKER_NAME (= the Pod name) and DASK_SCHEDULER_ADDRESS are appended to every
 * container that lacks them; labels are the group's, the template's, then the operator's, then (non-overriding)
 * the cluster's.
 */
export function workerPod(group: DaskWorkerGroup, cluster: DaskCluster, name: string, opts: RenderOptions = {}): Pod {
  const groupName = group.metadata.name as string;
  const clusterName = cluster.metadata.name as string;
  const worker = group.spec?.worker;
  if (!worker) throw new Error(`DaskWorkerGroup ${groupName} has no spec.worker`);
  const metadata = childMetadata(group, name, worker.metadata, {
    [LABEL_CLUSTER]: clusterName,
    [LABEL_WORKER_GROUP]: groupName,
    [LABEL_COMPONENT]: COMPONENT_WORKER,
  });
  metadata.labels = withDefaultIstioInject(addMissing(metadata.labels ?? {}, cluster.metadata.labels));
  // The default group's bookkeeping annotation describes the group, not its Pods (and would go stale on old Pods).
  const { [ANNOTATION_CLUSTER_REPLICAS]: _groupOnly, ...annotations } = metadata.annotations ?? {};
  if (worker.metadata?.annotations?.[ANNOTATION_CLUSTER_REPLICAS] !== undefined) annotations[ANNOTATION_CLUSTER_REPLICAS] = worker.metadata.annotations[ANNOTATION_CLUSTER_REPLICAS];
  metadata.annotations = { ...annotations, [ANNOTATION_TEMPLATE_HASH]: workerTemplateHash(group) };
  const spec = withoutServiceAccountToken(injectEnv(clone(worker.spec), [
    { name: 'DASK_WORKER_NAME', value: name },
    { name: 'DASK_SCHEDULER_ADDRESS', value: schedulerAddress(cluster, opts) },
  ]));
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec } as Pod;
}

/** Label selector (string form) of a group's worker Pods, for status.selector and the scale subresource. */
export function workerSelector(groupName: string): string {
  return `${LABEL_WORKER_GROUP}=${groupName},${LABEL_COMPONENT}=${COMPONENT_WORKER}`;
}
