/**
 * Manager: runs informers, controllers and the cross-cutting services of one operator process.
 *
 * `start()`:
 * 1. starts the health/metrics server (if configured);
 * 2. starts every informer the controllers use and waits until all caches are synced;
 * 3. with leader election, campaigns for the Lease (caches stay warm while standing by, so a
 *    failover only waits for the lease), then runs the controllers' workers while leader;
 * 4. resolves after `stop()` (or SIGTERM/SIGINT with `handleSignals()`), once workers drained,
 *    informers stopped, the lease released and the server closed. It rejects with
 *    {@link LeaderElectionLostError} if the lease is lost: the process should exit non-zero so
 *    its replacement starts clean.
 */
import type { Clock } from './clock';
import { realClock } from './clock';
import { Controller, type ControllerOptions } from './controller';
import { startHealthServer, type HealthServer } from './health';
import type { Watchable } from './informer';
import { LeaderElector, type LeaderElectorOptions } from './leader';
import { nullLogger, type Logger } from './logger';
import type { RuntimeMetrics } from './metrics';
import type { KubeObject } from './object';

/** Raised by {@link Manager.start} when this process loses the leader Lease. */
export class LeaderElectionLostError extends Error {
  constructor(lease: string) {
    super(`lost the leader lease ${lease}; exiting so a fresh process can campaign again`);
    this.name = 'LeaderElectionLostError';
  }
}

/** Thrown by {@link Manager.assertMayWrite} (and so by fenced writes) when this process does not hold the Lease. */
export class NotLeaderError extends Error {
  constructor(method: string, path: string, lease: string) {
    super(`refused ${method} ${path}: this process does not hold the leader lease ${lease} (any more); another replica may be reconciling`);
    this.name = 'NotLeaderError';
  }
}

/** Options for a {@link Manager}. */
export interface ManagerOptions {
  /** @default nullLogger */
  readonly logger?: Logger;
  /** Metrics; also served on /metrics. @default none */
  readonly metrics?: RuntimeMetrics;
  /** @default realClock */
  readonly clock?: Clock;
  /** Lease-based leader election; omit to always run the controllers (single replica, tests). */
  readonly leaderElection?: Omit<LeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading' | 'clock' | 'logger'>;
  /** Health/metrics server address, or false for none. @default { host: '0.0.0.0', port: 8080 } */
  readonly server?: { readonly host?: string; readonly port?: number } | false;
  /** Give up starting if caches have not synced by then. @default 120_000 */
  readonly cacheSyncTimeoutMs?: number;
  /** Longest wait for in-flight reconciles at shutdown. @default 30_000 */
  readonly shutdownTimeoutMs?: number;
}

/** Runs controllers and their informers. */
export class Manager {
  private readonly logger: Logger;
  private readonly metrics?: RuntimeMetrics;
  private readonly clock: Clock;
  private readonly controllers: Controller[] = [];
  private readonly informers = new Set<Watchable>();
  private readonly stopCtl = new AbortController();
  private elector: LeaderElector | undefined;
  private server: HealthServer | undefined;
  private started = false;
  private synced = false;

  constructor(private readonly opts: ManagerOptions = {}) {
    this.logger = opts.logger ?? nullLogger;
    this.metrics = opts.metrics;
    this.clock = opts.clock ?? realClock;
  }

  /** Creates a controller with the manager's logger, metrics and clock, and registers it. */
  addController<T extends KubeObject>(opts: ControllerOptions<T>): Controller<T> {
    if (this.started) throw new Error(`could not add controller ${opts.name}: the manager has already started`);
    if (this.controllers.some((c) => c.name === opts.name)) {
      throw new Error(`could not add controller ${opts.name}: a controller with that name exists; names key logs and metrics and must be unique`);
    }
    const c = new Controller<T>(opts, { logger: this.logger, metrics: this.metrics, clock: this.clock });
    this.controllers.push(c as unknown as Controller);
    for (const inf of c.informers) this.addInformer(inf);
    return c;
  }

  /** Registers an informer not used by any controller (e.g. a cache a reconciler only reads). */
  addInformer(inf: Watchable): void {
    if (this.informers.has(inf)) return;
    this.informers.add(inf);
    const m = this.metrics;
    if (m) {
      m.initInformer(inf.name);
      inf.addRestartListener?.((reason) => m.watchRestarts.inc({ informer: inf.name, reason }));
    }
  }

  /** True once every informer has synced. */
  get cachesSynced(): boolean {
    return this.synced;
  }

  /** True when this process runs the controllers (always true without leader election). */
  get isLeader(): boolean {
    return this.elector ? this.elector.isLeader() : this.synced;
  }

  /**
   * Throws NotLeaderError unless this process may write now: always without leader election; with it, only while the
   * Lease is held and was renewed within the renew deadline ({@link LeaderElector.holdsLease}). Pass it as the write
   * guard of every client reconcilers write through (`rest.withWriteGuard(manager.writeGuard)`), so that losing the
   * Lease stops writes at once, even from reconciles still draining.
   */
  assertMayWrite(method: string, path: string): void {
    if (!this.opts.leaderElection) return;
    if (!this.elector?.holdsLease()) throw new NotLeaderError(method, path, this.elector?.leaseName ?? this.opts.leaderElection.name ?? 'dask-operator-leader');
  }

  /** {@link assertMayWrite}, bound: a WriteGuard for KubeRest. */
  readonly writeGuard = (method: string, path: string): void => this.assertMayWrite(method, path);

  /** The health server's URL, once started. */
  get serverUrl(): string | undefined {
    return this.server?.url;
  }

  /** The abort signal handed to reconcilers; aborted by `stop()`. */
  get signal(): AbortSignal {
    return this.stopCtl.signal;
  }

  /** Stops on SIGTERM/SIGINT. Returns a function that removes the handlers. */
  handleSignals(): () => void {
    const onSignal = (sig: NodeJS.Signals): void => {
      this.logger.info('received signal; shutting down', { signal: sig });
      void this.stop();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    return () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    };
  }

  /** Asks the manager to shut down; `start()` resolves when it has. */
  async stop(): Promise<void> {
    this.stopCtl.abort();
  }

  /** Runs until stopped. See the module comment for the sequence. */
  async start(): Promise<void> {
    if (this.started) throw new Error('could not start the manager: it was already started');
    this.started = true;
    const signal = this.stopCtl.signal;
    const stopped = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    let lost: LeaderElectionLostError | undefined;
    const runningControllers: Array<Promise<void>> = [];
    const workersCtl = new AbortController();
    signal.addEventListener('abort', () => workersCtl.abort(), { once: true });
    try {
      if (this.opts.server !== false) {
        const s = this.opts.server ?? {};
        this.server = await startHealthServer({
          host: s.host,
          port: s.port,
          metrics: this.metrics,
          logger: this.logger,
          readyz: () => this.readiness(),
        });
      }
      for (const inf of this.informers) inf.start();
      await this.waitForCaches(signal);
      if (signal.aborted) return;
      const runControllers = (): void => {
        for (const c of this.controllers) runningControllers.push(c.start(workersCtl.signal));
      };
      if (this.opts.leaderElection) {
        const le = this.opts.leaderElection;
        this.elector = new LeaderElector({
          ...le,
          clock: this.clock,
          logger: this.logger,
          onStartedLeading: () => {
            this.metrics?.leader.set({ lease: this.elector?.leaseName ?? '' }, 1);
            runControllers();
          },
          onStoppedLeading: () => {
            this.metrics?.leader.set({ lease: this.elector?.leaseName ?? '' }, 0);
            workersCtl.abort();
          },
        });
        this.metrics?.leader.set({ lease: this.elector.leaseName }, 0);
        const outcome = await this.elector.run(signal);
        if (outcome === 'lost') lost = new LeaderElectionLostError(this.elector.leaseName);
        else await stopped;
      } else {
        runControllers();
        await stopped;
      }
    } finally {
      this.stopCtl.abort();
      workersCtl.abort();
      await this.shutdown(runningControllers);
    }
    if (lost) throw lost;
  }

  private readiness(): { ok: boolean; detail: string } {
    const notSynced = [...this.informers].filter((i) => !i.hasSynced()).map((i) => i.name);
    if (notSynced.length > 0) return { ok: false, detail: `caches not synced: ${notSynced.join(', ')}` };
    if (!this.elector) return { ok: true, detail: 'ok: caches synced' };
    return { ok: true, detail: `ok: caches synced; ${this.elector.isLeader() ? 'leader' : 'standby'}` };
  }

  private async waitForCaches(signal: AbortSignal): Promise<void> {
    const timeoutMs = this.opts.cacheSyncTimeoutMs ?? 120_000;
    await Promise.all(
      [...this.informers].map(async (inf) => {
        await inf.waitForSync({ timeoutMs, signal });
        this.metrics?.informerSynced.set({ informer: inf.name }, 1);
      }),
    ).catch((e: unknown) => {
      if (signal.aborted) return;
      throw e;
    });
    if (!signal.aborted) {
      this.synced = true;
      this.logger.info('caches synced', { informers: this.informers.size });
    }
  }

  private async shutdown(running: Array<Promise<void>>): Promise<void> {
    const timeoutMs = this.opts.shutdownTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      Promise.allSettled(running).then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), timeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    if (!drained) this.logger.warn('in-flight reconciles did not finish before the shutdown timeout', { timeoutMs });
    await Promise.allSettled([...this.informers].map((i) => i.stop()));
    await this.elector?.release();
    await this.server?.close();
    this.server = undefined;
    this.logger.info('manager stopped');
  }
}
