/**
 * The pure parts of `npm run chaos`: its round checks (bench/chaos/checks.ts) and the fault proxy's per-request draw
 * (test/integration/support/fault-proxy.ts).
 */
import { movedToward, OrphanTracker, schedulerProblems, seededRandom, summarize, workerProblems, type PodLike } from '../../bench/chaos/checks';
import { decide, isGuardedWrite } from '../integration/support/fault-proxy';

const pod = (name: string, controller?: { uid: string; kind?: string }, extra: { deleting?: boolean; phase?: string } = {}): PodLike => ({
  metadata: {
    name,
    uid: `uid-${name}`,
    ownerReferences: controller ? [{ uid: controller.uid, kind: controller.kind ?? 'DaskWorkerGroup', name: 'g', controller: true }] : [],
    ...(extra.deleting ? { deletionTimestamp: '2026-12-01T00:00:00Z' } : {}),
  },
  status: { phase: extra.phase ?? 'Running' },
});

describe('chaos round checks', () => {
  const group = { name: 'g', uid: 'g-uid' };

  test('exactly the requested live workers, all controlled by the group: no problem; terminating and finished Pods do not count', () => {
    const pods = [pod('a', group), pod('b', group), pod('c', group, { deleting: true }), pod('d', group, { phase: 'Succeeded' })];
    expect(workerProblems(pods, group, 2)).toEqual([]);
  });

  test('one too many is a duplicate; one controlled by someone else is named', () => {
    expect(workerProblems([pod('a', group), pod('b', group), pod('c', group)], group, 2)).toEqual([expect.stringMatching(/^3 live worker Pods .* 1 duplicate\(s\) \(a, b, c\)$/)]);
    const problems = workerProblems([pod('a', group), pod('x', { uid: 'old-uid' })], group, 2);
    expect(problems).toEqual([expect.stringMatching(/^1 worker Pod\(s\) .* not controlled by it .*x → DaskWorkerGroup g \(uid old-uid\)$/)]);
  });

  test('too few live workers', () => {
    expect(workerProblems([pod('a', group)], group, 2)).toEqual(['only 1 of 2 worker Pods of DaskWorkerGroup g are live']);
  });

  test('scheduler: exactly one live', () => {
    expect(schedulerProblems([pod('s', { uid: 'c' }), pod('old', { uid: 'c' }, { deleting: true })], 'c')).toEqual([]);
    expect(schedulerProblems([pod('s1', { uid: 'c' }), pod('s2', { uid: 'c' })], 'c')).toEqual(['2 live scheduler Pods for DaskCluster c (want exactly 1): s1, s2']);
  });

  test('orphans: no controller at once; a gone controller only after the grace period, and each orphan once', () => {
    const t = new OrphanTracker(60_000);
    const owners = new Set(['g-uid']);
    expect(t.check([pod('ok', group), pod('loose')], owners, 0)).toEqual(['orphan Pod loose: no controller ownerReference, so nothing will ever delete it']);
    const dangling = pod('left', { uid: 'gone' });
    expect(t.check([pod('loose'), dangling], owners, 1_000)).toEqual([]);
    expect(t.check([dangling], owners, 50_000)).toEqual([]);
    expect(t.check([dangling], owners, 62_000)).toEqual([expect.stringMatching(/^orphan Pod left: its controller DaskWorkerGroup g \(uid gone\) is gone and the Pod is still there 61 s later$/)]);
    expect(t.check([dangling], owners, 90_000)).toEqual([]);
  });

  test('a Pod whose controller is gone but that goes within the grace period is no orphan, nor when seen again later', () => {
    const t = new OrphanTracker(10_000);
    const p = pod('p', { uid: 'gone' });
    expect(t.check([p], new Set(), 0)).toEqual([]);
    expect(t.check([], new Set(), 5_000)).toEqual([]);
    expect(t.check([p], new Set(), 12_000)).toEqual([]);
  });

  test('movedToward, summarize, seededRandom', () => {
    expect(movedToward(0, 10, 50)).toBe(true);
    expect(movedToward(50, 50, 0)).toBe(false);
    expect(movedToward(10, 12, 0)).toBe(false);
    expect(summarize([5, 1, 3, 2, 4])).toEqual({ n: 5, max: 5, median: 3, p90: 5 });
    expect(summarize([]).n).toBe(0);
    const a = seededRandom(7);
    const b = seededRandom(7);
    const xs = Array.from({ length: 5 }, () => a());
    expect(xs).toEqual(Array.from({ length: 5 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe('fault proxy draw', () => {
  const seq = (...xs: number[]) => () => xs.shift() ?? 0.99;

  test('no profile, no fault', () => {
    expect(decide({}, { method: 'POST', watch: false, body: '{}' }, Math.random)).toEqual({ kind: 'forward', delayMs: 0 });
  });

  test('one draw picks among the refusals in order; latency is drawn apart', () => {
    const p = { tooManyRequests: 0.1, internalError: 0.1, lostResponse: 0.1, conflict: 0.1, latency: 0.5, latencyMs: [100, 200] as const };
    const guarded = JSON.stringify({ metadata: { resourceVersion: '7' }, status: {} });
    expect(decide(p, { method: 'PATCH', watch: false, body: guarded }, seq(0.9, 0.05))).toEqual({ kind: 'refuse', fault: 'too-many-requests', status: 429, delayMs: 0 });
    expect(decide(p, { method: 'PATCH', watch: false, body: guarded }, seq(0.9, 0.15))).toEqual({ kind: 'refuse', fault: 'internal-error', status: 500, delayMs: 0 });
    expect(decide(p, { method: 'PATCH', watch: false, body: guarded }, seq(0.9, 0.25))).toEqual({ kind: 'lost-response', delayMs: 0 });
    expect(decide(p, { method: 'PATCH', watch: false, body: guarded }, seq(0.9, 0.35))).toEqual({ kind: 'conflict', delayMs: 0 });
    expect(decide(p, { method: 'PATCH', watch: false, body: guarded }, seq(0.1, 0.5, 0.45))).toEqual({ kind: 'forward', delayMs: 150 });
  });

  test('reads are never lost or conflicted; unguarded writes never meet a conflict; watches only get refused', () => {
    const p = { lostResponse: 0.5, conflict: 0.5, watchRefused: 0.3, tooManyRequests: 0 };
    expect(decide(p, { method: 'GET', watch: false, body: '' }, seq(0.9, 0.1))).toEqual({ kind: 'forward', delayMs: 0 });
    expect(decide(p, { method: 'PATCH', watch: false, body: '{"spec":{}}' }, seq(0.9, 0.7))).toEqual({ kind: 'forward', delayMs: 0 });
    expect(decide(p, { method: 'GET', watch: true, body: '' }, seq(0.9, 0.2))).toEqual({ kind: 'refuse', fault: 'watch-refused', status: 500, delayMs: 0 });
    expect(decide(p, { method: 'GET', watch: true, body: '' }, seq(0.9, 0.4))).toEqual({ kind: 'forward', delayMs: 0 });
  });

  test('guarded writes: PUT or PATCH with metadata.resourceVersion', () => {
    expect(isGuardedWrite('PATCH', '{"metadata":{"resourceVersion":"12"}}')).toBe(true);
    expect(isGuardedWrite('PUT', '{"metadata":{"resourceVersion":"12"},"spec":{}}')).toBe(true);
    expect(isGuardedWrite('PATCH', '{"spec":{"worker":{"replicas":1}}}')).toBe(false);
    expect(isGuardedWrite('POST', '{"metadata":{"resourceVersion":"12"}}')).toBe(false);
    expect(isGuardedWrite('PATCH', 'not json')).toBe(false);
  });
});
