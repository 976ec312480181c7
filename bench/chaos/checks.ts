/**
 * What `npm run chaos` checks after each round, as pure functions over what it read from the API server (unit-tested
 * in test/unit/chaos-checks.test.ts): exactly the requested number of worker Pods, each controlled by its group (no
 * duplicate), and every Pod controlled by an object that exists (no orphan) — a Pod whose controller is gone gets a
 * grace period, since the garbage collector removes such Pods asynchronously.
 */

export interface OwnerRefLike {
  readonly uid: string;
  readonly kind: string;
  readonly name: string;
  readonly controller?: boolean;
}

export interface PodLike {
  readonly metadata: {
    readonly name?: string;
    readonly uid?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly ownerReferences?: readonly OwnerRefLike[];
    readonly deletionTimestamp?: string;
    readonly creationTimestamp?: string;
  };
  readonly status?: { readonly phase?: string };
}

/** Not being deleted and not finished: a Pod that counts toward a group's size. */
export const isLive = (p: PodLike): boolean => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
export const isRunning = (p: PodLike): boolean => isLive(p) && p.status?.phase === 'Running';
export const controllerOf = (p: PodLike): OwnerRefLike | undefined => p.metadata.ownerReferences?.find((r) => r.controller === true);

/**
 * Problems with a worker group's Pods (`pods`: every Pod labelled with the group, terminating ones included) once it
 * should hold exactly `want` live workers controlled by `group`.
 */
export function workerProblems(pods: readonly PodLike[], group: { readonly name: string; readonly uid: string }, want: number): string[] {
  const live = pods.filter(isLive);
  const problems: string[] = [];
  if (live.length > want) problems.push(`${live.length} live worker Pods of DaskWorkerGroup ${group.name} where ${want} were requested: ${live.length - want} duplicate(s) (${names(live)})`);
  if (live.length < want) problems.push(`only ${live.length} of ${want} worker Pods of DaskWorkerGroup ${group.name} are live`);
  const notOurs = live.filter((p) => controllerOf(p)?.uid !== group.uid);
  if (notOurs.length > 0) {
    problems.push(`${notOurs.length} worker Pod(s) labelled for DaskWorkerGroup ${group.name} are not controlled by it (uid ${group.uid}): ${notOurs.map((p) => `${p.metadata.name} → ${describeController(p)}`).join(', ')}`);
  }
  return problems;
}

/** Problems with the scheduler Pods of a cluster: exactly one live. */
export function schedulerProblems(pods: readonly PodLike[], cluster: string): string[] {
  const live = pods.filter(isLive);
  return live.length === 1 ? [] : [`${live.length} live scheduler Pods for DaskCluster ${cluster} (want exactly 1)${live.length > 0 ? `: ${names(live)}` : ''}`];
}

/**
 * Tracks Pods whose controller does not exist. A Pod without any controller ownerReference is an orphan at once (no
 * garbage collector will ever remove it); one whose controller is gone is one only if it is still there `graceMs` after
 * it was first seen so. Each orphan is reported once.
 */
export class OrphanTracker {
  private readonly dangling = new Map<string, number>();
  private readonly reported = new Set<string>();

  constructor(private readonly graceMs: number) {}

  /** `owners`: uids of every object that may control a Pod in the namespace (clusters, groups, jobs), read before `pods`. */
  check(pods: readonly PodLike[], owners: ReadonlySet<string>, now: number): string[] {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const p of pods) {
      const id = p.metadata.uid ?? p.metadata.name ?? '';
      seen.add(id);
      if (this.reported.has(id)) continue;
      const ref = controllerOf(p);
      if (!ref) {
        this.reported.add(id);
        problems.push(`orphan Pod ${p.metadata.name}: no controller ownerReference, so nothing will ever delete it`);
        continue;
      }
      if (owners.has(ref.uid)) {
        this.dangling.delete(id);
        continue;
      }
      const since = this.dangling.get(id) ?? now;
      this.dangling.set(id, since);
      if (now - since > this.graceMs) {
        this.reported.add(id);
        problems.push(`orphan Pod ${p.metadata.name}: its controller ${ref.kind} ${ref.name} (uid ${ref.uid}) is gone and the Pod is still there ${Math.round((now - since) / 1000)} s later`);
      }
    }
    for (const id of this.dangling.keys()) if (!seen.has(id)) this.dangling.delete(id);
    return problems;
  }
}

/** Whether `now` is closer to `target` than `before` was (a step of reconciliation toward it). */
export function movedToward(before: number, now: number, target: number): boolean {
  return Math.abs(now - target) < Math.abs(before - target);
}

export interface Summary {
  readonly n: number;
  readonly max: number;
  readonly median: number;
  readonly p90: number;
}

export function summarize(xs: readonly number[]): Summary {
  if (xs.length === 0) return { n: 0, max: NaN, median: NaN, p90: NaN };
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, max: s[s.length - 1], median: s[Math.floor((s.length - 1) / 2)], p90: s[Math.min(s.length - 1, Math.ceil(s.length * 0.9) - 1)] };
}

/** A small seeded PRNG (mulberry32) in [0, 1), so a run's schedule can be repeated with CHAOS_SEED. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function names(pods: readonly PodLike[]): string {
  const n = pods.map((p) => p.metadata.name).slice(0, 8).join(', ');
  return pods.length > 8 ? `${n}, …` : n;
}

function describeController(p: PodLike): string {
  const ref = controllerOf(p);
  return ref ? `${ref.kind} ${ref.name} (uid ${ref.uid})` : 'no controller';
}
