/**
 * Renders the benchmarks' charts: for each raw result file (bench/results/*.json, a BenchResult of bench/chart.ts),
 * checks its shape and writes `<json basename>-<chart id>.svg` next to it for each of its charts.
 *
 *   npm run bench:charts                                   every bench/results/*.json
 *   npm run bench:charts -- bench/results/scale-up-2026-12-02.json [more.json …]
 *   node bench/run.js render-charts [files…]               the same
 *
 * Prints each file it wrote (or found unchanged). A file that is not valid JSON or not a BenchResult is named with the
 * bad field on stderr, its charts are not written, the other files still are, and the exit code is 1.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderLineChart, validateBenchResult } from './chart';
import { readJson, scriptArgs } from './support';

const RESULTS = path.join(__dirname, 'results');


/** Renders the charts of one result file, logging each SVG written (or found unchanged); throws if the file is bad. */
function renderFile(file: string, log: (line: string) => void): void {
  const result = validateBenchResult(readJson(file), file);
  // Render everything before writing anything, so a file is either fully rendered or not at all.
  const svgs = result.charts.map((c) => ({ out: path.join(path.dirname(file), `${path.basename(file, '.json')}-${c.id}.svg`), svg: renderLineChart(c) }));
  if (svgs.length === 0) log(`${file}: no charts`);
  for (const { out, svg } of svgs) {
    const rel = path.relative(process.cwd(), out);
    const shown = rel && !rel.startsWith('..') ? rel : path.resolve(out);
    if (fs.existsSync(out) && fs.readFileSync(out, 'utf8') === svg) log(`unchanged ${shown}`);
    else {
      fs.writeFileSync(out, svg);
      log(`wrote ${shown}`);
    }
  }
}

function main(): number {
  const given = scriptArgs('render-charts');
  const files = given.length ? given : fs.readdirSync(RESULTS).filter((f) => f.endsWith('.json')).sort().map((f) => path.relative(process.cwd(), path.join(RESULTS, f)));
  if (files.length === 0) {
    console.log(`no result files (*.json) in ${path.relative(process.cwd(), RESULTS) || RESULTS}`);
    return 0;
  }
  let failed = 0;
  for (const file of files) {
    try {
      renderFile(file, (line) => console.log(line));
    } catch (e) {
      failed++;
      console.error(`render-charts: ${(e as Error).message}`);
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = main();
