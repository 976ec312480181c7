/**
 * The report of bench/vs-upstream.ts: its result types, and Markdown + JSON (a BenchResult of bench/chart.ts) rendered
 * from the raw results of one invocation or of several pooled ones (bench/vs-upstream-pool.ts).
 *
 * Pure: no clock, no environment, no files. Everything the text states (sizes, timeouts, the command, the load) comes
 * from {@link ReportSettings}, which each result file records, so that a report can be rendered again from its JSON.
 */
import type { BenchChart, BenchPoint, BenchSeries } from './chart';
import { median, p90 } from './support';

export type SubjectId = 'ours' | 'upstream';

export interface WorkersRun {
  up: number | null;
  down: number | null;
  requestsPerWorker?: { operator: number; kcm: number; scheduler: number };
  scale?: { up: number | null; down: number | null };
  userAgents?: Record<string, number>;
}

/**
 * rssMiB and heapMiB as the process has them (comparable with the earlier runs); retainedHeapMiB and ownWrites after a
 * full garbage collection (ours only).
 */
export interface MemPoint { pods: number; rssMiB: number; heapMiB?: number; retainedHeapMiB?: number; rssAfterGcMiB?: number; ownWrites?: number }

export interface ClustersRun {
  memory: MemPoint[];
  applyMs: number | null;
  /** The operator's requests from the first create until it was quiet, by "verb resource[/subresource]". */
  applyRequests?: Record<string, number>;
  steady?: { requestsPerS: number; watchesPerS: number; cpuSecondsPerMin: number; userAgents: Record<string, number>; quietAfterMs: number | null; retainedHeapMiB?: number; ownWrites?: number };
  /** resyncInWindow: the operator listed during the changes — a periodic resync (or a relist after an expired watch). */
  changes?: { requestsPerS: number; queueP50Ms?: number; queueP99Ms?: number; reconciles?: number; resyncInWindow?: boolean };
  deleteMs: number | null;
}

export interface AutoscalersRun {
  ready: boolean;
  cpuSecondsPerMin: number;
  requestsPerMin: number;
  userAgents: Record<string, number>;
  /** Ours: DaskAutoscaler reconciles per minute in the same window (its `dask_operator_reconcile_total`). */
  reconcilesPerMin?: number;
  /** Deleting the clusters and autoscalers until all are gone (null: not within the clean-up timeout). */
  deleteMs?: number | null;
  /** Objects the bench had to remove finalizers from after that timeout. */
  finalizersRemoved?: number;
}

/** A clean-up that did not finish in time, after which the bench removed the finalizers of what was left. */
export interface ForcedCleanup { during: string; finalizersRemoved: number }

/** The raw results of one invocation, as its JSON file holds them (`raw`). */
export interface RawResults {
  /** Keyed `<operator>:<N>` and `<operator>:scale`. */
  workers: Record<string, WorkersRun[]>;
  /** Keyed by N. */
  floor: Record<string, { up: number | null; down: number | null }[]>;
  clusters: Partial<Record<SubjectId, ClustersRun[]>>;
  autoscalers: Partial<Record<SubjectId, AutoscalersRun[]>>;
  /** Absent in files written before it was recorded. */
  forcedCleanups?: ForcedCleanup[];
}

/** What a report states about how it was measured; recorded in each result file (`settings`). */
export interface ReportSettings {
  /** The bench's variables as set for the run, e.g. `BENCH_CLUSTERS=1000`. */
  command: string[];
  /** `<cores> × <model>, <GiB> GiB, Node <version>`. */
  machine: string;
  fakeNodes: number;
  load: { start: number[]; end: number[] };
  sizes: number[];
  clusters: number;
  autoscalers: number;
  stepTimeoutMs: number;
  scaleDownTimeoutMs: number;
  settleMs: number;
  steadyMs: number;
  quietTimeoutMs: number;
  autoscalerCleanupTimeoutMs: number;
  /** The window of 10 changes per second (clusters scenario). */
  changesMs: number;
  /** Timeouts of each quarter of the clusters' apply, and of their delete. */
  clusterStepTimeoutMs: number;
  clusterDeleteTimeoutMs: number;
}

/** The bench's defaults (bench/vs-upstream.ts reads its variables over these). */
export const DEFAULT_SETTINGS: Omit<ReportSettings, 'command' | 'machine' | 'fakeNodes' | 'load'> = {
  sizes: [100, 1000],
  clusters: 1000,
  autoscalers: 100,
  stepTimeoutMs: 600_000,
  scaleDownTimeoutMs: 60_000,
  settleMs: 10_000,
  steadyMs: 60_000,
  quietTimeoutMs: 180_000,
  autoscalerCleanupTimeoutMs: 180_000,
  changesMs: 30_000,
  clusterStepTimeoutMs: 600_000,
  clusterDeleteTimeoutMs: 1_800_000,
};

/** One invocation's results: what a report is rendered from (several when pooled). */
export interface Source {
  /** Where it came from (a result file), shown when several are pooled. */
  name: string;
  date: string;
  versions: Partial<Record<SubjectId, string>>;
  settings: ReportSettings;
  /** Set when the file recorded no settings (written before they were recorded): K and N from its results, the rest defaults. */
  settingsAssumed?: boolean;
  raw: RawResults;
}

export interface ReportOutput { md: string; json: { bench: string; date: string; machine: string; versions: Record<string, string>; charts: BenchChart[]; [k: string]: unknown } }

export const fmt = (ms: number | null | undefined): string => (ms === null || ms === undefined ? 'timed out' : `${(ms / 1000).toFixed(2)} s`);

export interface Stats { median: number | null; p90: number | null; finished: number; runs: number }
/** Median and p90 over the runs; null when any run did not finish (a timeout is not a number). */
export function stats(xs: (number | null)[]): Stats {
  const ok = xs.filter((x): x is number => x !== null);
  return { median: ok.length === xs.length && ok.length > 0 ? median(ok) : null, p90: ok.length === xs.length && ok.length > 0 ? p90(ok) : null, finished: ok.length, runs: xs.length };
}

const SUBJECTS: SubjectId[] = ['ours', 'upstream'];

/** The operators present in any source, ours first. */
function subjectsOf(sources: Source[]): SubjectId[] {
  return SUBJECTS.filter((id) => sources.some((s) => s.versions[id] !== undefined));
}

/** One run of a scenario with where it came from: the source's index and the run's index in it. */
interface Tagged<T> { source: number; index: number; run: T }
function runsOf<T>(sources: Source[], pick: (raw: RawResults) => T[] | undefined): Tagged<T>[] {
  return sources.flatMap((s, source) => (pick(s.raw) ?? []).map((run, index) => ({ source, index, run })));
}

/**
 * Ratios ours / upstream of a figure, one per pair of runs measured in the same invocation (the i-th run of each; they
 * alternate), skipping pairs where either is missing.
 */
function pairRatios<T>(sources: Source[], pick: (raw: RawResults, id: SubjectId) => T[] | undefined, value: (run: T) => number | null | undefined): number[] {
  const out: number[] = [];
  for (const s of sources) {
    const a = pick(s.raw, 'ours') ?? [];
    const b = pick(s.raw, 'upstream') ?? [];
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const x = value(a[i]);
      const y = value(b[i]);
      if (typeof x === 'number' && typeof y === 'number' && y !== 0) out.push(x / y);
    }
  }
  return out;
}

/** Retained heap per managed Pod (ours) and RSS per managed Pod of one clusters run. */
function slopes(run: ClustersRun): { rss: number | null; heap: number | null; retained: number | null } {
  const first = run.memory[0];
  const last = run.memory.at(-1) ?? first;
  if (!first || last.pods === 0) return { rss: null, heap: null, retained: null };
  const per = (a?: number, b?: number) => (a !== undefined && b !== undefined ? (b - a) / last.pods : null);
  return { rss: per(first.rssMiB, last.rssMiB), heap: per(first.heapMiB, last.heapMiB), retained: per(first.retainedHeapMiB, last.retainedHeapMiB) };
}

const requestsPerCluster = (run: ClustersRun, k: number): number | null => (run.applyRequests ? Object.values(run.applyRequests).reduce((a, b) => a + b, 0) / k : null);

/** "median / p90" of plain numbers with a formatter, or "–". */
function spread(xs: (number | null | undefined)[], f: (x: number) => string): string {
  const ok = xs.filter((x): x is number => typeof x === 'number');
  if (ok.length === 0) return '–';
  const all = ok.length === xs.length ? '' : ` (${ok.length} of ${xs.length} runs)`;
  return `${f(median(ok))} / ${f(p90(ok))}${all}`;
}

/** "median (range min–max, n pairs)" of ratios, or "–". */
function ratioCell(rs: number[]): string {
  if (rs.length === 0) return '–';
  return rs.length === 1 ? rs[0].toFixed(2) : `${median(rs).toFixed(2)} (${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)}, ${rs.length} pairs)`;
}

/**
 * Checks that the sources measured the same thing (sizes, timeouts) and the same upstream version; returns the
 * settings they share. Throws naming both sources and the field otherwise.
 */
export function commonSettings(sources: Source[]): ReportSettings {
  if (sources.length === 0) throw new Error('vs-upstream report: no results to report');
  const [first, ...rest] = sources;
  const keys: (keyof ReportSettings)[] = ['sizes', 'clusters', 'autoscalers', 'stepTimeoutMs', 'scaleDownTimeoutMs', 'settleMs', 'steadyMs', 'quietTimeoutMs', 'autoscalerCleanupTimeoutMs', 'changesMs', 'clusterStepTimeoutMs', 'clusterDeleteTimeoutMs'];
  for (const s of rest) {
    for (const k of keys) {
      if (JSON.stringify(s.settings[k]) !== JSON.stringify(first.settings[k])) {
        throw new Error(`vs-upstream report: ${s.name} has ${k} = ${JSON.stringify(s.settings[k])} but ${first.name} has ${JSON.stringify(first.settings[k])}; pool only runs measured the same way`);
      }
    }
    for (const id of SUBJECTS) {
      const a = first.versions[id];
      const b = s.versions[id];
      // Ours is named with its commit (pooling across commits is the caller's decision: the report lists each);
      // upstream is a released package and must be the same one.
      if (id === 'upstream' && a !== undefined && b !== undefined && a !== b) {
        throw new Error(`vs-upstream report: ${s.name} measured ${b} but ${first.name} measured ${a}; pool only runs of the same upstream version`);
      }
    }
  }
  return first.settings;
}

/** Renders the report (Markdown and the JSON with raw results and charts) of one or more sources. */
export function renderReport(sources: Source[], pooledBy?: string): ReportOutput {
  const settings = commonSettings(sources);
  const pooled = sources.length > 1;
  const ids = subjectsOf(sources);
  const label = (id: SubjectId) => [...new Set(sources.map((s) => s.versions[id]).filter((v): v is string => v !== undefined))].join(' / ');
  const date = sources.map((s) => s.date).sort().at(-1) ?? '';
  /** A run's label in the tables: its number, prefixed with its source's when pooled ("2.1": source 2, run 1). */
  const runLabel = (t: { source: number; index: number }) => (pooled ? `${t.source + 1}.${t.index + 1}` : `${t.index + 1}`);
  const cell = (s: Stats, timeoutNote: string) =>
    s.median === null ? (s.runs === 0 ? '–' : `did not finish (${s.runs - s.finished}/${s.runs} runs ${timeoutNote})`) : `${(s.median / 1000).toFixed(2)} s (p90 ${((s.p90 ?? 0) / 1000).toFixed(2)})`;
  const ratio = (a: Stats, b: Stats) => (a.median !== null && b.median !== null ? (a.median / b.median).toFixed(2) : '–');
  const fixed = (d: number) => (x: number) => x.toFixed(d);
  const seconds = (x: number) => `${(x / 1000).toFixed(1)} s`;

  const md: string[] = [`# This operator vs upstream, at scale, ${date}`, ''];
  if (!pooled && sources[0].settingsAssumed && sources[0].settings.command.length === 0) {
    const s = sources[0];
    md.push(`Rendered again from \`${s.name}\`, which recorded no settings: K and N taken from its results, the rest the bench's defaults. Operators: ${ids.map((id) => `**${id}** = ${s.versions[id]}`).join('; ')}.`);
  } else if (!pooled) {
    const s = sources[0];
    md.push(
      `\`npm run bench -- vs-upstream\` (${s.settings.command.join(', ')}).`,
      `Operators: ${ids.map((id) => `**${id}** = ${s.versions[id]}`).join('; ')}. One full-tier control plane (kube-apiserver, kube-controller-manager, kube-scheduler v1.36 and kwok with ${s.settings.fakeNodes} fake nodes of 110 Pods), operators alternating, each with its own CRDs.`,
      `Machine: ${s.settings.machine}; load average ${s.settings.load.start.map(fixed(2)).join(' ')} at the start, ${s.settings.load.end.map(fixed(2)).join(' ')} at the end.`,
    );
  } else {
    md.push(
      `Pooled by \`${pooledBy ?? 'npm run bench:pool'}\` from ${sources.length} invocations of \`npm run bench -- vs-upstream\`, each on its own full-tier control plane (kube-apiserver, kube-controller-manager, kube-scheduler v1.36 and kwok), operators alternating within each. Medians and p90 are over every run; a ratio ours / upstream is taken per pair of runs from the same invocation (its i-th run of each operator), and the table gives the median of those ratios with their range.`,
      '',
      '| source | date | command | operators | load average at start → end | machine |',
      '| --- | --- | --- | --- | --- | --- |',
      ...sources.map((s, i) => `| ${i + 1}: \`${s.name}\` | ${s.date} | ${s.settings.command.length > 0 ? s.settings.command.join(', ') : '(not recorded)'}${s.settingsAssumed ? ' (the JSON recorded no settings: K and N taken from its results, the command, machine and load from its Markdown report where it has them, timeouts the bench\'s defaults)' : ''} | ${ids.map((id) => `**${id}** = ${s.versions[id] ?? '–'}`).join('; ')} | ${s.settings.load.start.length > 0 ? `${s.settings.load.start.map(fixed(2)).join(' ')} → ${s.settings.load.end.map(fixed(2)).join(' ')}` : '(not recorded)'} | ${s.settings.machine} |`),
      '',
    );
  }
  md.push('Neither operator reaches a Dask scheduler (kwok runs no processes): ours runs with `--scheduler-access=none` (scale-down deletes the newest Pods); upstream keeps trying to reach the scheduler.', '');

  const charts: BenchChart[] = [];
  const merged = <T>(pick: (raw: RawResults) => Record<string, T[]> | undefined) => {
    const out: Record<string, T[]> = {};
    for (const s of sources) for (const [k, v] of Object.entries(pick(s.raw) ?? {})) out[k] = [...(out[k] ?? []), ...v];
    return out;
  };
  const workers = merged((r) => r.workers);
  const floor = merged((r) => r.floor);

  if (Object.keys(workers).length > 0) {
    md.push('## Workers: start-up, delete, scale', '', `Medians of ${Math.max(0, ...Object.values(workers).map((v) => v.length))} runs per operator and N (p90). Ratios: operator / floor (the same Pods created or deleted by a bare client, 10 requests at a time) and ours / upstream.`, '');
    const header = ['what', ...ids, 'floor', ...ids.map((i) => `${i} / floor`), ...(ids.length === 2 ? ['ours / upstream'] : [])];
    md.push(`| ${header.join(' | ')} |`, `|${header.map(() => ' --- |').join('')}`);
    const startSeries = new Map<string, BenchPoint[]>();
    const deleteSeries = new Map<string, BenchPoint[]>();
    for (const n of settings.sizes) {
      for (const [what, pick, series] of [['apply → all Ready', (w: { up: number | null }) => w.up, startSeries], ['delete → Pods gone', (w: { down: number | null }) => w.down, deleteSeries]] as const) {
        const per = ids.map((id) => stats((workers[`${id}:${n}`] ?? []).map(pick)));
        const fl = stats((floor[String(n)] ?? []).map(pick));
        md.push(`| N = ${n}: ${what} | ${per.map((s) => cell(s, `timed out after ${settings.stepTimeoutMs / 1000} s`)).join(' | ')} | ${cell(fl, 'timed out')} | ${per.map((s) => ratio(s, fl)).join(' | ')}${ids.length === 2 ? ` | ${ratio(per[0], per[1])}` : ''} |`);
        [...ids, 'floor'].forEach((id, i) => {
          const s = i < ids.length ? per[i] : fl;
          series.set(id, [...(series.get(id) ?? []), { x: n, y: s.median === null ? null : s.median / 1000, ...(s.p90 !== null ? { p90: s.p90 / 1000 } : {}), ...(s.median === null ? { note: `timeout ${settings.stepTimeoutMs / 1000} s` } : {}) }]);
        });
      }
    }
    for (const [what, pick, timeout] of [['scale 100 → 200 (all Ready)', (w: WorkersRun) => w.scale?.up ?? null, settings.stepTimeoutMs / 1000], ['scale 200 → 100 (100 worker Pods left)', (w: WorkersRun) => w.scale?.down ?? null, settings.scaleDownTimeoutMs / 1000]] as const) {
      const per = ids.map((id) => stats((workers[`${id}:scale`] ?? []).map(pick)));
      md.push(`| ${what} | ${per.map((s) => cell(s, `timed out after ${timeout} s`)).join(' | ')} | – | ${ids.map(() => '–').join(' | ')}${ids.length === 2 ? ` | ${ratio(per[0], per[1])}` : ''} |`);
    }
    md.push('', '**API requests per worker created** (start-up runs; from the audit log, by User-Agent; medians):', '', `| N | ${ids.map((i) => `${i}: operator | ${i}: kube-controller-manager`).join(' | ')} |`, `| --- |${ids.map(() => ' --- | --- |').join('')}`);
    for (const n of settings.sizes) {
      md.push(`| ${n} | ${ids.map((id) => {
        const runs = (workers[`${id}:${n}`] ?? []).map((w) => w.requestsPerWorker).filter((x): x is NonNullable<typeof x> => x !== undefined);
        return runs.length === 0 ? '– | –' : `${median(runs.map((x) => x.operator)).toFixed(2)} | ${median(runs.map((x) => x.kcm)).toFixed(2)}`;
      }).join(' | ')} |`);
    }
    const uas = ids.map((id) => `${id}: ${JSON.stringify((workers[`${id}:${settings.sizes[0]}`] ?? [])[0]?.userAgents ?? {})}`);
    md.push('', `User-Agents counted as the operator (first run, N = ${settings.sizes[0]}): ${uas.join('; ')}.`, '');
    const toSeries = (m: Map<string, BenchPoint[]>): BenchSeries[] => [...m.entries()].map(([id, points]) => ({ label: id === 'floor' ? 'floor (bare client)' : label(id as SubjectId), points }));
    charts.push({ id: 'startup', title: 'apply → N workers Ready (kwok)', xLabel: 'workers (N)', yLabel: 'seconds (median, p90 whisker)', logX: true, series: toSeries(startSeries) });
    charts.push({ id: 'delete', title: 'delete → every Pod gone (kwok)', xLabel: 'workers (N)', yLabel: 'seconds (median, p90 whisker)', logX: true, series: toSeries(deleteSeries) });
  }

  const clusterRuns = new Map(ids.map((id) => [id, runsOf(sources, (r) => r.clusters[id])] as const));
  if ([...clusterRuns.values()].some((r) => r.length > 0)) {
    const k = settings.clusters;
    const counts = ids.map((id) => `${clusterRuns.get(id)?.length ?? 0} of ${id}`).join(', ');
    md.push(`## ${k} DaskClusters (1 scheduler + 1 worker each)`, '', `${counts} run(s); memory sampled ${settings.settleMs / 1000} s after each quarter of the clusters was Ready (RSS of the operator's process tree; heap: V8's, ours only). Slope = (RSS at ${2 * k} Pods − idle RSS) / ${2 * k} managed Pods. Idle: ${settings.steadyMs / 1000} s once the operator sent nothing but watches for 10 s (waited for at most ${settings.quietTimeoutMs / 1000} s); then 10 changes per second for ${settings.changesMs / 1000} s; timeouts ${settings.clusterStepTimeoutMs / 1000} s per quarter of the apply, ${settings.clusterDeleteTimeoutMs / 1000} s for the delete.`, '');
    md.push(`| operator | run | apply → all Ready | idle RSS | RSS at all Pods | MiB per managed Pod | heap per Pod | quiet after | steady requests/s (watches/s) | steady CPU-s/min | 10 changes/s: requests/s | queue wait p50 / p99 | delete → Pods gone |`, '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const id of ids) {
      for (const t of clusterRuns.get(id) ?? []) {
        const { run } = t;
        const first = run.memory[0];
        const last = run.memory.at(-1) ?? first;
        const sl = slopes(run);
        md.push(`| ${id} | ${runLabel(t)} | ${fmt(run.applyMs)} | ${first.rssMiB.toFixed(0)} MiB | ${last.rssMiB.toFixed(0)} MiB (${last.pods} Pods) | ${sl.rss?.toFixed(3) ?? '–'} | ${sl.heap?.toFixed(3) ?? '–'} | ${run.steady ? (run.steady.quietAfterMs === undefined ? 'not waited for' : run.steady.quietAfterMs === null ? `not quiet in ${settings.quietTimeoutMs / 1000} s` : fmt(run.steady.quietAfterMs)) : '–'} | ${run.steady ? `${run.steady.requestsPerS.toFixed(2)} (${run.steady.watchesPerS.toFixed(2)})` : '–'} | ${run.steady?.cpuSecondsPerMin.toFixed(2) ?? '–'} | ${run.changes?.requestsPerS.toFixed(2) ?? '–'} | ${run.changes?.queueP50Ms !== undefined ? `${run.changes.queueP50Ms.toFixed(1)} / ${run.changes.queueP99Ms?.toFixed(1)} ms${run.changes.resyncInWindow ? ' (a resync in the window)' : ''}` : 'not exposed'} | ${fmt(run.deleteMs)} |`);
      }
    }
    // Medians / p90 per operator, and ratios per pair of runs of the same invocation.
    const multi = ids.filter((id) => (clusterRuns.get(id)?.length ?? 0) > 1);
    if (multi.length > 0 || ids.length === 2) {
      md.push('', `Over all runs: median / p90 per operator${ids.length === 2 ? '; ours / upstream: the median of the per-pair ratios (their range, the number of pairs)' : ''}.`, '');
      md.push('| figure | ' + ids.join(' | ') + (ids.length === 2 ? ' | ours / upstream |' : ' |'), `| --- |${ids.map(() => ' --- |').join('')}${ids.length === 2 ? ' --- |' : ''}`);
      const rows: [string, (r: ClustersRun) => number | null | undefined, (x: number) => string][] = [
        ['apply → all Ready', (r) => r.applyMs, seconds],
        ['delete → Pods gone', (r) => r.deleteMs, seconds],
        ['operator requests per cluster (first create until quiet)', (r) => requestsPerCluster(r, k), fixed(1)],
        ['RSS at all Pods (MiB)', (r) => r.memory.at(-1)?.rssMiB, fixed(0)],
        ['MiB RSS per managed Pod', (r) => slopes(r).rss, fixed(3)],
        ['MiB retained heap per managed Pod (after a full GC)', (r) => slopes(r).retained, fixed(4)],
        ['steady requests/s (watches apart)', (r) => (r.steady ? r.steady.requestsPerS - r.steady.watchesPerS : undefined), fixed(2)],
        ['steady CPU-s/min', (r) => r.steady?.cpuSecondsPerMin, fixed(2)],
        ['10 changes/s: queue wait p99 (ms)', (r) => r.changes?.queueP99Ms, fixed(1)],
      ];
      for (const [what, value, f] of rows) {
        const cells = ids.map((id) => spread((clusterRuns.get(id) ?? []).map((t) => value(t.run)), f));
        if (cells.every((c) => c === '–')) continue;
        const rs = ids.length === 2 ? ratioCell(pairRatios(sources, (raw, id) => raw.clusters[id], value)) : '';
        md.push(`| ${what} | ${cells.join(' | ')}${ids.length === 2 ? ` | ${rs}` : ''} |`);
      }
      const timedOut = ids.flatMap((id) => (clusterRuns.get(id) ?? []).filter((t) => t.run.applyMs === null || t.run.deleteMs === null).map((t) => `${id} run ${runLabel(t)}`));
      if (timedOut.length > 0) md.push('', `Runs with a step that timed out (left out of the medians of that step): ${timedOut.join(', ')}.`);
    }
    const retained = ids.flatMap((id) => (clusterRuns.get(id) ?? []).map((t) => ({ id, ...t }))).filter(({ run }) => run.memory[0]?.retainedHeapMiB !== undefined);
    if (retained.length > 0) {
      md.push('', 'Retained memory (ours): V8 heap used after a full garbage collection (requested through the inspector) and the status writes held for read-your-own-writes (`dask_operator_own_status_writes`), at each sample:', '');
      md.push(`| operator | run | ${settings.settleMs / 1000} s after each quarter Ready: managed Pods → heap after GC (RSS after it) (own status writes held) | retained heap per managed Pod | idle (quiet, then ${settings.steadyMs / 1000} s): heap after GC (own status writes held) |`, '| --- | --- | --- | --- | --- |');
      for (const t of retained) {
        const { id, run } = t;
        const sl = slopes(run).retained;
        const idle = run.steady?.retainedHeapMiB !== undefined ? `${run.steady.retainedHeapMiB.toFixed(1)} MiB (${run.steady.ownWrites ?? '?'})` : '–';
        md.push(`| ${id} | ${runLabel(t)} | ${run.memory.map((m) => `${m.pods} → ${m.retainedHeapMiB?.toFixed(1) ?? '?'} MiB${m.rssAfterGcMiB !== undefined ? ` (RSS ${m.rssAfterGcMiB.toFixed(0)})` : ''} (${m.ownWrites ?? '?'})`).join(', ')} | ${sl === null ? '–' : `${sl.toFixed(4)} MiB`} | ${idle} |`);
      }
    }
    md.push('', `Steady-state User-Agents (first run): ${ids.map((id) => `${id}: ${JSON.stringify(clusterRuns.get(id)?.[0]?.run.steady?.userAgents ?? {})}`).join('; ')}.`, '');
    for (const id of ids) {
      // The breakdown of the run with the median total (one run's own figures: files of different days may name the
      // same requests differently, e.g. "get ?" before non-resource requests were named).
      const withReq = (clusterRuns.get(id) ?? []).filter((t) => t.run.applyRequests !== undefined).map((t) => ({ ...t, total: requestsPerCluster(t.run, k) ?? 0 }));
      if (withReq.length === 0) continue;
      const mid = withReq.find((t) => t.total === median(withReq.map((x) => x.total))) ?? withReq[0];
      const per = Object.entries(mid.run.applyRequests ?? {}).map(([kind, n]) => [kind, n / k] as const).filter(([, n]) => n >= 0.005).sort((a, b) => b[1] - a[1]);
      const which = withReq.length > 1 ? ` (run ${runLabel(mid)}, the one with the median total of ${withReq.length})` : '';
      md.push(`Operator requests per cluster, ${id}, from the first create until quiet${which}: ${mid.total.toFixed(2)} (${per.map(([kind, n]) => `${kind}${kind === 'get ?' ? ' (non-resource URLs: files before 2026-12-02 noon did not name them)' : ''} ${n.toFixed(2)}`).join(', ')}).`, '');
    }
    // Memory vs managed Pods: the median over the runs at each sample (the samples are at the same Pod counts), p90 as the whisker.
    const memSeries: BenchSeries[] = [];
    for (const id of ids) {
      const runs = (clusterRuns.get(id) ?? []).map((t) => t.run);
      const points = (pick: (m: MemPoint) => number | undefined): BenchPoint[] | undefined => {
        const n = Math.min(...runs.map((r) => r.memory.length));
        if (runs.length === 0 || runs.some((r) => pick(r.memory[0]) === undefined)) return undefined;
        return Array.from({ length: n }, (_, i) => {
          const ys = runs.map((r) => pick(r.memory[i]) ?? NaN).filter((y) => Number.isFinite(y));
          return { x: runs[0].memory[i].pods, y: ys.length > 0 ? median(ys) : null, ...(ys.length > 1 ? { p90: p90(ys) } : {}) };
        });
      };
      const suffix = runs.length > 1 ? ` (median of ${runs.length})` : '';
      for (const [what, pick] of [['RSS', (m: MemPoint) => m.rssMiB], ['V8 heap', (m: MemPoint) => m.heapMiB], ['V8 heap after a full GC', (m: MemPoint) => m.retainedHeapMiB]] as const) {
        const p = points(pick);
        if (p) memSeries.push({ label: `${label(id)} ${what}${suffix}`, points: p });
      }
    }
    charts.push({ id: 'memory', title: 'operator memory vs managed Pods (kwok)', xLabel: 'managed Pods', yLabel: 'MiB', series: memSeries });
  }

  const autoscalerRuns = new Map(ids.map((id) => [id, runsOf(sources, (r) => r.autoscalers[id])] as const));
  if ([...autoscalerRuns.values()].some((r) => r.length > 0)) {
    const cleanup = settings.autoscalerCleanupTimeoutMs / 1000;
    md.push(`## ${settings.autoscalers} idle DaskAutoscalers`, '', `${ids.map((id) => `${autoscalerRuns.get(id)?.length ?? 0} of ${id}`).join(', ')} run(s). Over ${settings.steadyMs / 1000} s, after every cluster was Ready and ${(2 * settings.settleMs) / 1000} s of settling; then every cluster and autoscaler deleted (waited for at most ${cleanup} s; after that the bench removes the finalizers of what is left, so that the next run starts empty).`, '', `| operator | run | all Ready | CPU-seconds per minute | API requests per minute | reconciles per minute (CPU ms each) | delete → all gone | User-Agents |`, '| --- | --- | --- | --- | --- | --- | --- | --- |');
    const perReconcile = (r: AutoscalersRun) => (r.reconcilesPerMin === undefined ? '–' : r.reconcilesPerMin === 0 ? '0' : `${r.reconcilesPerMin.toFixed(0)} (${((r.cpuSecondsPerMin * 1000) / r.reconcilesPerMin).toFixed(2)})`);
    const gone = (run: AutoscalersRun) => (run.deleteMs === undefined ? '–' : run.deleteMs === null ? `not in ${cleanup} s (${run.finalizersRemoved} held by finalizers)` : fmt(run.deleteMs));
    for (const id of ids) for (const t of autoscalerRuns.get(id) ?? []) md.push(`| ${id} | ${runLabel(t)} | ${t.run.ready ? 'yes' : 'no (timed out)'} | ${t.run.cpuSecondsPerMin.toFixed(2)} | ${t.run.requestsPerMin.toFixed(0)} | ${perReconcile(t.run)} | ${gone(t.run)} | ${JSON.stringify(t.run.userAgents)} |`);
    for (const id of ids) {
      const runs = (autoscalerRuns.get(id) ?? []).map((t) => t.run);
      if (runs.length < 2) continue;
      const cpu = runs.map((r) => r.cpuSecondsPerMin);
      const reqs = runs.map((r) => r.requestsPerMin);
      const del = stats(runs.map((r) => r.deleteMs ?? null));
      md.push(`| **${id}, median / p90 of ${runs.length}** | all | ${runs.filter((r) => r.ready).length}/${runs.length} | ${median(cpu).toFixed(2)} / ${p90(cpu).toFixed(2)} | ${median(reqs).toFixed(0)} / ${p90(reqs).toFixed(0)} | ${spread(runs.map((r) => r.reconcilesPerMin), fixed(0))} | ${del.median !== null ? `${fmt(del.median)} / ${fmt(del.p90)}` : `${del.finished}/${del.runs} within ${cleanup} s`} | |`);
    }
    md.push('');
  }

  const forced = sources.flatMap((s, i) => (s.raw.forcedCleanups ?? []).map((f) => `${f.during}${pooled ? ` (source ${i + 1})` : ''}: ${f.finalizersRemoved}`));
  const recorded = sources.filter((s) => s.raw.forcedCleanups !== undefined).length;
  if (forced.length > 0) md.push('## Clean-ups forced by the bench', '', `A clean-up did not finish within its timeout; the bench removed the finalizers of the Dask objects still being deleted (objects per clean-up): ${forced.join('; ')}.`, '');
  else if (recorded === sources.length) md.push(`Every clean-up between runs finished by itself (the bench removed no finalizer).`, '');
  else if (recorded > 0) md.push(`Clean-ups between runs: none forced in the ${recorded} source(s) that record them; the others did not record it.`, '');

  const versions = Object.fromEntries(ids.map((id) => [id, label(id)]));
  const machine = [...new Set(sources.map((s) => s.settings.machine.replace(/, \d+ GiB/, '')))].join(' / ');
  const json: ReportOutput['json'] = pooled
    ? { bench: 'vs-upstream', date, machine, versions, charts, sources: sources.map((s) => ({ name: s.name, date: s.date, versions: s.versions, settings: s.settings, settingsAssumed: s.settingsAssumed ?? false, raw: s.raw })) }
    : { bench: 'vs-upstream', date, machine, versions, charts, settings, raw: sources[0].raw };
  return { md: md.join('\n'), json };
}

/**
 * Reads one result file's parsed JSON back into sources: a single invocation's file (`raw`, and `settings` when it
 * recorded them), or a pooled file (`sources`). Throws naming the file and the field when it is neither.
 */
export function sourcesFromJson(value: unknown, name: string, markdown?: string): Source[] {
  const o = value as { bench?: unknown; date?: unknown; machine?: unknown; versions?: unknown; settings?: unknown; raw?: unknown; sources?: unknown };
  if (typeof o !== 'object' || o === null || o.bench !== 'vs-upstream') throw new Error(`${name}: not a vs-upstream result (bench: ${JSON.stringify(o?.bench)})`);
  if (Array.isArray(o.sources)) return o.sources.flatMap((s: unknown, i) => sourcesFromJson({ bench: 'vs-upstream', ...(s as object) }, `${name} sources[${i}]`).map((x) => ({ ...x, name: (s as { name?: string }).name ?? x.name })));
  if (typeof o.raw !== 'object' || o.raw === null) throw new Error(`${name}: raw: expected the raw results (an object), got ${JSON.stringify(o.raw)}`);
  if (typeof o.date !== 'string') throw new Error(`${name}: date: expected YYYY-MM-DD, got ${JSON.stringify(o.date)}`);
  const raw = o.raw as Partial<RawResults>;
  for (const k of ['workers', 'floor', 'clusters', 'autoscalers'] as const) {
    if (raw[k] !== undefined && (typeof raw[k] !== 'object' || raw[k] === null)) throw new Error(`${name}: raw.${k}: expected an object, got ${JSON.stringify(raw[k])}`);
  }
  const results: RawResults = { workers: raw.workers ?? {}, floor: raw.floor ?? {}, clusters: raw.clusters ?? {}, autoscalers: raw.autoscalers ?? {}, ...(raw.forcedCleanups ? { forcedCleanups: raw.forcedCleanups } : {}) };
  const settings = o.settings as ReportSettings | undefined;
  return [{
    name,
    date: o.date,
    versions: (o.versions ?? {}) as Source['versions'],
    // Settings recorded before a field existed: that field had the bench's default (it could not be set then).
    settings: settings ? { ...DEFAULT_SETTINGS, ...settings } : { ...inferSettings(results, typeof o.machine === 'string' ? o.machine : '?'), ...(markdown ? settingsFromMarkdown(markdown) : {}) },
    ...(settings ? {} : { settingsAssumed: true }),
    raw: results,
  }];
}

/**
 * What the Markdown report of a file without settings states about its run: the command's variables, the kwok nodes,
 * the machine and the load (the lines this module writes at the top of a single invocation's report).
 */
export function settingsFromMarkdown(md: string): Partial<ReportSettings> {
  const out: Partial<ReportSettings> = {};
  const command = /^`npm run bench -- vs-upstream` \((.*)\)\.$/m.exec(md);
  if (command) out.command = command[1].split(/, (?=BENCH_)/);
  const nodes = /kwok with (\d+) fake nodes/.exec(md);
  if (nodes) out.fakeNodes = Number(nodes[1]);
  const machine = /^Machine: (.*?); load average ([\d. ]+) at the start, ([\d. ]+) at the end\.$/m.exec(md);
  if (machine) {
    const nums = (x: string) => x.trim().split(/\s+/).map(Number);
    out.machine = machine[1];
    out.load = { start: nums(machine[2]), end: nums(machine[3]) };
  }
  return out;
}

/**
 * Settings for a file that did not record them: what its results show (K from the Pods of the last memory sample, the
 * sizes from the workers' keys), the bench's defaults for the rest.
 */
function inferSettings(raw: RawResults, machine: string): ReportSettings {
  const pods = Object.values(raw.clusters).flatMap((runs) => (runs ?? []).map((r) => r.memory.at(-1)?.pods ?? 0));
  const sizes = [...new Set(Object.keys(raw.workers).map((key) => Number(key.split(':')[1])).filter((n) => Number.isInteger(n)))].sort((a, b) => a - b);
  return {
    ...DEFAULT_SETTINGS,
    ...(pods.length > 0 ? { clusters: Math.max(...pods) / 2 } : {}),
    ...(sizes.length > 0 ? { sizes } : {}),
    command: [],
    machine,
    fakeNodes: 0,
    load: { start: [], end: [] },
  };
}
