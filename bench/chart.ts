/**
 * Line charts for the benchmark results, as standalone SVG written by hand (no dependency).
 *
 * A benchmark writes its raw results as a {@link BenchResult} JSON file next to its Markdown in bench/results/;
 * bench/render-charts.ts validates each file ({@link validateBenchResult}) and renders each of its charts
 * ({@link renderLineChart}). The format is described in docs/benchmarks.md.
 */

/** One measured point of a series. */
export interface BenchPoint {
  /** Position on the x axis (for example the number of workers). Must be > 0 on a log x axis. */
  x: number;
  /**
   * The measured value (usually the median of the repeats), or `null` when the run did not finish (timed out): drawn as
   * a hollow marker on the top edge of the plot, labelled with {@link BenchPoint.note}. Must be > 0 on a log y axis.
   */
  y: number | null;
  /** The 90th percentile of the repeats, drawn as a small whisker above the marker. At least `y`. */
  p90?: number;
  /** The label of an unfinished point (for example `"timeout 60 s"`); on a finished point, shown in its tooltip. */
  note?: string;
}

/** One line of a chart: a label for the legend and its points (drawn in order of x). */
export interface BenchSeries {
  label: string;
  points: BenchPoint[];
}

/** One chart: rendered to `<result file basename>-<id>.svg`. */
export interface BenchChart {
  /** Part of the SVG's file name: letters, digits, `.`, `_` and `-`, starting with a letter or digit; unique in its file. */
  id: string;
  title: string;
  /** The axis labels, with their units (for example `"seconds to N Ready Pods"`). */
  xLabel: string;
  yLabel: string;
  /** Logarithmic axes (all values must then be > 0). Linear y axes start at 0. */
  logX?: boolean;
  logY?: boolean;
  series: BenchSeries[];
  /** Short lines of text printed under the plot (conditions, caveats). */
  notes?: string[];
}

/** The raw results of one benchmark run: bench/results/<bench>-<date>.json. Other fields (raw samples) are kept as they are. */
export interface BenchResult {
  /** The benchmark's name (bench/<bench>.ts). */
  bench: string;
  /** The day of the run, `YYYY-MM-DD`. */
  date: string;
  /** What it ran on (cores, memory, Node version, control plane). */
  machine: string;
  /** Versions of what was measured or measured against (for example `{ "operator": "<git sha>" }`). */
  versions?: Record<string, string>;
  charts: BenchChart[];
  [k: string]: unknown;
}

// ---------------------------------------------------------------------------------------------------------------------
// Validation

/** Thrown by {@link validateBenchResult} and {@link validateBenchChart}: the message names the file and the field. */
export class BenchFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchFormatError';
  }
}

const CHART_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

class Checker {
  constructor(private readonly source: string) {}

  fail(where: string, problem: string): never {
    throw new BenchFormatError(`${this.source}: ${where}: ${problem}`);
  }

  object(v: unknown, where: string, fields: readonly string[] | undefined): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(where || '(top level)', `expected an object, got ${describe(v)}`);
    const o = v as Record<string, unknown>;
    if (fields) for (const k of Object.keys(o)) if (!fields.includes(k)) this.fail(`${where}.${k}`.replace(/^\./, ''), `unknown field (expected one of ${fields.join(', ')})`);
    return o;
  }

  string(o: Record<string, unknown>, key: string, where: string, optional = false): void {
    const v = o[key];
    if (v === undefined && optional) return;
    if (typeof v !== 'string') this.fail(join(where, key), `expected a string, got ${describe(v)}`);
  }

  boolean(o: Record<string, unknown>, key: string, where: string): void {
    const v = o[key];
    if (v !== undefined && typeof v !== 'boolean') this.fail(join(where, key), `expected true or false, got ${describe(v)}`);
  }

  array(o: Record<string, unknown>, key: string, where: string, optional = false): unknown[] | undefined {
    const v = o[key];
    if (v === undefined && optional) return undefined;
    if (!Array.isArray(v)) this.fail(join(where, key), `expected an array, got ${describe(v)}`);
    return v;
  }

  number(v: unknown, where: string, positive: string | undefined): void {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(where, `expected a finite number, got ${describe(v)}`);
    if (positive && v <= 0) this.fail(where, `must be > 0 on a log ${positive} axis, got ${v}`);
  }
}

const join = (where: string, key: string): string => (where ? `${where}.${key}` : key);

function checkChart(c: Checker, value: unknown, where: string): BenchChart {
  const o = c.object(value, where, ['id', 'title', 'xLabel', 'yLabel', 'logX', 'logY', 'series', 'notes']);
  c.string(o, 'id', where);
  if (!CHART_ID.test(o.id as string)) c.fail(join(where, 'id'), `${describe(o.id)} is not usable in a file name (letters, digits, ".", "_", "-"; starting with a letter or digit)`);
  for (const k of ['title', 'xLabel', 'yLabel']) c.string(o, k, where);
  c.boolean(o, 'logX', where);
  c.boolean(o, 'logY', where);
  const logX = o.logX === true ? 'x (logX)' : undefined;
  const logY = o.logY === true ? 'y (logY)' : undefined;
  c.array(o, 'series', where)?.forEach((s, i) => {
    const sw = `${join(where, 'series')}[${i}]`;
    const so = c.object(s, sw, ['label', 'points']);
    c.string(so, 'label', sw);
    c.array(so, 'points', sw)?.forEach((p, j) => {
      const pw = `${sw}.points[${j}]`;
      const po = c.object(p, pw, ['x', 'y', 'p90', 'note']);
      c.number(po.x, `${pw}.x`, logX);
      if (po.y !== null) {
        if (typeof po.y !== 'number' || !Number.isFinite(po.y)) c.fail(`${pw}.y`, `expected a finite number or null (did not finish), got ${describe(po.y)}`);
        c.number(po.y, `${pw}.y`, logY);
      }
      if (po.p90 !== undefined) {
        c.number(po.p90, `${pw}.p90`, logY);
        if (typeof po.y === 'number' && (po.p90 as number) < po.y) c.fail(`${pw}.p90`, `must be at least y (${po.y}), got ${po.p90 as number}`);
      }
      c.string(po, 'note', pw, true);
    });
  });
  c.array(o, 'notes', where, true)?.forEach((n, i) => {
    if (typeof n !== 'string') c.fail(`${join(where, 'notes')}[${i}]`, `expected a string, got ${describe(n)}`);
  });
  return o as unknown as BenchChart;
}

/**
 * Checks that `value` (parsed JSON) has the shape of a {@link BenchResult} and returns it typed; otherwise throws a
 * {@link BenchFormatError} whose message starts with `source` and the path of the first bad field, for example
 * `bench/results/x.json: charts[0].series[1].points[2].y: expected a finite number or null (did not finish), got "12"`.
 */
export function validateBenchResult(value: unknown, source: string): BenchResult {
  const c = new Checker(source);
  const o = c.object(value, '', undefined);
  for (const k of ['bench', 'date', 'machine']) c.string(o, k, '');
  if (o.versions !== undefined) {
    const v = c.object(o.versions, 'versions', undefined);
    for (const [k, s] of Object.entries(v)) if (typeof s !== 'string') c.fail(`versions.${k}`, `expected a string, got ${describe(s)}`);
  }
  const seen = new Map<string, number>();
  c.array(o, 'charts', '')?.forEach((chart, i) => {
    const id = checkChart(c, chart, `charts[${i}]`).id;
    const first = seen.get(id);
    if (first !== undefined) c.fail(`charts[${i}].id`, `${describe(id)} is also the id of charts[${first}]`);
    seen.set(id, i);
  });
  return o as BenchResult;
}

/** Checks one {@link BenchChart} the same way (the message starts with `source`); {@link renderLineChart} calls it. */
export function validateBenchChart(value: unknown, source = 'chart'): BenchChart {
  return checkChart(new Checker(source), value, '');
}

// ---------------------------------------------------------------------------------------------------------------------
// Axes

/** An axis: its domain (the first and last tick), its ticks and their labels. */
export interface Axis {
  log: boolean;
  lo: number;
  hi: number;
  ticks: number[];
}

/** Removes floating-point noise (0.30000000000000004 → 0.3). */
const clean = (v: number): number => Number(v.toPrecision(12));

/** The 1, 2 or 5 × 10^k at or above `raw` (> 0). */
function niceStep(raw: number): number {
  const exp = Math.floor(Math.log10(raw));
  const mag = 10 ** exp;
  const f = raw / mag;
  return clean((f <= 1 + 1e-9 ? 1 : f <= 2 + 1e-9 ? 2 : f <= 5 + 1e-9 ? 5 : 10) * mag);
}

/** A linear axis over `values` with about `target` intervals of 1, 2 or 5 × 10^k; from 0 when `fromZero`. */
export function linearAxis(values: readonly number[], target: number, fromZero: boolean): Axis {
  let min = values.length ? Math.min(...values) : 0;
  let max = values.length ? Math.max(...values) : 1;
  if (fromZero) {
    min = Math.min(0, min);
    max = Math.max(0, max);
  }
  if (min === max) {
    const d = min === 0 ? 1 : Math.abs(min) / 2;
    max += d;
    if (!(fromZero && min === 0)) min -= d;
  }
  const step = niceStep((max - min) / target);
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(clean(k * step));
  return { log: false, lo: ticks[0], hi: ticks[ticks.length - 1], ticks };
}

/**
 * A log axis over `values` (all > 0) from the power of ten at or below the smallest to the one at or above the largest:
 * ticks at the powers of ten, with 2 and 5 between them when it spans at most 2 decades, and at every second (third, …)
 * power when it spans more than 7.
 */
export function logAxis(values: readonly number[]): Axis {
  let lo = values.length ? Math.floor(Math.log10(Math.min(...values)) + 1e-9) : 0;
  let hi = values.length ? Math.ceil(Math.log10(Math.max(...values)) - 1e-9) : 1;
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const ticks: number[] = [];
  if (hi - lo <= 2) {
    for (let e = lo; e < hi; e++) for (const m of [1, 2, 5]) ticks.push(clean(m * 10 ** e));
    ticks.push(clean(10 ** hi));
  } else {
    const stride = Math.ceil((hi - lo) / 7);
    hi = lo + stride * Math.ceil((hi - lo) / stride);
    for (let e = lo; e <= hi; e += stride) ticks.push(clean(10 ** e));
  }
  return { log: true, lo: ticks[0], hi: ticks[ticks.length - 1], ticks };
}

/** Where `v` lies on the axis, from 0 (its first tick) to 1 (its last). */
function unit(a: Axis, v: number): number {
  return a.log ? (Math.log10(v) - Math.log10(a.lo)) / (Math.log10(a.hi) - Math.log10(a.lo)) : (v - a.lo) / (a.hi - a.lo);
}

/** A number for a label: no float noise; 1e6 and above (and below 1e-4) as 1e6, 2.5e-5. */
export function formatNumber(v: number): string {
  const c = clean(v);
  const abs = Math.abs(c);
  if (c !== 0 && (abs >= 1e6 || abs < 1e-4)) return c.toExponential().replace('e+', 'e');
  return String(c);
}

// ---------------------------------------------------------------------------------------------------------------------
// SVG

/** Okabe & Ito's colour-blind-safe palette, yellow last (it is faint on white). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
type Shape = 'circle' | 'square' | 'triangle' | 'diamond' | 'down';
/** A marker shape per series as well as a colour, so the series tell apart without colour too. */
const SHAPES: Shape[] = ['circle', 'square', 'triangle', 'diamond', 'down'];

const WIDTH = 720;
const HEIGHT = 420;
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
const PLOT_TOP = 64; // room above for the title and the labels of unfinished points
const PLOT_BOTTOM = HEIGHT - 64;
const X_INSET = 10; // the x axis's first and last ticks sit this far inside the plot, so markers clear the y axis
const NOTE_LINE = 15;
const LEGEND_TEXT_MAX = 190;

/** Rounds to 1 decimal for a coordinate, without `-0`. */
const r1 = (v: number): string => {
  const r = Math.round(v * 10) / 10;
  return String(r === 0 ? 0 : r);
};

/** Escapes text for XML content and attribute values; characters XML 1.0 does not allow become U+FFFD. */
export function escapeXml(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A rough width of `text` in a sans-serif font of `size` px (for layout only). */
const textWidth = (text: string, size: number): number => [...text].length * size * 0.56;

/** Splits `text` into lines of at most `max` px at `size` px, at spaces where it can. */
function wrap(text: string, size: number, max: number): string[] {
  const perLine = Math.max(1, Math.floor(max / (size * 0.56)));
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(/\s+/).filter((w) => w !== '')) {
    while ([...word].length > perLine) {
      if (line) lines.push(line);
      lines.push([...word].slice(0, perLine).join(''));
      word = [...word].slice(perLine).join('');
      line = '';
    }
    if (!line) line = word;
    else if ([...line].length + 1 + [...word].length <= perLine) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

function marker(shape: Shape, x: number, y: number, colour: string, hollow: boolean, cls: string, tooltip?: string): string {
  const paint = hollow ? `fill="#ffffff" stroke="${colour}" stroke-width="1.5"` : `fill="${colour}" stroke="${colour}" stroke-width="1"`;
  const title = tooltip === undefined ? '' : `<title>${escapeXml(tooltip)}</title>`;
  const poly = (pts: [number, number][]): string => `<polygon class="${cls}" points="${pts.map(([dx, dy]) => `${r1(x + dx)},${r1(y + dy)}`).join(' ')}" ${paint}>${title}</polygon>`;
  switch (shape) {
    case 'circle':
      return `<circle class="${cls}" cx="${r1(x)}" cy="${r1(y)}" r="4" ${paint}>${title}</circle>`;
    case 'square':
      return `<rect class="${cls}" x="${r1(x - 3.5)}" y="${r1(y - 3.5)}" width="7" height="7" ${paint}>${title}</rect>`;
    case 'triangle':
      return poly([[0, -4.5], [4.5, 3.5], [-4.5, 3.5]]);
    case 'diamond':
      return poly([[0, -5], [4.5, 0], [0, 5], [-4.5, 0]]);
    case 'down':
      return poly([[0, 4.5], [4.5, -3.5], [-4.5, -3.5]]);
  }
}

/** The tooltip of a point. */
function describePoint(label: string, p: BenchPoint): string {
  const value = p.y === null ? 'did not finish' : formatNumber(p.y) + (p.p90 !== undefined ? ` (p90 ${formatNumber(p.p90)})` : '');
  return `${label}: x = ${formatNumber(p.x)}, ${value}${p.note ? ` — ${p.note}` : ''}`;
}

/**
 * Renders `chart` as a standalone SVG document (720 px wide, 420 px high plus 15 px per line of notes): title, axes with
 * 1-2-5 ticks (powers of ten on log axes), axis labels, a legend, one colour and marker shape per series, lines joining
 * consecutive finished points, p90 whiskers, unfinished points as hollow markers on the top edge with their note, and
 * the chart's notes under the plot. The same input always gives the same bytes. Throws a {@link BenchFormatError} if
 * `chart` is malformed.
 */
export function renderLineChart(chart: BenchChart): string {
  validateBenchChart(chart, `chart ${JSON.stringify((chart as { id?: unknown } | null)?.id ?? null)}`);
  const series = chart.series.map((s, i) => ({
    label: s.label,
    colour: PALETTE[i % PALETTE.length],
    shape: SHAPES[i % SHAPES.length],
    // In order of x; points with the same x keep their order.
    points: s.points.map((p, j) => ({ p, j })).sort((a, b) => a.p.x - b.p.x || a.j - b.j).map(({ p }) => p),
  }));
  const all = series.flatMap((s) => s.points);
  const finished = all.filter((p) => p.y !== null);
  const anyUnfinished = finished.length < all.length;

  const xAxis = chart.logX ? logAxis(all.map((p) => p.x)) : linearAxis(all.map((p) => p.x), 6, false);
  const yValues = finished.flatMap((p) => (p.p90 !== undefined ? [p.y as number, p.p90] : [p.y as number]));
  const yAxis = chart.logY ? logAxis(yValues) : linearAxis(yValues, 5, true);
  const yTickLabels = yAxis.ticks.map(formatNumber);

  // Legend (right), sized to its labels.
  const legendEntries = series.map((s) => ({ ...s, lines: wrap(s.label, 12, LEGEND_TEXT_MAX) }));
  const legendText = Math.max(60, ...legendEntries.flatMap((e) => e.lines.map((l) => textWidth(l, 12))), anyUnfinished ? textWidth('did not finish', 12) : 0);
  const legendX = WIDTH - 16 - 30 - Math.min(LEGEND_TEXT_MAX, legendText);
  const plotLeft = Math.max(60, 34 + Math.max(...yTickLabels.map((l) => textWidth(l, 11))) + 8);
  const plotRight = legendX - 20;
  const noteLines = (chart.notes ?? []).flatMap((n) => wrap(n, 11, WIDTH - 32));
  const height = HEIGHT + NOTE_LINE * noteLines.length;

  const px = (x: number): number => plotLeft + X_INSET + unit(xAxis, x) * (plotRight - plotLeft - 2 * X_INSET);
  const py = (y: number): number => PLOT_BOTTOM - unit(yAxis, y) * (PLOT_BOTTOM - PLOT_TOP);

  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${FONT}" font-size="12" fill="#222222">`);
  out.push(`<title>${escapeXml(chart.title)}</title>`);
  out.push(`<rect class="background" x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`);
  // A long title gets a smaller font so it fits the width (down to 10 px; bold glyphs average ~0.6 em).
  const titleSize = Math.min(16, Math.max(10, Math.floor((WIDTH - 32) / (chart.title.length * 0.6))));
  out.push(`<text class="title" x="16" y="26" font-size="${titleSize}" font-weight="bold">${escapeXml(chart.title)}</text>`);

  // Grid, axes, ticks.
  out.push('<g class="axis x">');
  for (const t of xAxis.ticks) {
    const x = r1(px(t));
    out.push(`<line class="grid" x1="${x}" y1="${PLOT_TOP}" x2="${x}" y2="${PLOT_BOTTOM}" stroke="#eeeeee"/>`);
    out.push(`<line x1="${x}" y1="${PLOT_BOTTOM}" x2="${x}" y2="${PLOT_BOTTOM + 5}" stroke="#444444"/>`);
    out.push(`<text class="tick" x="${x}" y="${PLOT_BOTTOM + 18}" font-size="11" text-anchor="middle">${formatNumber(t)}</text>`);
  }
  out.push(`<line class="axis-line" x1="${r1(plotLeft)}" y1="${PLOT_BOTTOM}" x2="${r1(plotRight)}" y2="${PLOT_BOTTOM}" stroke="#444444"/>`);
  out.push(`<text class="label" x="${r1((plotLeft + plotRight) / 2)}" y="${PLOT_BOTTOM + 44}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`);
  out.push('</g>');
  out.push('<g class="axis y">');
  yAxis.ticks.forEach((t, i) => {
    const y = r1(py(t));
    out.push(`<line class="grid" x1="${r1(plotLeft)}" y1="${y}" x2="${r1(plotRight)}" y2="${y}" stroke="#e4e4e4"/>`);
    out.push(`<line x1="${r1(plotLeft - 5)}" y1="${y}" x2="${r1(plotLeft)}" y2="${y}" stroke="#444444"/>`);
    out.push(`<text class="tick" x="${r1(plotLeft - 8)}" y="${r1(py(t) + 4)}" font-size="11" text-anchor="end">${yTickLabels[i]}</text>`);
  });
  out.push(`<line class="axis-line" x1="${r1(plotLeft)}" y1="${PLOT_TOP}" x2="${r1(plotLeft)}" y2="${PLOT_BOTTOM}" stroke="#444444"/>`);
  const yMid = r1((PLOT_TOP + PLOT_BOTTOM) / 2);
  out.push(`<text class="label" x="22" y="${yMid}" text-anchor="middle" transform="rotate(-90 22 ${yMid})">${escapeXml(chart.yLabel)}</text>`);
  out.push('</g>');

  // Series: the line, then the whiskers and markers over it.
  for (const s of series) {
    out.push(`<g class="series" data-label="${escapeXml(s.label)}">`);
    const d: string[] = [];
    let penDown = false;
    for (const p of s.points) {
      if (p.y === null) penDown = false;
      else {
        d.push(`${penDown ? 'L' : 'M'}${r1(px(p.x))} ${r1(py(p.y))}`);
        penDown = true;
      }
    }
    out.push(`<path class="line" d="${d.join(' ')}" fill="none" stroke="${s.colour}" stroke-width="2" stroke-linejoin="round"/>`);
    for (const p of s.points) {
      if (p.y === null || p.p90 === undefined || !(p.p90 > p.y)) continue;
      const x = px(p.x);
      const top = r1(py(p.p90));
      out.push(`<line class="p90" x1="${r1(x)}" y1="${r1(py(p.y))}" x2="${r1(x)}" y2="${top}" stroke="${s.colour}" stroke-width="1.5"/>`);
      out.push(`<line class="p90" x1="${r1(x - 4)}" y1="${top}" x2="${r1(x + 4)}" y2="${top}" stroke="${s.colour}" stroke-width="1.5"/>`);
    }
    for (const p of s.points) if (p.y !== null) out.push(marker(s.shape, px(p.x), py(p.y), s.colour, false, 'point', describePoint(s.label, p)));
    out.push('</g>');
  }

  // Unfinished points: hollow markers on the top edge, side by side where several series stop at the same x, and one
  // label per x (its notes) above them, on one of two rows so that neighbouring labels do not overlap.
  if (anyUnfinished) {
    const byX = new Map<number, { s: (typeof series)[number]; p: BenchPoint }[]>();
    for (const s of series) for (const p of s.points) if (p.y === null) byX.set(p.x, [...(byX.get(p.x) ?? []), { s, p }]);
    const rowsRight = [-Infinity, -Infinity];
    out.push('<g class="unfinished">');
    for (const x of [...byX.keys()].sort((a, b) => a - b)) {
      const group = byX.get(x) ?? [];
      const cx = px(x);
      group.forEach(({ s, p }, i) => out.push(marker(s.shape, cx + (i - (group.length - 1) / 2) * 11, PLOT_TOP, s.colour, true, 'timeout', describePoint(s.label, p))));
      const text = [...new Set(group.map(({ p }) => p.note || 'did not finish'))].join('; ');
      const w = textWidth(text, 10);
      const centre = Math.min(Math.max(cx, 8 + w / 2), WIDTH - 8 - w / 2);
      let row = rowsRight.findIndex((right) => right + 6 <= centre - w / 2);
      if (row < 0) row = rowsRight[0] <= rowsRight[1] ? 0 : 1;
      rowsRight[row] = centre + w / 2;
      out.push(`<text class="timeout-note" x="${r1(centre)}" y="${PLOT_TOP - 10 - 12 * row}" font-size="10" text-anchor="middle" fill="#555555">${escapeXml(text)}</text>`);
    }
    out.push('</g>');
  }

  // Legend.
  out.push('<g class="legend">');
  let ly = PLOT_TOP + 8;
  for (const e of legendEntries) {
    out.push(`<g class="legend-entry">`);
    out.push(`<line x1="${r1(legendX)}" y1="${r1(ly)}" x2="${r1(legendX + 22)}" y2="${r1(ly)}" stroke="${e.colour}" stroke-width="2"/>`);
    out.push(marker(e.shape, legendX + 11, ly, e.colour, false, 'legend-marker'));
    e.lines.forEach((l, i) => out.push(`<text class="legend-label" x="${r1(legendX + 30)}" y="${r1(ly + 4 + 14 * i)}">${escapeXml(l)}</text>`));
    out.push('</g>');
    ly += 14 * e.lines.length + 8;
  }
  if (anyUnfinished) {
    out.push(`<g class="legend-entry">`);
    out.push(marker('circle', legendX + 11, ly, '#555555', true, 'legend-marker'));
    out.push(`<text class="legend-label" x="${r1(legendX + 30)}" y="${r1(ly + 4)}" fill="#555555">did not finish</text>`);
    out.push('</g>');
  }
  out.push('</g>');

  if (noteLines.length) {
    out.push('<g class="notes">');
    noteLines.forEach((l, i) => out.push(`<text class="note" x="16" y="${HEIGHT - 2 + NOTE_LINE * i}" font-size="11" fill="#444444">${escapeXml(l)}</text>`));
    out.push('</g>');
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
