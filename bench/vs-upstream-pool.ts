/**
 * Pools the runs of several `npm run bench -- vs-upstream` invocations into one report: medians and p90 over every
 * run, ratios ours / upstream per pair of runs of the same invocation.
 *
 *   npm run bench:pool -- --out <name> bench/results/a.json bench/results/b.json [more.json …]
 *   npm run bench:pool -- --out <name> --only clusters a.json b.json   one scenario's runs (workers, clusters, autoscalers)
 *   node bench/run.js vs-upstream-pool --out <name> a.json b.json      the same
 *
 * Writes bench/results/<name>.md and .json (charts: `npm run bench:charts -- bench/results/<name>.json`). Given one file,
 * renders its report again (a file written before the report had median rows, for example). Refuses files that measured
 * different sizes or timeouts, or different upstream versions, naming both files and the field.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJson, scriptArgs } from './support';
import { renderReport, sourcesFromJson, type RawResults } from './vs-upstream-report';

const RESULTS = path.join(__dirname, 'results');
const SCENARIOS = ['workers', 'clusters', 'autoscalers'] as const;
type Scenario = (typeof SCENARIOS)[number];

/** The raw results of one scenario only (workers with their floor); forced clean-ups are kept, they name their scenario. */
function keepOnly(raw: RawResults, scenario: Scenario): RawResults {
  return {
    workers: scenario === 'workers' ? raw.workers : {},
    floor: scenario === 'workers' ? raw.floor : {},
    clusters: scenario === 'clusters' ? raw.clusters : {},
    autoscalers: scenario === 'autoscalers' ? raw.autoscalers : {},
    ...(raw.forcedCleanups ? { forcedCleanups: raw.forcedCleanups } : {}),
  };
}

function main(): void {
  const args = scriptArgs('vs-upstream-pool');
  const flag = (name: string) => {
    const at = args.indexOf(name);
    return at >= 0 ? { at, value: args[at + 1] } : undefined;
  };
  const out = flag('--out');
  const only = flag('--only');
  const taken = new Set([out, only].flatMap((f) => (f ? [f.at, f.at + 1] : [])));
  const files = args.filter((_, n) => !taken.has(n));
  const usage = 'usage: npm run bench:pool -- --out <name> [--only workers|clusters|autoscalers] <result.json> [more.json …] (name: letters, digits, ".", "_", "-"; written to bench/results/<name>.md and .json)';
  if (!out?.value || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(out.value) || files.length === 0) throw new Error(usage);
  if (only && !SCENARIOS.includes(only.value as Scenario)) throw new Error(`--only: expected one of ${SCENARIOS.join(', ')}, got ${JSON.stringify(only.value)}; ${usage}`);
  const sources = files.flatMap((f) => {
    const json = readJson(f);
    // A file written before the settings were recorded: its Markdown report states the command, machine and load.
    const md = f.endsWith('.json') && fs.existsSync(`${f.slice(0, -5)}.md`) ? fs.readFileSync(`${f.slice(0, -5)}.md`, 'utf8') : undefined;
    return sourcesFromJson(json, path.relative(process.cwd(), path.resolve(f)) || f, md);
  });
  const kept = only ? sources.map((s) => ({ ...s, raw: keepOnly(s.raw, only.value as Scenario) })) : sources;
  const command = `npm run bench:pool -- --out ${out.value}${only ? ` --only ${only.value}` : ''} ${files.join(' ')}`;
  const { md, json } = renderReport(kept, command);
  const base = path.join(RESULTS, out.value);
  fs.writeFileSync(`${base}.md`, md + '\n');
  fs.writeFileSync(`${base}.json`, JSON.stringify(json, null, 1) + '\n');
  process.stdout.write(`wrote ${path.relative(process.cwd(), base)}.md and .json from ${sources.length} invocation(s)\n`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`bench:pool: ${(e as Error).message}\n`);
  process.exit(1);
}
