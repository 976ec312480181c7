import type { DaskCluster, Pod, Service, ServicePort } from '../schema/generated/types';
import {
  COMPONENT_SCHEDULER, LABEL_CLUSTER, LABEL_COMPONENT, PORT_NAME_COMM, PORT_NAME_DASHBOARD,
  SCHEDULER_COMM_PORT, SCHEDULER_DASHBOARD_PORT, schedulerName,
} from '../schema/names';
import { createHash } from 'node:crypto';
import { clone } from './env';
import { childMetadata, withDefaultIstioInject, withoutServiceAccountToken } from './metadata';
import { DEFAULT_CLUSTER_DOMAIN, RenderOptions } from './options';

/** Labels selecting a cluster's scheduler Pod. */
export const schedulerSelector = (cluster: string): Record<string, string> => ({ [LABEL_CLUSTER]: cluster, [LABEL_COMPONENT]: COMPONENT_SCHEDULER });

/** Annotation on scheduler Pods: hash of the scheduler template they were made from (updateStrategy Recreate). */
export const ANNOTATION_SCHEDULER_TEMPLATE_HASH = 'kubernetes.dask.org/scheduler-template-hash';

/**
 * Hash of what the scheduler Pod is made from: the template's metadata and pod spec as the user wrote them (not what
 * the operator injects, so an operator upgrade never counts as a template change): 10 hex chars.
 */
export function schedulerTemplateHash(cluster: DaskCluster): string {
  const { metadata, spec } = cluster.spec.scheduler;
  return createHash('sha256').update(JSON.stringify({ metadata: metadata ?? {}, spec })).digest('hex').slice(0, 10);
}

/** The scheduler Pod `{cluster}-scheduler`, annotated with its template hash. */
export function schedulerPod(cluster: DaskCluster, opts: RenderOptions = {}): Pod {
  const name = cluster.metadata.name as string;
  const spec = clone(cluster.spec.scheduler.spec);
  if (opts.schedulerEnv) {
    spec.containers = spec.containers.map((c) => {
      const extra = opts.schedulerEnv?.(c.env ?? []);
      return extra ? { ...c, env: [...(c.env ?? []), extra] } : c;
    });
  }
  const metadata = childMetadata(cluster, schedulerName(name), cluster.spec.scheduler.metadata, schedulerSelector(name));
  metadata.labels = withDefaultIstioInject(metadata.labels ?? {});
  metadata.annotations = { ...(metadata.annotations ?? {}), [ANNOTATION_SCHEDULER_TEMPLATE_HASH]: schedulerTemplateHash(cluster) };
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: withoutServiceAccountToken(spec) } as Pod;
}

/** The scheduler Service `{cluster}-scheduler`; selects the scheduler Pod when the spec has no selector. */
export function schedulerService(cluster: DaskCluster): Service {
  const name = cluster.metadata.name as string;
  const spec = clone(cluster.spec.scheduler.service);
  if (!spec.selector || Object.keys(spec.selector).length === 0) spec.selector = schedulerSelector(name);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(cluster, schedulerName(name), cluster.spec.scheduler.metadata, schedulerSelector(name)),
    spec,
  } as Service;
}

function portOf(cluster: DaskCluster, portName: string, fallback: number): number {
  const ports: ServicePort[] = cluster.spec.scheduler.service.ports ?? [];
  return ports.find((p) => p.name === portName)?.port ?? fallback;
}

/** `{cluster}-scheduler.{ns}.svc.{domain}`: the scheduler Service's in-cluster DNS name. */
export function schedulerHost(cluster: DaskCluster, opts: RenderOptions = {}): string {
  return `${schedulerName(cluster.metadata.name as string)}.${cluster.metadata.namespace}.svc.${opts.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN}`;
}

/** `tcp://{cluster}-scheduler.{ns}.svc.{domain}:{tcp-comm port}`: what workers and job runners are given. */
export function schedulerAddress(cluster: DaskCluster, opts: RenderOptions = {}): string {
  return `tcp://${schedulerHost(cluster, opts)}:${portOf(cluster, PORT_NAME_COMM, SCHEDULER_COMM_PORT)}`;
}

/** `http://{cluster}-scheduler.{ns}.svc.{domain}:{http-dashboard port}`. */
export function dashboardAddress(cluster: DaskCluster, opts: RenderOptions = {}): string {
  return `http://${schedulerHost(cluster, opts)}:${portOf(cluster, PORT_NAME_DASHBOARD, SCHEDULER_DASHBOARD_PORT)}`;
}
