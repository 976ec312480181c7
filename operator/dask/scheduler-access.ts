/**
 * Which scheduler the operator may talk to, and the pool of scheduler clients (one per DaskCluster).
 *
 * The operator reaches a scheduler through its Service's name (DNS inside the cluster, the API server's service proxy
 * outside). A Service name resolves to whatever the Service says, and spec.scheduler.service is the user's: an
 * ExternalName Service is a DNS alias for any host, and externalIPs or a foreign selector send the traffic elsewhere.
 * So before every dial the Service is read from the cache and must be the one this operator created for the cluster
 * and still look like it: controlled by the DaskCluster, selecting exactly the operator's scheduler labels, with a
 * cluster IP (ClusterIP, headless, NodePort or LoadBalancer: inside the cluster the name resolves to the cluster IP
 * or the selected Pods) and no externalName or externalIPs.
 */
import type { DaskCluster, Service } from '../../lib/schema/generated/types';
import { schedulerSelector } from '../../lib/render';
import { schedulerName } from '../../lib/schema/names';
import type { CacheReader, Watchable } from '../runtime/informer';
import { SchedulerAccessRefused, type SchedulerClient } from '../scheduler';
import { isControlledBy } from './pods';

/** Service types whose in-cluster name resolves to the cluster IP (or, headless, to the selected Pods). */
const DIALLABLE_TYPES = new Set(['ClusterIP', 'NodePort', 'LoadBalancer']);

/** Why the operator must not dial the scheduler Service of `cluster`, or undefined when it may. */
export function schedulerServiceProblem(cluster: DaskCluster, service: Service | undefined): string | undefined {
  const name = schedulerName(cluster.metadata.name as string);
  if (!service) return `Service ${name} does not exist (yet), or lacks the dask.org/cluster-name label`;
  if (!isControlledBy(service, cluster.metadata.uid)) return `Service ${name} is not controlled by this DaskCluster`;
  const spec = service.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  if (!DIALLABLE_TYPES.has(type)) return `Service ${name} is of type ${type}; the operator only dials ClusterIP (or headless), NodePort and LoadBalancer Services`;
  if (spec.externalName) return `Service ${name} sets externalName`;
  if ((spec.externalIPs ?? []).length > 0) return `Service ${name} sets externalIPs`;
  const want = schedulerSelector(cluster.metadata.name as string);
  const got = spec.selector ?? {};
  const same = Object.keys(got).length === Object.keys(want).length && Object.entries(want).every(([k, v]) => got[k] === v);
  if (!same) return `Service ${name} does not select exactly the operator's scheduler labels (${Object.entries(want).map(([k, v]) => `${k}=${v}`).join(',')})`;
  return undefined;
}

/** A client whose every call fails with SchedulerAccessRefused (and whose health is false): nothing is dialled. */
export function refusingSchedulerClient(message: string): SchedulerClient {
  const error = new SchedulerAccessRefused(message);
  const refuse = async (): Promise<never> => {
    throw error;
  };
  return {
    transport: 'http',
    lastError: error,
    health: async () => false,
    workers: refuse,
    workersToClose: refuse,
    retireWorkers: refuse,
    adaptiveTarget: refuse,
    idleSince: refuse,
    close: async () => undefined,
  };
}

export interface SchedulerClientPoolOptions {
  /** Builds a client for a cluster, or undefined when its scheduler cannot be reached from here. */
  readonly create: (cluster: DaskCluster) => SchedulerClient | undefined;
  /** The cached Services; when given, a client is handed out only while the cluster's Service passes the check. */
  readonly services?: CacheReader<Service>;
  /** Clusters whose address the operator's own configuration names (the address override): not checked. */
  readonly unchecked?: (cluster: DaskCluster) => boolean;
  /** Called with the number of pooled clients after each change (a metric). */
  readonly onSize?: (size: number) => void;
}

/**
 * One scheduler client per DaskCluster (`namespace/name`, tied to the cluster's uid), created on first use and closed
 * (with its idle connection) when the cluster is deleted or recreated.
 */
export class SchedulerClientPool {
  private readonly clients = new Map<string, { uid: string; client: SchedulerClient }>();

  constructor(private readonly opts: SchedulerClientPoolOptions) {}

  /** Number of pooled clients. */
  get size(): number {
    return this.clients.size;
  }

  /**
   * The cluster's client; a refusing client when its Service fails the check (see the module comment); undefined when
   * the scheduler cannot be reached from here at all.
   */
  get(cluster: DaskCluster): SchedulerClient | undefined {
    if (this.opts.services && !this.opts.unchecked?.(cluster)) {
      const ns = cluster.metadata.namespace as string;
      const problem = schedulerServiceProblem(cluster, this.opts.services.get(ns, schedulerName(cluster.metadata.name as string)));
      if (problem) return refusingSchedulerClient(`refusing to contact the scheduler: ${problem}`);
    }
    const key = `${cluster.metadata.namespace}/${cluster.metadata.name}`;
    const cached = this.clients.get(key);
    if (cached && cached.uid === cluster.metadata.uid) return cached.client;
    if (cached) this.forget(key);
    const client = this.opts.create(cluster);
    if (!client) return undefined;
    this.clients.set(key, { uid: cluster.metadata.uid as string, client });
    this.opts.onSize?.(this.clients.size);
    return client;
  }

  /** Closes and drops the client of `namespace/name` (call when the cluster is deleted). */
  forget(key: string): void {
    const cached = this.clients.get(key);
    if (!cached) return;
    this.clients.delete(key);
    void cached.client.close();
    this.opts.onSize?.(this.clients.size);
  }

  /** Forgets a cluster's client when the informer reports the cluster deleted. Returns the unsubscribe function. */
  watch(clusters: Watchable): () => void {
    return clusters.addHandler((ev) => {
      if (ev.type === 'delete') this.forget(`${ev.object.metadata?.namespace ?? ''}/${ev.object.metadata?.name}`);
    });
  }

  /** Closes every client (at shutdown). */
  closeAll(): void {
    for (const key of [...this.clients.keys()]) this.forget(key);
  }
}
