/**
 * One variant of `npm run chaos`, for a fixed time on its own namespace with its own operator process:
 *
 *  - rounds: the default worker group of DaskCluster `chaos` alternates between 0 and N workers; each round waits for
 *    the group to converge (a deadline), pauses, then checks: exactly the requested worker Pods, each controlled by the
 *    group (no duplicate), one scheduler Pod, every Pod of the namespace controlled by an object that exists (no orphan);
 *  - DaskJob churn at the same time: jobs that succeed, fail or are deleted while running; each must reach its terminal
 *    state, lose its cluster, keep exactly one runner, and leave nothing behind once deleted;
 *  - chaos: `kill` SIGKILLs the operator every interval (half the kills land just after a scale change) and restarts
 *    it after a short pause; `proxy` runs the operator behind the fault proxy with light background faults and a heavy
 *    burst every interval (watches cut, 429/500/409, lost responses, latency);
 *  - "reconciliation resumes": at every kill (or burst start) the canary worker group is scaled (0 ↔ 1); the time from
 *    the operator's restart (or the burst's end) until the canary has converged, and until the main group's Pod count
 *    moves toward its target when it had work pending, must stay within the limit.
 *
 * Waits for state poll with deadlines; the only fixed pauses are the chaos schedule itself (when to kill, how long a
 * burst lasts, the pause between rounds).
 */
import * as fs from 'node:fs';
import { FaultProxy, type FaultKind, type FaultProfile } from '../../test/integration/support/fault-proxy';
import { OperatorProcess } from '../../test/integration/support/operator';
import { isLive, isRunning, movedToward, OrphanTracker, schedulerProblems, workerProblems, type PodLike } from './checks';
import { clusterManifest, groupManifest, jobManifest, World, type DaskObject, type JobKind } from './world';

export type Variant = 'kill' | 'proxy';

export interface ChaosParams {
  readonly minutes: number;
  /** Kill interval (kill) or burst interval (proxy). */
  readonly intervalMs: number;
  /** How long a fault burst lasts (proxy). */
  readonly burstMs: number;
  /** Workers in the scaled-up state. */
  readonly replicas: number;
  /** Deadline for a round (scale change → converged). */
  readonly roundTimeoutMs: number;
  /** Reconciliation must resume within this long after a restart or a burst. */
  readonly resumeLimitMs: number;
  readonly random: () => number;
  readonly seedFile: string;
  /** Admin kubeconfig of the control plane. */
  readonly kubeconfig: string;
}

/** Light faults all the time (proxy variant). */
export const BACKGROUND: FaultProfile = { latency: 0.1, latencyMs: [10, 150], tooManyRequests: 0.01, internalError: 0.005, lostResponse: 0.005, conflict: 0.02, watchRefused: 0.02, watchLifetimeMs: [15_000, 90_000] };
/** A burst: most requests meet a fault. */
export const BURST: FaultProfile = { latency: 0.5, latencyMs: [100, 1500], tooManyRequests: 0.25, internalError: 0.15, lostResponse: 0.05, conflict: 0.2, watchRefused: 0.5, watchLifetimeMs: [500, 4000] };

export interface Resume {
  readonly cause: 'restart' | 'burst';
  /** ms from the restart (burst end) to the canary converged. */
  readonly canaryMs: number;
  /** ms from the restart (burst end) to the main group's first step toward its target, when it had work pending. */
  readonly mainMs?: number;
}

export interface RoundResult {
  readonly target: number;
  readonly ok: boolean;
  readonly convergeMs?: number;
  /** Most live workers seen during the round above the target (transient extra Pods the operator removed again). */
  readonly overshoot: number;
}

export interface VariantResult {
  readonly variant: Variant;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly rounds: RoundResult[];
  readonly resumes: Resume[];
  readonly kills: number;
  readonly midScaleKills: number;
  readonly bursts: number;
  readonly faults?: Record<FaultKind, number>;
  readonly jobs: Record<JobKind, number> & { created: number; ok: number };
  readonly failures: string[];
}

const CLUSTER = 'chaos';
const MAIN = `${CLUSTER}-default`;
const CANARY = `${CLUSTER}-canary`;
const JOB_TIMEOUT_MS = 120_000;
const GONE_TIMEOUT_MS = 90_000;
const RESUME_PROBE_MS = 60_000;
const MAX_JOBS = 3;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

interface MainState {
  round: number;
  target: number;
  converged: boolean;
  /** Live workers at the last observation, and when. */
  live: number;
  seenAt: number;
}

export class VariantRun {
  private readonly world: World;
  private readonly ns: string;
  private readonly failures: string[] = [];
  private readonly rounds: RoundResult[] = [];
  private readonly resumes: Resume[] = [];
  private readonly jobs = { created: 0, ok: 0, succeed: 0, fail: 0, cancel: 0 };
  private readonly orphans = new OrphanTracker(60_000);
  private readonly flipWaiters: Array<() => void> = [];
  private main: MainState = { round: -1, target: 0, converged: true, live: 0, seenAt: 0 };
  private canary = { target: 0, generation: 0 };
  private kills = 0;
  private midScaleKills = 0;
  private bursts = 0;
  private endAt = 0;
  private proxy?: FaultProxy;
  private op!: OperatorProcess;
  private operatorLogShown = 0;

  constructor(readonly variant: Variant, private readonly p: ChaosParams, private readonly out: (line: string) => void) {
    this.ns = `chaos-${variant}`;
    this.world = new World(p.kubeconfig, this.ns);
  }

  private log(line: string): void {
    this.out(`[chaos ${this.variant}] ${line}`);
  }

  private fail(what: string): void {
    let text = what;
    // The operator's own account of the first few failures (its log goes with the run's temp dir).
    if (this.operatorLogShown++ < 3) text += `\n  operator log tail:\n${this.op.tail(25).split('\n').map((l) => `    ${l}`).join('\n')}`;
    this.failures.push(text);
    this.log(`FAILURE ${what}`);
  }

  async run(): Promise<VariantResult> {
    const t0 = Date.now();
    await this.world.createNamespace();
    if (this.variant === 'proxy') {
      this.proxy = new FaultProxy([], { upstreamKubeconfig: this.p.kubeconfig, random: this.p.random });
      await this.proxy.start();
    }
    this.op = new OperatorProcess({ namespaces: [this.ns], kubeconfig: this.proxy?.kubeconfig ?? this.p.kubeconfig, args: ['--log-level=info'] });
    try {
      this.op.start();
      const cluster = clusterManifest(this.p.seedFile, CLUSTER, 0);
      await this.world.create('daskclusters', cluster);
      await this.world.create('daskworkergroups', groupManifest(cluster, CANARY, 0));
      const ready = await this.until('the default and canary worker groups reconciled', 60_000, async () => {
        const [g, c] = await Promise.all([this.world.get('daskworkergroups', MAIN), this.world.get('daskworkergroups', CANARY)]);
        const done = [g, c].every((o) => o !== undefined && (o.status?.observedGeneration ?? 0) >= (o.metadata.generation ?? 1));
        return { done, seen: `default ${g ? JSON.stringify(g.status ?? {}) : 'missing'}, canary ${c ? JSON.stringify(c.status ?? {}) : 'missing'}` };
      });
      if (!ready.ok) throw new Error(`chaos ${this.variant}: ${ready.seen}`);
      this.proxy?.setProfile(BACKGROUND);
      this.endAt = Date.now() + this.p.minutes * 60_000;
      this.log(`running for ${this.p.minutes} min (until ${new Date(this.endAt).toISOString()})`);
      // A loop that throws stops the others at their next turn (each is bounded by its own deadlines).
      const stopAll = (e: unknown): never => {
        this.endAt = 0;
        throw e;
      };
      const loops = await Promise.allSettled([this.scaleRounds(), this.jobChurn(), this.variant === 'kill' ? this.killer() : this.burster()].map((l) => l.catch(stopAll)));
      for (const l of loops) if (l.status === 'rejected') this.fail(`a chaos loop stopped: ${l.reason instanceof Error ? l.reason.message : String(l.reason)}`);
      await this.finish();
    } catch (e) {
      this.fail(`the run stopped early: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      await this.op.dispose();
      await this.proxy?.stop();
    }
    return {
      variant: this.variant,
      startedAt: new Date(t0).toISOString(),
      durationMs: Date.now() - t0,
      rounds: this.rounds,
      resumes: this.resumes,
      kills: this.kills,
      midScaleKills: this.midScaleKills,
      bursts: this.bursts,
      faults: this.proxy?.counts(),
      jobs: this.jobs,
      failures: this.failures,
    };
  }

  /** Polls `probe` every `intervalMs` until it says done or `timeoutMs` passed; never throws for a failed read. */
  private async until(what: string, timeoutMs: number, probe: () => Promise<{ done: boolean; seen: string }>, intervalMs = 250): Promise<{ ok: boolean; ms: number; seen: string }> {
    const start = Date.now();
    let seen = 'nothing read yet';
    for (;;) {
      try {
        const r = await probe();
        seen = r.seen;
        if (r.done) return { ok: true, ms: Date.now() - start, seen };
      } catch (e) {
        seen = `read failed: ${e instanceof Error ? e.message : String(e)}`;
      }
      if (Date.now() - start > timeoutMs) return { ok: false, ms: Date.now() - start, seen: `timed out after ${secs(timeoutMs)} waiting for ${what}; last seen: ${seen}` };
      await sleep(intervalMs);
    }
  }

  // ---- rounds -------------------------------------------------------------------------------------------------

  private async scaleRounds(): Promise<void> {
    for (let k = 0; Date.now() < this.endAt; k++) await this.round(k, k % 2 === 0 ? this.p.replicas : 0);
  }

  private workersOf(pods: readonly PodLike[], group: string): PodLike[] {
    return pods.filter((p) => p.metadata.labels?.['dask.org/workergroup-name'] === group && p.metadata.labels?.['dask.org/component'] === 'worker');
  }

  private async round(k: number, target: number): Promise<void> {
    const started = Date.now();
    const group = await this.world.scale(MAIN, target);
    const generation = group.metadata.generation ?? 0;
    this.main = { ...this.main, round: k, target, converged: false };
    this.flipWaiters.splice(0).forEach((w) => w());
    /** Live workers at the first look, and the most seen after it (above both it and the target: extra Pods). */
    let first: number | undefined;
    let peak = 0;
    const converged = await this.until(`round ${k}: DaskWorkerGroup ${MAIN} at ${target} workers`, this.p.roundTimeoutMs, async () => {
      const [pods, g] = await Promise.all([this.world.pods(`dask.org/workergroup-name=${MAIN}`), this.world.get('daskworkergroups', MAIN)]);
      const live = pods.filter(isLive);
      this.main.live = live.length;
      this.main.seenAt = Date.now();
      first ??= live.length;
      peak = Math.max(peak, live.length);
      const podsDone = target === 0 ? pods.length === 0 : live.length === target && live.every(isRunning);
      const st = g?.status;
      return {
        done: podsDone && (st?.observedGeneration ?? 0) >= generation && st?.replicas === target,
        seen: `${live.length} live worker Pods (${pods.length} with terminating/finished), generation ${g?.metadata.generation}, status ${JSON.stringify({ observedGeneration: st?.observedGeneration, replicas: st?.replicas, readyReplicas: st?.readyReplicas })}, operator ${this.op.running ? `running (pid ${this.op.pid})` : 'not running'}`,
      };
    }, 200);
    const overshoot = Math.max(0, peak - Math.max(target, first ?? 0));
    if (!converged.ok) {
      this.fail(`round ${k} (→ ${target}): ${converged.seen}`);
      this.rounds.push({ target, ok: false, overshoot });
      this.main.converged = true; // do not wait on it for resume measurements
      return;
    }
    this.main.converged = true;
    // The pause between rounds comes before the checks, so that a late duplicate (a create from a stale view) is seen.
    await sleep(500 + 2000 * this.p.random());
    const owners = await this.world.ownerUids();
    const all = await this.world.pods();
    const problems = [
      ...workerProblems(this.workersOf(all, MAIN), { name: MAIN, uid: group.metadata.uid }, target),
      ...schedulerProblems(all.filter((p) => p.metadata.labels?.['dask.org/cluster-name'] === CLUSTER && p.metadata.labels?.['dask.org/component'] === 'scheduler'), CLUSTER),
      ...this.orphans.check(all, owners, Date.now()),
    ];
    for (const problem of problems) this.fail(`round ${k} (→ ${target}): ${problem}`);
    this.rounds.push({ target, ok: problems.length === 0, convergeMs: converged.ms, overshoot });
    this.log(`round ${k} → ${target}: converged in ${secs(converged.ms)}${overshoot > 0 ? `, ${overshoot} extra Pod(s) seen on the way` : ''}${problems.length > 0 ? `, ${problems.length} problem(s)` : ''}`);
  }

  /** Resolves true at the next scale change, false after `ms`. */
  private nextFlip(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.flipWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  // ---- DaskJob churn ------------------------------------------------------------------------------------------

  private async jobChurn(): Promise<void> {
    const inflight = new Set<Promise<void>>();
    for (let k = 0; Date.now() < this.endAt; k++) {
      if (inflight.size < MAX_JOBS) {
        const job: Promise<void> = this.job(k).catch((e: unknown) => this.fail(`DaskJob job-${k}: ${e instanceof Error ? e.message : String(e)}`)).finally(() => inflight.delete(job));
        inflight.add(job);
      }
      await sleep(2000 + 4000 * this.p.random());
    }
    await Promise.all(inflight);
  }

  private async job(k: number): Promise<void> {
    const r = this.p.random();
    const kind: JobKind = r < 0.6 ? 'succeed' : r < 0.8 ? 'fail' : 'cancel';
    const name = `job-${k}`;
    await this.world.create('daskjobs', jobManifest(this.ns, name, kind, 1 + 4 * this.p.random()));
    this.jobs.created++;
    const status = async (): Promise<DaskObject['status'] | undefined> => (await this.world.get('daskjobs', name))?.status;
    const gone = async (what: string, alsoJob: boolean): Promise<boolean> => {
      const w = await this.until(what, GONE_TIMEOUT_MS, async () => {
        const [job, cluster, pods] = await Promise.all([alsoJob ? this.world.get('daskjobs', name) : undefined, this.world.get('daskclusters', name), this.world.pods(`dask.org/cluster-name=${name}`)]);
        const held = alsoJob ? pods : pods.filter((p) => p.metadata.labels?.['dask.org/component'] !== 'job-runner');
        return { done: !job && !cluster && held.length === 0, seen: `${job ? 'DaskJob still there, ' : ''}${cluster ? `DaskCluster ${name} still there, ` : ''}${held.length} Pod(s): ${held.map((p) => p.metadata.name).join(', ')}` };
      }, 500);
      if (!w.ok) this.fail(`DaskJob ${name} (${kind}): ${w.seen}`);
      return w.ok;
    };
    if (kind === 'cancel') {
      const running = await this.until(`DaskJob ${name} Running`, JOB_TIMEOUT_MS, async () => {
        const s = await status();
        return { done: s?.jobStatus === 'Running', seen: `jobStatus ${s?.jobStatus ?? '(none)'}` };
      }, 500);
      if (!running.ok) return this.fail(`DaskJob ${name} (cancel): ${running.seen}`);
      await sleep(1000 + 3000 * this.p.random()); // the churn: delete it while it runs
      await this.world.delete('daskjobs', name);
      if (!(await gone(`DaskJob ${name}, its cluster and every Pod of it to go`, true))) return;
    } else {
      const want = kind === 'succeed' ? 'Successful' : 'Failed';
      const end = await this.until(`DaskJob ${name} ${want}`, JOB_TIMEOUT_MS, async () => {
        const s = await status();
        return { done: s?.jobStatus === 'Successful' || s?.jobStatus === 'Failed', seen: `jobStatus ${s?.jobStatus ?? '(none)'}, attempts ${s?.attempts ?? '-'}` };
      }, 500);
      if (!end.ok) return this.fail(`DaskJob ${name} (${kind}): ${end.seen}`);
      const s = await status();
      if (s?.jobStatus !== want) return this.fail(`DaskJob ${name} (${kind}): ended ${s?.jobStatus}, expected ${want}`);
      const runners = (await this.world.pods(`dask.org/cluster-name=${name},dask.org/component=job-runner`)).filter((p) => !p.metadata.deletionTimestamp);
      if (runners.length !== 1 || s.attempts !== 1) return this.fail(`DaskJob ${name} (${kind}): ${runners.length} runner Pod(s) (${runners.map((p) => p.metadata.name).join(', ')}) and attempts ${s.attempts}; want exactly 1 of each`);
      if (!(await gone(`the cluster of DaskJob ${name} and its scheduler and worker Pods to go`, false))) return;
      await this.world.delete('daskjobs', name);
      if (!(await gone(`DaskJob ${name} and its runner Pod to go`, true))) return;
    }
    this.jobs[kind]++;
    this.jobs.ok++;
  }

  // ---- chaos --------------------------------------------------------------------------------------------------

  private async bumpCanary(): Promise<{ target: number; generation: number }> {
    const target = this.canary.target === 0 ? 1 : 0;
    const g = await this.world.scale(CANARY, target);
    this.canary = { target, generation: g.metadata.generation ?? 0 };
    return this.canary;
  }

  private async canaryConverged(c: { target: number; generation: number }): Promise<{ done: boolean; seen: string }> {
    const [g, pods] = await Promise.all([this.world.get('daskworkergroups', CANARY), this.world.pods(`dask.org/workergroup-name=${CANARY}`)]);
    const live = pods.filter(isLive);
    const podsDone = c.target === 0 ? pods.length === 0 : live.length === 1 && isRunning(live[0]);
    const st = g?.status;
    return { done: podsDone && (st?.observedGeneration ?? 0) >= c.generation && st?.replicas === c.target, seen: `canary: ${live.length}/${c.target} live, observedGeneration ${st?.observedGeneration}/${c.generation}` };
  }

  /** From `t0` (restart or burst end): time to the canary converged and to the main group's first step, when it had work. */
  private async measureResume(cause: Resume['cause'], t0: number, canary: { target: number; generation: number }, main: MainState): Promise<void> {
    const mainPending = !main.converged;
    let canaryMs: number | undefined;
    let mainMs: number | undefined;
    const r = await this.until(`reconciliation to resume after the ${cause} at ${new Date(t0).toISOString()}`, RESUME_PROBE_MS, async () => {
      if (canaryMs === undefined && (await this.canaryConverged(canary)).done) canaryMs = Date.now() - t0;
      const m = this.main;
      if (mainPending && mainMs === undefined && (m.round !== main.round || m.converged || (m.seenAt > t0 && movedToward(main.live, m.live, main.target)))) {
        mainMs = Math.max(0, Math.min(Date.now(), m.seenAt > t0 ? m.seenAt : Date.now()) - t0);
      }
      return {
        done: canaryMs !== undefined && (!mainPending || mainMs !== undefined),
        seen: `canary ${canaryMs === undefined ? 'not converged' : `converged after ${secs(canaryMs)}`}; main group ${mainPending ? (mainMs === undefined ? `no step from ${main.live} toward ${main.target} (now ${m.live})` : `moved after ${secs(mainMs)}`) : 'had nothing pending'}`,
      };
    }, 100);
    if (!r.ok) return this.fail(r.seen);
    this.resumes.push({ cause, canaryMs: canaryMs as number, mainMs });
    this.log(`reconciliation resumed after the ${cause}: ${r.seen}`);
    const worst = Math.max(canaryMs as number, mainMs ?? 0);
    if (worst > this.p.resumeLimitMs) this.fail(`reconciliation resumed ${secs(worst)} after the ${cause} (limit ${secs(this.p.resumeLimitMs)}): ${r.seen}`);
  }

  /** The operator's pid, after checking /proc/PID/cmdline says it is the operator this run started. */
  private ourOperatorPid(): number {
    const pid = this.op.pid;
    if (pid === undefined || !this.op.running) throw new Error('the operator is not running');
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (!cmdline.some((a) => a.endsWith('/operator/main.js')) || !cmdline.includes(`--namespaces=${this.ns}`)) {
      throw new Error(`pid ${pid} is not this run's operator (cmdline: ${cmdline.join(' ')}); not killing it`);
    }
    return pid;
  }

  private async killer(): Promise<void> {
    for (let next = Date.now() + this.p.intervalMs; next < this.endAt; next += this.p.intervalMs) {
      await sleep(next - Date.now());
      if (!this.op.running) {
        this.fail('the operator exited by itself between kills');
        this.op.start();
        continue;
      }
      // Half the kills wait (at most 8 s) for the next scale change and land 0–0.4 s after it; the others land where the schedule falls.
      if (this.p.random() < 0.5 && (await this.nextFlip(8_000))) await sleep(400 * this.p.random());
      const pid = this.ourOperatorPid();
      await this.op.kill();
      const mid = !this.main.converged;
      this.kills++;
      if (mid) this.midScaleKills++;
      const canary = await this.bumpCanary();
      await sleep(200 + 1800 * this.p.random()); // down for a moment; scale changes and jobs carry on
      const main = { ...this.main };
      this.op.start();
      const t0 = Date.now();
      this.log(`SIGKILLed operator pid ${pid}${mid ? ' mid-scaling' : ''}; restarted as pid ${this.op.pid}`);
      await this.measureResume('restart', t0, canary, main);
    }
  }

  private async burster(): Promise<void> {
    const proxy = this.proxy as FaultProxy;
    for (let next = Date.now() + this.p.intervalMs; next < this.endAt; next += this.p.intervalMs) {
      await sleep(next - Date.now());
      if (!this.op.running) {
        this.fail('the operator exited by itself behind the fault proxy');
        this.op.start();
      }
      proxy.setProfile(BURST);
      const cut = proxy.cutWatches();
      this.bursts++;
      const canary = await this.bumpCanary();
      await sleep(this.p.burstMs);
      const main = { ...this.main };
      proxy.setProfile(BACKGROUND);
      const t0 = Date.now();
      this.log(`fault burst ${this.bursts} over (${secs(this.p.burstMs)}, ${cut} watches cut at its start); faults so far ${JSON.stringify(proxy.counts())}`);
      await this.measureResume('burst', t0, canary, main);
    }
  }

  // ---- the end ------------------------------------------------------------------------------------------------

  /** Chaos off; everything scaled to 0 and deleted; nothing may be left behind. */
  private async finish(): Promise<void> {
    this.proxy?.setProfile({});
    if (!this.op.running) {
      this.fail('the operator was not running at the end of the run');
      this.op.start();
    }
    this.log('chaos over: scaling to 0, deleting the cluster, checking that nothing is left');
    await this.world.scale(MAIN, 0);
    await this.world.scale(CANARY, 0);
    const idle = await this.until('every worker Pod gone after scaling to 0', GONE_TIMEOUT_MS, async () => {
      const pods = (await this.world.pods(`dask.org/cluster-name=${CLUSTER},dask.org/component=worker`));
      return { done: pods.length === 0, seen: `${pods.length} worker Pod(s)` };
    });
    if (!idle.ok) this.fail(`final scale to 0: ${idle.seen}`);
    await this.world.delete('daskclusters', CLUSTER);
    const empty = await this.until('the namespace to hold no Pod and no Dask object', GONE_TIMEOUT_MS, async () => {
      const [pods, groups, clusters, jobs] = await Promise.all([this.world.pods(), this.world.list('daskworkergroups'), this.world.list('daskclusters'), this.world.list('daskjobs')]);
      return { done: pods.length + groups.length + clusters.length + jobs.length === 0, seen: `${pods.length} Pod(s) (${pods.map((p) => p.metadata.name).slice(0, 10).join(', ')}), ${groups.length} group(s), ${clusters.length} cluster(s), ${jobs.length} job(s)` };
    }, 500);
    if (!empty.ok) this.fail(`after deleting everything: ${empty.seen}`);
  }
}
