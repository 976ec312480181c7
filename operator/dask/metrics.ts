/**
 * DaskMetrics: the Dask-specific Prometheus series of the operator, on the runtime's registry (operator/runtime/metrics.ts
 * holds the generic controller series: reconcile totals and durations, work queue, informers, leader, Events).
 *
 * State series are computed from the informer caches at scrape time (like kube-state-metrics), so they are right
 * after a restart and never drift from what the operator sees; counters and histograms are fed by the reconcilers.
 * Names follow the Prometheus conventions (`_total` counters, `_seconds` units) and KubeRay's style
 * (`kuberay_cluster_*`, `kuberay_job_*`): one prefix, the kind's name, then what is measured. Documented in
 * docs/reference.md (Metrics) and docs/monitoring.md.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DaskCaches } from './context';
import type { SchedulerClient } from '../scheduler';

/** How one scale-down step ended (the ScaledDownGracefully condition's reason, in snake case). */
export type ScaleDownOutcome = 'retired' | 'pending_removed' | 'deleted_without_retirement' | 'retire_failed';
/** Why worker Pods were deleted. */
export type WorkerDeletion = 'retired' | 'not_running' | 'without_retirement' | 'finished';
/** The scheduler calls the operator makes. */
export type SchedulerCall = 'health' | 'workers' | 'workers_to_close' | 'retire_workers' | 'adaptive_target' | 'idle_since';

const OUTCOMES: readonly ScaleDownOutcome[] = ['retired', 'pending_removed', 'deleted_without_retirement', 'retire_failed'];
const DELETIONS: readonly WorkerDeletion[] = ['retired', 'not_running', 'without_retirement', 'finished'];
const CALLS: readonly SchedulerCall[] = ['health', 'workers', 'workers_to_close', 'retire_workers', 'adaptive_target', 'idle_since'];
/** DaskCluster phases reported at 0 too, so `dask_operator_clusters{phase="Error"}` exists before the first error. */
const PHASES = ['Created', 'Pending', 'Running', 'Error'];
const JOB_STATUSES = ['JobCreated', 'ClusterCreated', 'Running', 'Successful', 'Failed'];

/** What the reconcilers report (optional in DaskContext, so unit tests need no registry). */
export interface DaskMetricsSink {
  scaleDown(outcome: ScaleDownOutcome): void;
  workersDeleted(reason: WorkerDeletion, count: number): void;
  jobFinished(succeeded: boolean, durationSeconds: number | undefined): void;
}

/** Options for {@link DaskMetrics}. */
export interface DaskMetricsOptions {
  /** Metric name prefix. @default 'dask_operator_' */
  readonly prefix?: string;
  /**
   * The status writes the cache has not shown yet (operator/dask/own-writes.ts), exposed as
   * `own_status_writes`. @default no such series
   */
  readonly ownWrites?: { readonly size: number };
}

export class DaskMetrics implements DaskMetricsSink {
  readonly scaleDowns: Counter<'outcome'>;
  readonly workersDeletedTotal: Counter<'reason'>;
  readonly schedulerCalls: Counter<'call' | 'result'>;
  readonly schedulerCallDuration: Histogram<'call'>;
  readonly jobDuration: Histogram<'result'>;

  constructor(registry: Registry, caches: DaskCaches, opts: DaskMetricsOptions = {}) {
    const p = opts.prefix ?? 'dask_operator_';
    const registers = [registry];
    const countBy = <T>(items: T[], key: (item: T) => string[]): Map<string, number> => {
      const m = new Map<string, number>();
      for (const item of items) {
        const k = JSON.stringify(key(item));
        m.set(k, (m.get(k) ?? 0) + 1);
      }
      return m;
    };

    new Gauge({
      name: `${p}clusters`,
      help: 'DaskClusters by namespace and status.phase (Created, Pending, Running, Error; None before the first status).',
      labelNames: ['namespace', 'phase'],
      registers,
      collect() {
        this.reset();
        const clusters = caches.clusters.list();
        for (const ns of new Set(clusters.map((c) => c.metadata.namespace ?? ''))) for (const phase of PHASES) this.set({ namespace: ns, phase }, 0);
        for (const [k, n] of countBy(clusters, (c) => [c.metadata.namespace ?? '', c.status?.phase ?? 'None'])) {
          const [namespace, phase] = JSON.parse(k) as string[];
          this.set({ namespace, phase }, n);
        }
      },
    });
    new Gauge({
      name: `${p}cluster_ready`,
      help: '1 when the DaskCluster\'s Ready condition is True, else 0.',
      labelNames: ['namespace', 'cluster'],
      registers,
      collect() {
        this.reset();
        for (const c of caches.clusters.list()) {
          const ready = c.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True';
          this.set({ namespace: c.metadata.namespace ?? '', cluster: c.metadata.name ?? '' }, ready ? 1 : 0);
        }
      },
    });
    const groupGauge = (name: string, help: string, value: (g: ReturnType<DaskCaches['workerGroups']['list']>[number]) => number): void => {
      new Gauge({
        name: `${p}${name}`,
        help,
        labelNames: ['namespace', 'cluster', 'workergroup'],
        registers,
        collect() {
          this.reset();
          for (const g of caches.workerGroups.list()) {
            this.set({ namespace: g.metadata.namespace ?? '', cluster: g.spec?.cluster ?? '', workergroup: g.metadata.name ?? '' }, value(g));
          }
        },
      });
    };
    groupGauge('workergroup_desired_workers', 'Workers a DaskWorkerGroup wants (spec.worker.replicas).', (g) => Math.max(0, g.spec?.worker?.replicas ?? 1));
    groupGauge('workergroup_workers', 'Live worker Pods of a DaskWorkerGroup (status.replicas).', (g) => g.status?.replicas ?? 0);
    groupGauge('workergroup_ready_workers', 'Ready worker Pods of a DaskWorkerGroup (status.readyReplicas).', (g) => g.status?.readyReplicas ?? 0);
    new Gauge({
      name: `${p}jobs`,
      help: 'DaskJobs by namespace and status.jobStatus (None before the first status).',
      labelNames: ['namespace', 'job_status'],
      registers,
      collect() {
        this.reset();
        const jobs = caches.jobs.list();
        for (const ns of new Set(jobs.map((j) => j.metadata.namespace ?? ''))) for (const s of JOB_STATUSES) this.set({ namespace: ns, job_status: s }, 0);
        for (const [k, n] of countBy(jobs, (j) => [j.metadata.namespace ?? '', j.status?.jobStatus ?? 'None'])) {
          const [namespace, status] = JSON.parse(k) as string[];
          this.set({ namespace, job_status: status }, n);
        }
      },
    });

    const ownWrites = opts.ownWrites;
    if (ownWrites) {
      new Gauge({
        name: `${p}own_status_writes`,
        help: 'Objects whose last status write by this process the informer cache had not shown when last looked up (read-your-own-writes entries; each goes at the object\'s next reconcile, or expires after 60 s and is swept at the next status write).',
        registers,
        collect() {
          this.set(ownWrites.size);
        },
      });
    }

    this.scaleDowns = new Counter({
      name: `${p}scale_downs_total`,
      help: 'Worker scale-down steps by outcome: retired (graceful, through the scheduler), pending_removed (only Pods not running yet), deleted_without_retirement (fallback delete: data on them is lost), retire_failed (fallback wait: workers kept).',
      labelNames: ['outcome'],
      registers,
    });
    this.workersDeletedTotal = new Counter({
      name: `${p}workers_deleted_total`,
      help: 'Worker Pods deleted by the operator, by reason: retired, not_running, without_retirement, finished (replaced after they exited).',
      labelNames: ['reason'],
      registers,
    });
    this.schedulerCalls = new Counter({
      name: `${p}scheduler_calls_total`,
      help: 'Calls to Dask schedulers by call and result (success or error).',
      labelNames: ['call', 'result'],
      registers,
    });
    this.schedulerCallDuration = new Histogram({
      name: `${p}scheduler_call_duration_seconds`,
      help: 'Duration of calls to Dask schedulers, by call (retire_workers waits for data to move).',
      labelNames: ['call'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.jobDuration = new Histogram({
      name: `${p}job_execution_duration_seconds`,
      help: 'DaskJob run time (status.startTime to status.endTime), observed when a job finishes, by result.',
      labelNames: ['result'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400],
      registers,
    });
    for (const outcome of OUTCOMES) this.scaleDowns.inc({ outcome }, 0);
    for (const reason of DELETIONS) this.workersDeletedTotal.inc({ reason }, 0);
    for (const call of CALLS) for (const result of ['success', 'error']) this.schedulerCalls.inc({ call, result }, 0);
  }

  scaleDown(outcome: ScaleDownOutcome): void {
    this.scaleDowns.inc({ outcome });
  }

  workersDeleted(reason: WorkerDeletion, count: number): void {
    if (count > 0) this.workersDeletedTotal.inc({ reason }, count);
  }

  jobFinished(succeeded: boolean, durationSeconds: number | undefined): void {
    if (durationSeconds !== undefined && durationSeconds >= 0) this.jobDuration.observe({ result: succeeded ? 'succeeded' : 'failed' }, durationSeconds);
  }

  /** The same client, with every call counted and timed. */
  instrument(client: SchedulerClient): SchedulerClient {
    const timed = <A extends unknown[], R>(call: SchedulerCall, fn: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
      const end = this.schedulerCallDuration.startTimer({ call });
      try {
        const r = await fn(...args);
        this.schedulerCalls.inc({ call, result: 'success' });
        return r;
      } catch (e) {
        this.schedulerCalls.inc({ call, result: 'error' });
        throw e;
      } finally {
        end();
      }
    };
    return {
      get transport() { return client.transport; },
      get lastError() { return client.lastError; },
      // health() never throws: a false answer is the error.
      health: async () => {
        const end = this.schedulerCallDuration.startTimer({ call: 'health' });
        const ok = await client.health();
        end();
        this.schedulerCalls.inc({ call: 'health', result: ok ? 'success' : 'error' });
        return ok;
      },
      workers: timed('workers', () => client.workers()),
      workersToClose: timed('workers_to_close', (n: number) => client.workersToClose(n)),
      retireWorkers: timed('retire_workers', (req: Parameters<SchedulerClient['retireWorkers']>[0]) => client.retireWorkers(req)),
      adaptiveTarget: timed('adaptive_target', () => client.adaptiveTarget()),
      idleSince: timed('idle_since', () => client.idleSince()),
      close: () => client.close(),
    };
  }
}
