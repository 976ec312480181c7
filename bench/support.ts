/** Helpers shared by the benchmarks. */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

/** The arguments after the script's name (`node bench/run.js render-charts a.json` gives `a.json` for `render-charts`). */
export function scriptArgs(script: string): string[] {
  const i = process.argv.findIndex((a, n) => n > 0 && [script, `${script}.ts`].includes(path.basename(a)));
  return i < 0 ? [] : process.argv.slice(i + 1);
}

/** A JSON file's parsed contents; throws `<file>: cannot read it: …` or `<file>: not valid JSON: …`. */
export function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read it: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
  }
}

/** The median (for an even count, the upper of the two middle values). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** What {@link until} throws when its check did not hold in time (a benchmark reports it as "did not finish"). */
export class BenchTimeout extends Error {}

/** Polls `check` every `intervalMs` until it holds; returns the milliseconds it took; throws a BenchTimeout after `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 180_000, intervalMs = 50): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new BenchTimeout(`bench: timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The 90th percentile (nearest rank). */
export const p90 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.9) - 1)];

/** A plain HTTP GET that never throws: status 0 (and an empty body) when the connection fails. */
export function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}
