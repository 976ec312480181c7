/**
 * What the Dask reconcilers share: caches to read, the API to write, Events, options and the scheduler access.
 */
import type { CacheReader } from '../runtime/informer';
import type { Logger } from '../runtime/logger';
import type { EventType } from '../runtime/events';
import type { KubeObject } from '../runtime/object';
import type { SchedulerClient } from '../scheduler';
import type { DaskAutoscaler, DaskCluster, DaskJob, DaskWorkerGroup, Pod, Service } from '../../lib/schema/generated/types';
import type { RenderOptions } from '../../lib/render';
import type { ResourceFlavor, Workload, WorkloadPriorityClass } from '../../lib/schema/kueue';
import type { DaskApi } from './api';
import { Expectations } from './expectations';
import type { OwnWrites } from './own-writes';
import type { DaskMetricsSink } from './metrics';

export interface DaskCaches {
  readonly clusters: CacheReader<DaskCluster>;
  readonly workerGroups: CacheReader<DaskWorkerGroup>;
  readonly autoscalers: CacheReader<DaskAutoscaler>;
  readonly jobs: CacheReader<DaskJob>;
  /** Pods labelled dask.org/cluster-name. */
  readonly pods: CacheReader<Pod>;
  /** Services labelled dask.org/cluster-name. */
  readonly services: CacheReader<Service>;
  /** Kueue's objects; present only when the Kueue integration is on (--kueue). */
  readonly kueue?: KueueCaches;
}

export interface KueueCaches {
  readonly workloads: CacheReader<Workload>;
  /** Cluster-scoped: get('', name). */
  readonly resourceFlavors: CacheReader<ResourceFlavor>;
  /** Cluster-scoped: get('', name). */
  readonly priorityClasses: CacheReader<WorkloadPriorityClass>;
}

export interface EventSinkLike {
  event(obj: KubeObject, type: EventType, reason: string, message: string): void;
}

/** What to do when graceful retirement through the scheduler is impossible. */
export type ScaleDownFallback = 'delete' | 'wait';

export interface DaskOperatorOptions extends RenderOptions {
  /** Pods created (or deleted) at once per worker group. @default 10 */
  readonly createParallelism: number;
  /** Worker Pods created per reconcile before yielding (the rest follow at once). @default 50 */
  readonly createBatchSize: number;
  /** @default 'delete' (newest first, announced in a condition and a Warning Event) */
  readonly scaleDownFallback: ScaleDownFallback;
  /** Autoscaler poll period. @default 5000 */
  readonly autoscalerPeriodMs: number;
  /** Idle-timeout poll period. @default 5000 */
  readonly idleCheckPeriodMs: number;
}

export const DEFAULT_OPTIONS: DaskOperatorOptions = {
  clusterDomain: 'cluster.local',
  createParallelism: 10,
  createBatchSize: 50,
  scaleDownFallback: 'delete',
  autoscalerPeriodMs: 5000,
  idleCheckPeriodMs: 5000,
};

export interface DaskContext {
  readonly caches: DaskCaches;
  readonly api: DaskApi;
  readonly events: EventSinkLike;
  readonly options: DaskOperatorOptions;
  readonly expectations: Expectations;
  /** Status writes the cache may not show yet (see own-writes.ts). */
  readonly ownWrites: OwnWrites;
  /** A client for the cluster's scheduler, or undefined when it cannot be reached from here. */
  schedulerClient(cluster: DaskCluster): SchedulerClient | undefined;
  readonly now: () => Date;
  readonly logger: Logger;
  /** Dask metrics (scale-downs, deleted workers, finished jobs); absent in unit tests. */
  readonly metrics?: DaskMetricsSink;
}
