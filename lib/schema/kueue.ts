/**
 * The parts of Kueue's API (kueue.x-k8s.io/v1beta2, Kueue v0.19) that the operator's Kueue integration reads and
 * writes, as plain wire types: a Workload per queued DaskJob, and the ResourceFlavors and WorkloadPriorityClasses it
 * refers to. Field names are Kueue's; only what the integration uses is declared.
 */
import type { Condition, ObjectMeta, PodSpec, Toleration } from './generated/types';

export const KUEUE_GROUP = 'kueue.x-k8s.io';
export const KUEUE_VERSION = 'v1beta2';
export const KUEUE_API_VERSION = `${KUEUE_GROUP}/${KUEUE_VERSION}`;

/** Pod sets of a DaskJob's Workload. */
export const POD_SET_SCHEDULER = 'scheduler';
export const POD_SET_WORKER = 'worker';
export const POD_SET_RUNNER = 'runner';
export type DaskPodSetName = typeof POD_SET_SCHEDULER | typeof POD_SET_WORKER | typeof POD_SET_RUNNER;

/** Workload condition types Kueue sets and the integration reads (or, for Finished and Requeued, writes). */
export type WorkloadConditionType = 'QuotaReserved' | 'Admitted' | 'Evicted' | 'Preempted' | 'Requeued' | 'Finished' | 'PodsReady';

export interface WorkloadPodSet {
  name: string;
  count: number;
  template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
}

export interface PodSetAssignment {
  name: string;
  /** Resource name → ResourceFlavor name. */
  flavors?: Record<string, string>;
  resourceUsage?: Record<string, number | string>;
  count?: number;
}

export interface PodSetUpdate {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
}

export interface Workload {
  apiVersion: typeof KUEUE_API_VERSION;
  kind: 'Workload';
  metadata: ObjectMeta;
  spec: {
    podSets: WorkloadPodSet[];
    queueName?: string;
    priorityClassRef?: { group: string; kind: string; name: string };
    priority?: number;
    active?: boolean;
  };
  status?: {
    conditions?: Condition[];
    admission?: { clusterQueue: string; podSetAssignments: PodSetAssignment[] } | null;
    admissionChecks?: { name: string; state?: string; podSetUpdates?: PodSetUpdate[] }[];
  };
}

export interface ResourceFlavor {
  apiVersion: typeof KUEUE_API_VERSION;
  kind: 'ResourceFlavor';
  metadata: ObjectMeta;
  spec?: { nodeLabels?: Record<string, string>; tolerations?: Toleration[] };
}

export interface WorkloadPriorityClass {
  apiVersion: typeof KUEUE_API_VERSION;
  kind: 'WorkloadPriorityClass';
  metadata: ObjectMeta;
  value: number;
}

/** Where one pod set was admitted: what its Pods must carry to land on the admitted flavor's nodes. */
export interface PodSetPlacement {
  readonly nodeSelector?: Record<string, string>;
  readonly tolerations?: readonly Toleration[];
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

/** Placement of every pod set of an admitted DaskJob. */
export type JobPlacement = Partial<Record<DaskPodSetName, PodSetPlacement>>;
