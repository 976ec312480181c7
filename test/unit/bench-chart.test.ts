/**
 * bench/chart.ts (the SVG line charts of the benchmark results) and bench/render-charts.ts (the command that renders
 * bench/results/*.json). The SVG is parsed by the small, strict XML parser below (no dependency).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BenchFormatError, formatNumber, linearAxis, logAxis, renderLineChart, validateBenchResult, type BenchChart } from '../../bench/chart';

// ---------------------------------------------------------------------------------------------------------------------
// A strict parser for the XML subset an SVG uses (declaration, comments, elements, attributes, text, entity and
// character references); throws on anything not well-formed: unbalanced or crossed tags, a second root, duplicate or
// unquoted attributes, a raw `<` or `&` in text or attributes, unknown entities.

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string; // the element's own text, references resolved
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const NAME = '[A-Za-z_:][-A-Za-z0-9._:]*';

function decode(raw: string, where: number): string {
  if (raw.includes('<')) throw new Error(`raw "<" at ${where}`);
  return raw.replace(/&([^;]*);|&/g, (m, ref: string | undefined) => {
    if (ref === undefined) throw new Error(`bare "&" at ${where}`);
    if (/^#[0-9]+$/.test(ref)) return String.fromCodePoint(Number(ref.slice(1)));
    if (/^#x[0-9A-Fa-f]+$/.test(ref)) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref in ENTITIES) return ENTITIES[ref];
    throw new Error(`unknown entity ${m} at ${where}`);
  });
}

function parseXml(doc: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  if (doc.startsWith('<?xml')) {
    const end = doc.indexOf('?>');
    if (end < 0) throw new Error('unterminated XML declaration');
    i = end + 2;
  }
  const tagRe = new RegExp(`^<(/?)(${NAME})((?:\\s+${NAME}\\s*=\\s*(?:"[^"]*"|'[^']*'))*)\\s*(/?)>`);
  const attrRe = new RegExp(`(${NAME})\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'g');
  while (i < doc.length) {
    const lt = doc.indexOf('<', i);
    const text = doc.slice(i, lt < 0 ? doc.length : lt);
    if (stack.length) stack[stack.length - 1].text += decode(text, i);
    else if (text.trim() !== '') throw new Error(`text outside the root at ${i}`);
    if (lt < 0) break;
    if (doc.startsWith('<!--', lt)) {
      const end = doc.indexOf('-->', lt + 4);
      if (end < 0) throw new Error('unterminated comment');
      i = end + 3;
      continue;
    }
    const m = tagRe.exec(doc.slice(lt));
    if (!m) throw new Error(`malformed tag at ${lt}: ${doc.slice(lt, lt + 40)}`);
    const [whole, closing, name, attrText, selfClosing] = m;
    i = lt + whole.length;
    if (closing) {
      if (attrText || selfClosing) throw new Error(`malformed end tag at ${lt}`);
      const open = stack.pop();
      if (open?.name !== name) throw new Error(`</${name}> at ${lt} closes <${open?.name ?? 'nothing'}>`);
      continue;
    }
    const el: XmlElement = { name, attrs: {}, children: [], text: '' };
    for (const a of attrText.matchAll(attrRe)) {
      if (a[1] in el.attrs) throw new Error(`duplicate attribute ${a[1]} at ${lt}`);
      el.attrs[a[1]] = decode(a[2] ?? a[3], lt);
    }
    if (stack.length) stack[stack.length - 1].children.push(el);
    else if (root) throw new Error(`a second root element <${name}> at ${lt}`);
    else root = el;
    if (!selfClosing) stack.push(el);
  }
  if (stack.length) throw new Error(`<${stack[stack.length - 1].name}> is not closed`);
  if (!root) throw new Error('no root element');
  return root;
}

const all = (el: XmlElement): XmlElement[] => [el, ...el.children.flatMap(all)];
const hasClass = (el: XmlElement, cls: string): boolean => (el.attrs.class ?? '').split(' ').includes(cls);
const byClass = (el: XmlElement, cls: string): XmlElement[] => all(el).filter((e) => hasClass(e, cls));
const one = (el: XmlElement, cls: string): XmlElement => {
  const found = byClass(el, cls);
  if (found.length !== 1) throw new Error(`${found.length} elements of class ${cls}`);
  return found[0];
};
/** The tick values and their positions (x for the x axis, y of the tick mark for the y axis). */
function ticks(svg: XmlElement, axis: 'x' | 'y'): { value: number; pos: number }[] {
  const g = all(svg).find((e) => hasClass(e, 'axis') && hasClass(e, axis));
  if (!g) throw new Error(`no ${axis} axis`);
  return byClass(g, 'tick').map((t) => ({ value: Number(t.text), pos: Number(axis === 'x' ? t.attrs.x : t.attrs.y) - (axis === 'y' ? 4 : 0) }));
}
/** The centre of a marker (circle, rect or polygon). */
function centre(el: XmlElement): { x: number; y: number } {
  if (el.name === 'circle') return { x: Number(el.attrs.cx), y: Number(el.attrs.cy) };
  if (el.name === 'rect') return { x: Number(el.attrs.x) + Number(el.attrs.width) / 2, y: Number(el.attrs.y) + Number(el.attrs.height) / 2 };
  const pts = el.attrs.points.split(' ').map((p) => p.split(',').map(Number));
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  return { x: (Math.min(...xs) + Math.max(...xs)) / 2, y: (Math.min(...ys) + Math.max(...ys)) / 2 };
}
/** The points of a path's subpaths (M starts one, L continues it). */
const subpaths = (d: string): number[][][] =>
  d === '' ? [] : d.split(/(?=M)/).map((sp) => [...sp.matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]));

const render = (chart: BenchChart): XmlElement => parseXml(renderLineChart(chart));

/** 1, 2 or 5 × 10^k. */
const isOneTwoFive = (v: number): boolean => {
  const m = Math.abs(v) / 10 ** Math.floor(Math.log10(Math.abs(v)) + 1e-9);
  return [1, 2, 5].some((n) => Math.abs(m - n) < 1e-9);
};

const scaleUp = (): BenchChart => ({
  id: 'up',
  title: '0 → N Ready Pods',
  xLabel: 'N (worker Pods)',
  yLabel: 'seconds',
  series: [
    { label: 'operator', points: [{ x: 10, y: 0.2, p90: 0.3 }, { x: 50, y: 0.51 }, { x: 100, y: 1.07, p90: 1.3 }, { x: 300, y: 3.2 }] },
    { label: 'Deployment', points: [{ x: 10, y: 0.8 }, { x: 50, y: 1.84 }, { x: 100, y: 3.97 }, { x: 300, y: null, note: 'timeout 60 s' }] },
    { label: 'floor', points: [{ x: 10, y: 0.1 }, { x: 50, y: 0.44 }, { x: 100, y: 0.85 }, { x: 300, y: 2.5 }] },
  ],
  notes: ['Medians of 5 runs; whiskers: p90.'],
});

describe('the parser this test uses', () => {
  test('rejects what is not well-formed', () => {
    expect(parseXml('<a x="1"><b/>t &amp; &#x3C;</a>').children[0].name).toBe('b');
    for (const bad of ['<a><b></a></b>', '<a>', '<a/><b/>', '<a x="1" x="2"/>', '<a x=1/>', '<a>&nbsp;</a>', '<a>1 & 2</a>', '<a x="<"/>']) expect(() => parseXml(bad)).toThrow();
  });
});

describe('renderLineChart', () => {
  test('a standalone, well-formed SVG document: size, viewBox, white background, sans-serif, title', () => {
    const text = renderLineChart(scaleUp());
    expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg ')).toBe(true);
    const svg = parseXml(text);
    expect(svg.name).toBe('svg');
    expect(svg.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(svg.attrs.width).toBe('720');
    const height = Number(svg.attrs.height);
    expect(height).toBeGreaterThanOrEqual(420);
    expect(svg.attrs.viewBox).toBe(`0 0 720 ${height}`);
    expect(svg.attrs['font-family']).toMatch(/sans-serif$/);
    const bg = one(svg, 'background');
    expect([bg.attrs.fill, bg.attrs.width, bg.attrs.height]).toEqual(['#ffffff', '720', String(height)]);
    expect(one(svg, 'title').text).toBe('0 → N Ready Pods');
    expect(byClass(svg, 'label').map((l) => l.text)).toEqual(['N (worker Pods)', 'seconds']);
    expect(byClass(svg, 'note').map((l) => l.text)).toEqual(['Medians of 5 runs; whiskers: p90.']);
    expect(text).not.toMatch(/NaN|undefined|Infinity/);
  });

  test('a long title gets a smaller font, so that it fits the width', () => {
    const size = (title: string) => Number(one(parseXml(renderLineChart({ ...scaleUp(), title })), 'title').attrs['font-size']);
    expect(size('0 → N Ready Pods')).toBe(16);
    const long = 'kubectl scale N → floor(N/2) with a persisted dataset: until the target is reached, ours vs upstream';
    expect(size(long)).toBeLessThan(16);
    expect(long.length * size(long) * 0.6).toBeLessThanOrEqual(720 - 32);
  });

  test('one path per series, in its own colour; a legend entry with its label and colour per series', () => {
    const svg = render(scaleUp());
    const paths = all(svg).filter((e) => e.name === 'path');
    expect(paths).toHaveLength(3);
    const colours = paths.map((p) => p.attrs.stroke);
    expect(new Set(colours).size).toBe(3);
    const entries = byClass(svg, 'legend-entry');
    const labels = entries.map((e) => byClass(e, 'legend-label').map((l) => l.text).join(' '));
    expect(labels).toEqual(['operator', 'Deployment', 'floor', 'did not finish']);
    entries.slice(0, 3).forEach((e, i) => expect(e.children.find((c) => c.name === 'line')?.attrs.stroke).toBe(colours[i]));
    // A marker per point: 4 + 3 finished (the timeout is drawn separately).
    expect(byClass(svg, 'point')).toHaveLength(11);
  });

  test('the line joins the finished points in order of x, through their markers, and stops at an unfinished one', () => {
    const chart = scaleUp();
    chart.series[0].points.reverse(); // given out of order
    chart.series.push({ label: 'gap', points: [{ x: 10, y: 1 }, { x: 50, y: null }, { x: 100, y: 2 }, { x: 300, y: 2.2 }] });
    const svg = render(chart);
    const series = byClass(svg, 'series');
    const [operator, , , gap] = series.map((g) => subpaths(g.children.find((c) => c.name === 'path')?.attrs.d ?? ''));
    expect(operator).toHaveLength(1);
    const xs = operator[0].map((p) => p[0]);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    const markers = byClass(series[0], 'point').map(centre);
    expect(operator[0]).toEqual(markers.map((m) => [m.x, m.y]));
    expect(gap.map((sp) => sp.length)).toEqual([1, 2]);
  });

  test('the marker of a point sits at its value on both axes (linear; y from 0)', () => {
    const svg = render({ id: 'c', title: 't', xLabel: 'x', yLabel: 'y', series: [{ label: 's', points: [{ x: 20, y: 40 }, { x: 60, y: 10 }] }] });
    const xt = ticks(svg, 'x');
    const yt = ticks(svg, 'y');
    expect(yt[0].value).toBe(0);
    const at = (t: { value: number; pos: number }[], v: number): number => {
      const a = t[0];
      const b = t[t.length - 1];
      return a.pos + ((v - a.value) / (b.value - a.value)) * (b.pos - a.pos);
    };
    const [p, q] = byClass(svg, 'point').map(centre);
    expect(p.x).toBeCloseTo(at(xt, 20), 0);
    expect(p.y).toBeCloseTo(at(yt, 40), 0);
    expect(q.x).toBeCloseTo(at(xt, 60), 0);
    expect(q.y).toBeCloseTo(at(yt, 10), 0);
  });

  test.each([
    ['small', [0.12, 0.31, 0.47]],
    ['uneven', [3, 7, 150, 1020]],
    ['large', [120_000, 3_400_000]],
    ['negative', [-7, 2.5, 13]],
    ['one value', [42]],
  ])('linear ticks are evenly spaced 1-2-5 steps that cover the data (%s)', (_, values) => {
    const chart: BenchChart = { id: 'c', title: 't', xLabel: 'x', yLabel: 'y', series: [{ label: 's', points: values.map((v) => ({ x: v, y: Math.abs(v) })) }] };
    const svg = render(chart);
    for (const axis of ['x', 'y'] as const) {
      const t = ticks(svg, axis).map((k) => k.value);
      const data = axis === 'x' ? values : values.map(Math.abs);
      expect(t.length).toBeGreaterThanOrEqual(2);
      expect(t.length).toBeLessThanOrEqual(11);
      const step = t[1] - t[0];
      expect(isOneTwoFive(step)).toBe(true);
      t.forEach((v, i) => {
        expect(v).toBeCloseTo(t[0] + i * step, 9);
        expect(Math.abs(v / step - Math.round(v / step))).toBeLessThan(1e-6); // multiples of the step
      });
      expect(t[0]).toBeLessThanOrEqual(Math.min(...data));
      expect(t[t.length - 1]).toBeGreaterThanOrEqual(Math.max(...data));
      if (axis === 'y') expect(t[0]).toBe(0);
    }
  });

  test('log axes: powers of ten, evenly spaced; 2 and 5 between them over a small range', () => {
    const svg = render({ id: 'c', title: 't', xLabel: 'x', yLabel: 'y', logX: true, logY: true, series: [{ label: 's', points: [{ x: 1, y: 3 }, { x: 30, y: 12 }, { x: 1000, y: 80 }] }] });
    const xt = ticks(svg, 'x');
    expect(xt.map((t) => t.value)).toEqual([1, 10, 100, 1000]);
    const gaps = xt.slice(1).map((t, i) => t.pos - xt[i].pos);
    for (const g of gaps) expect(g).toBeCloseTo(gaps[0], 0);
    const yt = ticks(svg, 'y');
    expect(yt.map((t) => t.value)).toEqual([1, 2, 5, 10, 20, 50, 100]);
    // 1 → 10 is as far as 10 → 100; 2 lies log10(2) of the way.
    const [y1, y2, , y10, , , y100] = yt.map((t) => t.pos);
    expect(y10 - y1).toBeCloseTo(y100 - y10, 0);
    expect((y2 - y1) / (y10 - y1)).toBeCloseTo(Math.log10(2), 2);
    // The point x = 30 lies between the ticks 10 and 100, log10(3) of the way.
    const p = byClass(svg, 'point').map(centre)[1];
    expect((p.x - xt[1].pos) / (xt[2].pos - xt[1].pos)).toBeCloseTo(Math.log10(3), 2);
  });

  test('log and linear axis helpers on their own', () => {
    expect(logAxis([0.004, 7e5]).ticks.every((t) => isOneTwoFive(t) && /^1(e-?\d+)?$/.test(t.toExponential(0).replace('e+', 'e')))).toBe(true);
    expect(logAxis([0.004, 7e5]).ticks.length).toBeLessThanOrEqual(8);
    const wide = logAxis([1, 1e12]);
    expect(wide.lo).toBe(1);
    expect(wide.hi).toBeGreaterThanOrEqual(1e12);
    expect(logAxis([100]).ticks).toEqual([10, 20, 50, 100, 200, 500, 1000]);
    expect(logAxis([]).ticks).toEqual([1, 2, 5, 10]);
    expect(linearAxis([0.1, 0.3], 5, true).ticks).toEqual([0, 0.1, 0.2, 0.3]);
    expect(formatNumber(0.1 + 0.2)).toBe('0.3');
    expect(formatNumber(2_000_000)).toBe('2e6');
  });

  test('a point that did not finish: a hollow marker on the top edge, labelled with its note', () => {
    const svg = render(scaleUp());
    const marker = one(svg, 'timeout');
    expect(marker.attrs.fill).toBe('#ffffff');
    const colour = all(svg).filter((e) => e.name === 'path')[1].attrs.stroke;
    expect(marker.attrs.stroke).toBe(colour);
    const top = Math.min(...ticks(svg, 'y').map((t) => t.pos));
    const c = centre(marker);
    expect(c.y).toBeCloseTo(top, 0);
    const x300 = byClass(byClass(svg, 'series')[0], 'point').map(centre)[3].x; // the operator's finished x = 300
    expect(c.x).toBeCloseTo(x300, 0);
    const note = one(svg, 'timeout-note');
    expect(note.text).toBe('timeout 60 s');
    expect(Number(note.attrs.y)).toBeLessThan(top);
    // Its line has the three finished points only.
    expect(subpaths(all(svg).filter((e) => e.name === 'path')[1].attrs.d)).toEqual([expect.any(Array)]);
    expect(subpaths(all(svg).filter((e) => e.name === 'path')[1].attrs.d)[0]).toHaveLength(3);
  });

  test('p90 as a whisker above the median marker', () => {
    const svg = render(scaleUp());
    const g = byClass(svg, 'series')[0];
    const whiskers = byClass(g, 'p90');
    expect(whiskers).toHaveLength(4); // two points with a p90, a stem and a cap each
    const stem = whiskers[0];
    const m = byClass(g, 'point').map(centre)[0];
    expect(Number(stem.attrs.x1)).toBeCloseTo(m.x, 0);
    expect(Number(stem.attrs.y1)).toBeCloseTo(m.y, 0);
    expect(Number(stem.attrs.y2)).toBeLessThan(m.y);
  });

  test('edge cases render without NaN: a single point, an all-null series, one x only, no series at all', () => {
    const cases: BenchChart[] = [
      { id: 'a', title: 'single', xLabel: 'x', yLabel: 'y', series: [{ label: 's', points: [{ x: 5, y: 2 }] }] },
      { id: 'b', title: 'all null', xLabel: 'x', yLabel: 'y', series: [{ label: 's', points: [{ x: 1, y: null, note: 'timeout 60 s' }, { x: 2, y: null }] }] },
      { id: 'c', title: 'one x', xLabel: 'x', yLabel: 'y', logX: true, logY: true, series: [{ label: 's', points: [{ x: 50, y: 2 }, { x: 50, y: 3 }] }, { label: 't', points: [{ x: 50, y: null }] }, { label: 'u', points: [{ x: 50, y: null }] }] },
      { id: 'd', title: 'nothing', xLabel: 'x', yLabel: 'y', series: [] },
      { id: 'e', title: 'zeros', xLabel: 'x', yLabel: 'y', series: [{ label: 's', points: [{ x: 0, y: 0 }] }] },
    ];
    for (const chart of cases) {
      const text = renderLineChart(chart);
      expect(text).not.toMatch(/NaN|undefined|Infinity/);
      const svg = parseXml(text);
      expect(all(svg).filter((e) => e.name === 'path')).toHaveLength(chart.series.length);
      for (const axis of ['x', 'y'] as const) {
        const t = ticks(svg, axis).map((k) => k.value);
        expect(t.length).toBeGreaterThanOrEqual(2);
        const data = chart.series.flatMap((s) => s.points).flatMap((p) => (axis === 'x' ? [p.x] : p.y === null ? [] : [p.y]));
        if (data.length) {
          expect(t[0]).toBeLessThanOrEqual(Math.min(...data));
          expect(t[t.length - 1]).toBeGreaterThanOrEqual(Math.max(...data));
        }
      }
    }
    const allNull = render(cases[1]);
    expect(all(allNull).find((e) => e.name === 'path')?.attrs.d).toBe('');
    expect(byClass(allNull, 'timeout')).toHaveLength(2);
    expect(byClass(allNull, 'timeout-note').map((n) => n.text)).toEqual(['timeout 60 s', 'did not finish']);
    const oneX = render(cases[2]);
    expect(subpaths(all(oneX).find((e) => e.name === 'path')?.attrs.d ?? '')).toHaveLength(1);
    // The two series that stop at the same x: markers side by side, not on top of each other.
    const stopped = byClass(oneX, 'timeout').map(centre);
    expect(stopped).toHaveLength(2);
    expect(Math.abs(stopped[0].x - stopped[1].x)).toBeGreaterThanOrEqual(8);
    expect(byClass(oneX, 'timeout-note').map((n) => n.text)).toEqual(['did not finish']);
  });

  test('deterministic: the same input gives the same bytes; coordinates have at most 1 decimal', () => {
    const a = renderLineChart(scaleUp());
    expect(renderLineChart(JSON.parse(JSON.stringify(scaleUp())))).toBe(a);
    expect(renderLineChart(scaleUp())).toBe(a);
    const numbers = [...a.matchAll(/ (?:x|y|x1|x2|y1|y2|cx|cy|width|height|points|d)="([^"]*)"/g)].flatMap((m) => m[1].match(/-?\d+(?:\.\d+)?/g) ?? []);
    expect(numbers.length).toBeGreaterThan(50);
    expect(numbers.filter((n) => /\.\d\d/.test(n))).toEqual([]);
  });

  test('text is escaped for XML, and characters XML does not allow are replaced', () => {
    const nasty = `<b>"R&D" 'q' \u0007`;
    const svg = render({ id: 'c', title: nasty, xLabel: nasty, yLabel: 'y', series: [{ label: nasty, points: [{ x: 1, y: null, note: nasty }] }], notes: [nasty] });
    const expected = nasty.replace('\u0007', '\uFFFD');
    expect(one(svg, 'title').text).toBe(expected);
    expect(byClass(svg, 'series')[0].attrs['data-label']).toBe(expected);
    expect(byClass(svg, 'legend-label')[0].text).toBe(expected);
    expect(one(svg, 'timeout-note').text).toBe(expected);
    expect(one(svg, 'note').text).toBe(expected);
  });

  test('long legend labels and notes wrap instead of running off the image', () => {
    const long = 'Deployment of N replicas (the ReplicaSet controller with its slow-start batching)';
    const note = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const svg = render({ id: 'c', title: 't', xLabel: 'x', yLabel: 'y', series: [{ label: long, points: [{ x: 1, y: 1 }] }], notes: [note] });
    const lines = byClass(svg, 'legend-label');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.map((l) => l.text).join(' ')).toBe(long);
    const notes = byClass(svg, 'note');
    expect(notes.length).toBeGreaterThan(1);
    expect(notes.map((l) => l.text).join(' ')).toBe(note);
    expect(Number(svg.attrs.height)).toBe(420 + 15 * notes.length);
    expect(Math.max(...notes.map((n) => Number(n.attrs.y)))).toBeLessThan(Number(svg.attrs.height));
  });

  test('a malformed chart is refused with the field named', () => {
    expect(() => renderLineChart({ ...scaleUp(), logY: true, series: [{ label: 's', points: [{ x: 1, y: 0 }] }] })).toThrow('chart "up": series[0].points[0].y: must be > 0 on a log y (logY) axis, got 0');
  });
});

describe('validateBenchResult', () => {
  const result = (): Record<string, unknown> => ({ bench: 'scale-up', date: '2026-12-02', machine: '2 cores', versions: { node: 'v24.21.0' }, raw: { up: [1, 2] }, charts: [scaleUp()] });
  const problem = (mutate: (r: any) => void): string => {
    const r = result();
    mutate(r);
    try {
      validateBenchResult(r, 'bench/results/x.json');
    } catch (e) {
      expect(e).toBeInstanceOf(BenchFormatError);
      return (e as Error).message;
    }
    throw new Error('accepted');
  };

  test('accepts a result with extra fields and returns it', () => {
    const r = result();
    expect(validateBenchResult(r, 'f')).toBe(r);
  });

  test.each<[string, (r: any) => void, string]>([
    ['an empty object', (r) => Object.keys(r).forEach((k) => delete r[k]), 'bench: expected a string, got nothing'],
    ['date', (r) => (r.date = 20261202), 'date: expected a string, got 20261202'],
    ['versions', (r) => (r.versions = { node: 24 }), 'versions.node: expected a string, got 24'],
    ['charts', (r) => delete r.charts, 'charts: expected an array, got nothing'],
    ['id', (r) => (r.charts[0].id = '../up'), 'charts[0].id: "../up" is not usable in a file name'],
    ['duplicate id', (r) => r.charts.push(scaleUp()), 'charts[1].id: "up" is also the id of charts[0]'],
    ['title', (r) => delete r.charts[0].title, 'charts[0].title: expected a string, got nothing'],
    ['logX', (r) => (r.charts[0].logX = 'yes'), 'charts[0].logX: expected true or false, got "yes"'],
    ['x', (r) => (r.charts[0].series[1].points[2].x = '100'), 'charts[0].series[1].points[2].x: expected a finite number, got "100"'],
    ['y', (r) => (r.charts[0].series[1].points[2].y = '3.97'), 'charts[0].series[1].points[2].y: expected a finite number or null (did not finish), got "3.97"'],
    ['missing y', (r) => delete r.charts[0].series[1].points[2].y, 'charts[0].series[1].points[2].y: expected a finite number or null (did not finish), got nothing'],
    ['p90 below y', (r) => (r.charts[0].series[0].points[0].p90 = 0.1), 'charts[0].series[0].points[0].p90: must be at least y (0.2), got 0.1'],
    ['log x', (r) => ((r.charts[0].logX = true), (r.charts[0].series[2].points[0].x = 0)), 'charts[0].series[2].points[0].x: must be > 0 on a log x (logX) axis, got 0'],
    ['a typo', (r) => (r.charts[0].series[0].lable = 'x'), 'charts[0].series[0].lable: unknown field (expected one of label, points)'],
    ['notes', (r) => (r.charts[0].notes = ['ok', 3]), 'charts[0].notes[1]: expected a string, got 3'],
  ])('names the file and the field: %s', (_, mutate, message) => {
    expect(problem(mutate)).toContain(`bench/results/x.json: ${message}`);
  });

  test('a top level that is not an object', () => {
    expect(() => validateBenchResult([], 'f.json')).toThrow('f.json: (top level): expected an object, got an array');
  });
});

describe('render-charts (node bench/run.js render-charts)', () => {
  const repo = path.join(__dirname, '..', '..');
  const run = (...files: string[]): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, [path.join(repo, 'bench', 'run.js'), 'render-charts', ...files], { cwd: repo, encoding: 'utf8' });
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-chart-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('writes <basename>-<chart id>.svg next to each file; a malformed file is named with its field, the others still render, exit 1', () => {
    const good = path.join(dir, 'scale-up-2026-12-02.json');
    const mem: BenchChart = { id: 'rss', title: 'RSS', xLabel: 'clusters', yLabel: 'MiB', series: [{ label: 'operator', points: [{ x: 1, y: 75 }] }] };
    fs.writeFileSync(good, JSON.stringify({ bench: 'scale-up', date: '2026-12-02', machine: '2 cores', charts: [scaleUp(), mem] }));
    const bad = path.join(dir, 'bad.json');
    const chart = scaleUp() as unknown as { series: { points: { y: unknown }[] }[] };
    chart.series[0].points[1].y = 'fast';
    fs.writeFileSync(bad, JSON.stringify({ bench: 'b', date: 'd', machine: 'm', charts: [chart] }));
    const notJson = path.join(dir, 'broken.json');
    fs.writeFileSync(notJson, '{"bench": ');

    const r = run(bad, good, notJson);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`render-charts: ${bad}: charts[0].series[0].points[1].y: expected a finite number or null (did not finish), got "fast"`);
    expect(r.stderr).toContain(`render-charts: ${notJson}: not valid JSON`);
    const written = [path.join(dir, 'scale-up-2026-12-02-up.svg'), path.join(dir, 'scale-up-2026-12-02-rss.svg')];
    expect(r.stdout.trim().split('\n')).toEqual(written.map((f) => `wrote ${f}`));
    expect(fs.readFileSync(written[0], 'utf8')).toBe(renderLineChart(scaleUp()));
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('bad'))).toEqual(['bad.json']);

    const again = run(good);
    expect(again.status).toBe(0);
    expect(again.stdout.trim().split('\n')).toEqual(written.map((f) => `unchanged ${f}`));
  });
});
