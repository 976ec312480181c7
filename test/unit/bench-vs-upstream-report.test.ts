/**
 * bench/vs-upstream-report.ts (the report of `npm run bench -- vs-upstream`, from one invocation or pooled) and
 * bench/vs-upstream-pool.ts (the command that pools result files).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { validateBenchResult } from '../../bench/chart';
import { DEFAULT_SETTINGS, commonSettings, renderReport, sourcesFromJson, type ClustersRun, type RawResults, type ReportSettings, type Source } from '../../bench/vs-upstream-report';

const ROOT = path.join(__dirname, '..', '..');
const RESULTS = path.join(ROOT, 'bench', 'results');

const settings = (over: Partial<ReportSettings> = {}): ReportSettings => ({
  ...DEFAULT_SETTINGS,
  clusters: 10,
  command: ['BENCH_SCENARIOS="clusters"', 'BENCH_CLUSTERS=10'],
  machine: '2 × test CPU, 24 GiB, Node v24',
  fakeNodes: 1,
  load: { start: [1, 1, 1], end: [2, 2, 2] },
  ...over,
});

/** A clusters run of K = 10: idle RSS 50 MiB, `rssEnd` at 20 Pods, 110 operator requests (11 per cluster). */
const run = (applyS: number, deleteS: number, rssEnd = 70, extra: Partial<ClustersRun> = {}): ClustersRun => ({
  memory: [{ pods: 0, rssMiB: 50 }, { pods: 10, rssMiB: (50 + rssEnd) / 2 }, { pods: 20, rssMiB: rssEnd }],
  applyMs: applyS * 1000,
  deleteMs: deleteS * 1000,
  applyRequests: { 'patch daskclusters/status': 30, 'create pods': 20, 'create events': 60 },
  ...extra,
});

const raw = (clusters: RawResults['clusters'], over: Partial<RawResults> = {}): RawResults => ({ workers: {}, floor: {}, clusters, autoscalers: {}, forcedCleanups: [], ...over });
const source = (name: string, r: RawResults, over: Partial<Source> = {}): Source => ({
  name,
  date: '2026-12-02',
  versions: { ours: `ours (${name})`, upstream: 'dask-kubernetes 2026.3.0 (kopf 1.45.2)' },
  settings: settings(),
  raw: r,
  ...over,
});

/** The cells of the Markdown table row that starts with `| <first> |`. */
function row(md: string, first: string): string[] {
  const line = md.split('\n').find((l) => l.startsWith(`| ${first} |`));
  if (!line) throw new Error(`no row "${first}" in:\n${md}`);
  return line.split('|').slice(2, -1).map((c) => c.trim());
}

describe('renderReport: one invocation', () => {
  const r = raw({ ours: [run(100, 40), run(120, 44), run(110, 42)], upstream: [run(200, 80), run(180, 90), run(300, 70, 90)] });
  const { md, json } = renderReport([source('this run', r)]);

  it('states the command, the operators, the control plane and the load from the settings', () => {
    expect(md).toContain('`npm run bench -- vs-upstream` (BENCH_SCENARIOS="clusters", BENCH_CLUSTERS=10).');
    expect(md).toContain('**ours** = ours (this run); **upstream** = dask-kubernetes 2026.3.0 (kopf 1.45.2)');
    expect(md).toContain('kwok with 1 fake nodes');
    expect(md).toContain('load average 1.00 1.00 1.00 at the start, 2.00 2.00 2.00 at the end');
    expect(md).not.toContain('| source |');
  });

  it('has one row per run and medians / p90 over the runs', () => {
    expect(md.split('\n').filter((l) => l.startsWith('| ours | '))).toHaveLength(3);
    // ours 100, 120, 110 → median 110, p90 120; upstream 200, 180, 300 → 200, 300; pairs 0.5, 0.67, 0.37 → 0.5
    expect(row(md, 'apply → all Ready')).toEqual(['110.0 s / 120.0 s', '200.0 s / 300.0 s', '0.50 (0.37–0.67, 3 pairs)']);
    // pairs by index: 40/80 = 0.5, 44/90 = 0.49, 42/70 = 0.6
    expect(row(md, 'delete → Pods gone')).toEqual(['42.0 s / 44.0 s', '80.0 s / 90.0 s', '0.50 (0.49–0.60, 3 pairs)']);
    expect(row(md, 'operator requests per cluster (first create until quiet)')).toEqual(['11.0 / 11.0', '11.0 / 11.0', '1.00 (1.00–1.00, 3 pairs)']);
    // RSS per managed Pod: (70 − 50) / 20 = 1.000; upstream's third run (90 − 50) / 20 = 2.000
    expect(row(md, 'MiB RSS per managed Pod')).toEqual(['1.000 / 1.000', '1.000 / 2.000', '1.00 (0.50–1.00, 3 pairs)']);
  });

  it('breaks the requests down from one run and says so', () => {
    expect(md).toContain('Operator requests per cluster, ours, from the first create until quiet (run 1, the one with the median total of 3): 11.00 (create events 6.00, patch daskclusters/status 3.00, create pods 2.00).');
  });

  it('says that no clean-up was forced, or lists the ones that were', () => {
    expect(md).toContain('Every clean-up between runs finished by itself');
    const forced = renderReport([source('this run', { ...r, forcedCleanups: [{ during: 'clusters, upstream, run 2: after the delete', finalizersRemoved: 7 }] })]).md;
    expect(forced).toContain('## Clean-ups forced by the bench');
    expect(forced).toContain('clusters, upstream, run 2: after the delete: 7');
  });

  it('writes a valid BenchResult whose memory chart is the median over the runs at each sample, p90 as whisker', () => {
    validateBenchResult(JSON.parse(JSON.stringify(json)), 'report');
    const memory = json.charts.find((c) => c.id === 'memory');
    const upstreamRss = memory?.series.find((s) => s.label.startsWith('dask-kubernetes') && s.label.includes('RSS'));
    expect(upstreamRss?.label).toBe('dask-kubernetes 2026.3.0 (kopf 1.45.2) RSS (median of 3)');
    expect(upstreamRss?.points.at(-1)).toEqual({ x: 20, y: 70, p90: 90 });
    expect(json.settings).toEqual(settings());
  });

  it('reports a timed-out step as such and leaves it out of that step\'s median', () => {
    const t = renderReport([source('this run', raw({ ours: [run(100, 40), { ...run(0, 41), applyMs: null }], upstream: [run(200, 80), run(210, 81)] }))]).md;
    expect(row(t, 'apply → all Ready')[0]).toBe('100.0 s / 100.0 s (1 of 2 runs)');
    expect(t).toContain('Runs with a step that timed out (left out of the medians of that step): ours run 2.');
    expect(t.split('\n').filter((l) => l.startsWith('| ours | 2 | timed out |'))).toHaveLength(1);
  });
});

describe('renderReport: idle autoscalers', () => {
  it('gives CPU per reconcile where the operator counts its reconciles, and medians over the runs', () => {
    const as = (cpu: number, reconciles?: number) => ({ ready: true, cpuSecondsPerMin: cpu, requestsPerMin: 0, userAgents: {}, deleteMs: 20_000, finalizersRemoved: 0, ...(reconciles !== undefined ? { reconcilesPerMin: reconciles } : {}) });
    const { md } = renderReport([source('this run', raw({}, { autoscalers: { ours: [as(0.6, 1200), as(0.5, 1000), as(0.55, 1100)], upstream: [as(50), as(48)] } }))]);
    // 0.6 CPU-s over 1,200 reconciles = 0.5 ms each
    expect(row(md, 'ours')).toEqual(['1', 'yes', '0.60', '0', '1200 (0.50)', '20.00 s', '{}']);
    expect(row(md, 'upstream')[4]).toBe('–');
    expect(row(md, '**ours, median / p90 of 3**')).toEqual(['all', '3/3', '0.55 / 0.60', '0 / 0', '1100 / 1200', '20.00 s / 20.00 s', '']);
  });
});

describe('renderReport: pooled invocations', () => {
  const a = source('a.json', raw({ ours: [run(100, 40)], upstream: [run(200, 80)] }));
  const b = source('b.json', raw({ ours: [run(300, 40), run(500, 40)], upstream: [run(300, 80), run(250, 80)] }));

  it('takes medians over every run and ratios per pair of the same invocation', () => {
    const { md } = renderReport([a, b], 'npm run bench:pool -- x');
    // ours 100, 300, 500 → 300 / 500; upstream 200, 300, 250 → 250 / 300; pairs 0.5, 1.0, 2.0 → 1.00
    expect(row(md, 'apply → all Ready')).toEqual(['300.0 s / 500.0 s', '250.0 s / 300.0 s', '1.00 (0.50–2.00, 3 pairs)']);
    expect(md).toContain('Pooled by `npm run bench:pool -- x` from 2 invocations');
    expect(row(md, '1: `a.json`')).toContain('**ours** = ours (a.json); **upstream** = dask-kubernetes 2026.3.0 (kopf 1.45.2)');
    expect(md.split('\n').filter((l) => /^\| ours \| 2\.[12] \| /.test(l))).toHaveLength(2);
  });

  it('does not pair runs across invocations', () => {
    const lone = source('c.json', raw({ ours: [run(100, 40)] }), { versions: { ours: 'ours (c)' } });
    const { md } = renderReport([lone, source('d.json', raw({ upstream: [run(400, 80)] }))]);
    expect(row(md, 'apply → all Ready')).toEqual(['100.0 s / 100.0 s', '400.0 s / 400.0 s', '–']);
  });

  it('refuses sources measured differently or against another upstream, naming both', () => {
    expect(() => commonSettings([a, source('k250.json', raw({}), { settings: settings({ clusters: 250 }) })])).toThrow('k250.json has clusters = 250 but a.json has 10; pool only runs measured the same way');
    expect(() => commonSettings([a, source('old.json', raw({}), { versions: { upstream: 'dask-kubernetes 2025.1.0' } })])).toThrow('old.json measured dask-kubernetes 2025.1.0 but a.json measured dask-kubernetes 2026.3.0 (kopf 1.45.2)');
  });

  it('reads its own pooled JSON back to the same report', () => {
    const first = renderReport([a, b], 'pool');
    const again = renderReport(sourcesFromJson(JSON.parse(JSON.stringify(first.json)), 'pooled.json'), 'pool');
    expect(again.md).toBe(first.md);
  });
});

describe('sourcesFromJson', () => {
  it('rejects files that are not vs-upstream results, naming the file and the field', () => {
    expect(() => sourcesFromJson({ bench: 'scale-up' }, 'x.json')).toThrow('x.json: not a vs-upstream result (bench: "scale-up")');
    expect(() => sourcesFromJson({ bench: 'vs-upstream', date: '2026-12-02' }, 'x.json')).toThrow('x.json: raw: expected the raw results');
    expect(() => sourcesFromJson({ bench: 'vs-upstream', date: '2026-12-02', raw: { clusters: 3 } }, 'x.json')).toThrow('x.json: raw.clusters: expected an object, got 3');
  });

  it('infers K and N of a file without settings from its results, and says so', () => {
    const [s] = sourcesFromJson({ bench: 'vs-upstream', date: '2026-12-01', machine: 'm', raw: { clusters: { ours: [run(1, 1)] }, workers: { 'ours:50': [], 'ours:scale': [] } } }, 'old.json');
    expect(s.settingsAssumed).toBe(true);
    expect(s.settings.clusters).toBe(10);
    expect(s.settings.sizes).toEqual([50]);
    const { md } = renderReport([s, source('new.json', raw({}), { settings: settings({ sizes: [50] }) })]);
    expect(row(md, '1: `old.json`')[1]).toBe('(not recorded) (the JSON recorded no settings: K and N taken from its results, the command, machine and load from its Markdown report where it has them, timeouts the bench\'s defaults)');
  });

  it('takes the command, machine and load of such a file from its Markdown report', () => {
    const mdText = fs.readFileSync(path.join(RESULTS, 'vs-upstream-2026-12-02-clusters-k1000-run2.md'), 'utf8');
    const [s] = sourcesFromJson(JSON.parse(fs.readFileSync(path.join(RESULTS, 'vs-upstream-2026-12-02-clusters-k1000-run2.json'), 'utf8')), 'run2.json', mdText);
    expect(s.settings.command).toEqual(['BENCH_SCENARIOS="clusters"', 'BENCH_CLUSTERS=1000', 'BENCH_CLUSTER_REPEATS=1']);
    expect(s.settings.fakeNodes).toBe(20);
    expect(s.settings.load).toEqual({ start: [0.69, 1.25, 2.05], end: [1.33, 1.25, 1.67] });
    expect(s.settings.machine).toBe('2 × AMD EPYC, 24 GiB, Node v24.21.0');
    expect(s.settingsAssumed).toBe(true);
  });

  it('reads every committed vs-upstream result file', () => {
    const files = fs.readdirSync(RESULTS).filter((f) => /^vs-upstream-.*\.json$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const sources = sourcesFromJson(JSON.parse(fs.readFileSync(path.join(RESULTS, f), 'utf8')), f);
      expect(renderReport(sources).md).toContain('# This operator vs upstream');
    }
  });
});

describe('npm run bench:pool', () => {
  const pool = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bench', 'run.js'), 'vs-upstream-pool', ...args], { cwd: ROOT, encoding: 'utf8' });

  it('pools two committed runs of 1,000 clusters into bench/results/<name>.md and .json', () => {
    const name = `test-pool-${process.pid}`;
    try {
      const r = pool('--out', name, '--only', 'clusters', 'bench/results/vs-upstream-2026-12-02-clusters-autoscalers-retained.json', 'bench/results/vs-upstream-2026-12-02-clusters-k1000-run2.json');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const md = fs.readFileSync(path.join(RESULTS, `${name}.md`), 'utf8');
      // ours 406.36 and 406.34 s (the upper middle of two), upstream 533.45 and 457.29 s; pairs 0.76 and 0.89
      expect(row(md, 'apply → all Ready')).toEqual(['406.4 s / 406.4 s', '533.4 s / 533.4 s', '0.89 (0.76–0.89, 2 pairs)']);
      expect(md).not.toContain('idle DaskAutoscalers');
      validateBenchResult(JSON.parse(fs.readFileSync(path.join(RESULTS, `${name}.json`), 'utf8')), name);
    } finally {
      for (const ext of ['md', 'json']) fs.rmSync(path.join(RESULTS, `${name}.${ext}`), { force: true });
    }
  });

  it('says what is wrong with its arguments and exits 1', () => {
    const r = pool('a.json');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('usage: npm run bench:pool -- --out <name>');
    const missing = pool('--out', 'x', 'no-such.json');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no-such.json: cannot read it');
  });
});
