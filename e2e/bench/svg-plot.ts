/*
 * Plots as SVG strings, with no dependency: the bench and the chaos run draw their figures with these
 * (svg-figures.ts), and the docs show the files. Pure functions: data in, an SVG document out.
 */

/** One line of a chart: points in data units; `step` draws a staircase (a CDF), `dashed` a reference. */
export interface Series {
  name: string;
  points: [number, number][];
  dashed?: boolean;
  step?: boolean;
  color?: string;
}

export interface Axis {
  label: string;
  /** Logarithmic (base 10); values ≤ 0 are left out. */
  log?: boolean;
  min?: number;
  max?: number;
}

/** A vertical line across the plot at `x`, labelled at its top (a phase starting, a fault). */
export interface Marker {
  x: number;
  label: string;
}

export interface LineChart {
  title: string;
  x: Axis;
  y: Axis;
  series: Series[];
  markers?: Marker[];
  width?: number;
  height?: number;
}

export const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

export const FONT = 'font-family="Helvetica, Arial, sans-serif"';

/** Text for an SVG document: &, <, > and quotes escaped. */
export const esc = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** A number as a tick label: no trailing zeros, thousands as k. */
export function fmt(v: number): string {
  if (Math.abs(v) >= 10_000) return `${+(v / 1000).toFixed(1)}k`;
  return String(+v.toPrecision(3));
}

/** The root element of a document `w`×`h` with a white background. */
export const svgRoot = (w: number, h: number, body: string): string =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" ${FONT} font-size="11">` +
  `<rect width="${w}" height="${h}" fill="#fff"/>${body}</svg>\n`;

/** Ticks at 1, 2 or 5 × 10^k covering [min, max], about `count` of them. */
export function linearTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => (max - min) / s <= count + 1) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step / 1e6; v += step) out.push(+v.toPrecision(12));
  return out;
}

/** Ticks at m × 10^k in [min, max]: every m within a decade, 1, 2, 5 over a few, the powers of ten over many. */
export function logTicks(min: number, max: number): number[] {
  const out: number[] = [];
  const decades = Math.log10(max / min);
  const mantissas = decades > 4 ? [1] : decades > 0.7 ? [1, 2, 5] : [1, 2, 3, 4, 5, 6, 7, 8, 9];
  for (let k = Math.floor(Math.log10(min)); k <= Math.ceil(Math.log10(max)); k++)
    for (const m of mantissas) {
      const v = m * 10 ** k;
      if (v >= min * 0.999 && v <= max * 1.001) out.push(+v.toPrecision(12));
    }
  return out;
}

/** The data range an axis shows: its own bounds, else the values' (padded when they are all equal). */
export function range(axis: Axis, values: number[]): [number, number] {
  const vs = values.filter((v) => Number.isFinite(v) && (!axis.log || v > 0));
  let lo = axis.min ?? (vs.length ? Math.min(...vs) : axis.log ? 1 : 0);
  let hi = axis.max ?? (vs.length ? Math.max(...vs) : lo + 1);
  if (hi <= lo) [lo, hi] = axis.log ? [lo / 2, hi * 2] : [lo - 1, hi + 1];
  // Headroom above a linear axis's highest value, so the line clears the frame and the labels.
  else if (axis.max === undefined && !axis.log) hi += (hi - lo) * 0.08;
  return [lo, hi];
}

/** Maps data values of an axis onto pixels [p0, p1]. */
export function scale(axis: Axis, [lo, hi]: [number, number], p0: number, p1: number): (v: number) => number {
  const t = axis.log
    ? (v: number): number => (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))
    : (v: number): number => (v - lo) / (hi - lo);
  return (v) => +(p0 + t(v) * (p1 - p0)).toFixed(1);
}

/** Points of a staircase through `points` (each value holds until the next x). */
function stairs(points: [number, number][]): [number, number][] {
  return points.flatMap(([x, y], i): [number, number][] =>
    i === 0
      ? [[x, y]]
      : [
          [x, points[i - 1][1]],
          [x, y],
        ],
  );
}

interface Frame {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Title and legend (a wrapping row of swatches) at the top; returns their markup and height. */
function header(title: string, series: Series[], width: number): { svg: string; height: number } {
  let svg = `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`;
  let [x, y] = [12, 36];
  series.forEach((s, i) => {
    const w = 34 + s.name.length * 6.2;
    if (x + w > width - 8 && x > 12) [x, y] = [12, y + 16];
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const dash = s.dashed ? ' stroke-dasharray="5,3"' : '';
    svg += `<g class="legend"><line x1="${x}" y1="${y - 4}" x2="${x + 22}" y2="${y - 4}" stroke="${color}" stroke-width="2"${dash}/>`;
    svg += `<text x="${x + 26}" y="${y}">${esc(s.name)}</text></g>`;
    x += w;
  });
  return { svg, height: series.length ? y + 8 : 28 };
}

/** The data ranges of a chart and their mappings onto pixels. */
interface Scales {
  xr: [number, number];
  yr: [number, number];
  sx: (v: number) => number;
  sy: (v: number) => number;
}

/** Grid lines, ticks and labels of both axes around frame `f`. */
function axes(c: LineChart, f: Frame, { xr, yr, sx, sy }: Scales): string {
  const xt = c.x.log ? logTicks(...xr) : linearTicks(...xr, 6);
  const yt = c.y.log ? logTicks(...yr) : linearTicks(...yr, 5);
  let svg = '';
  for (const v of xt)
    svg +=
      `<line class="grid" x1="${sx(v)}" y1="${f.top}" x2="${sx(v)}" y2="${f.bottom}" stroke="#e5e5e5"/>` +
      `<text x="${sx(v)}" y="${f.bottom + 14}" text-anchor="middle">${fmt(v)}</text>`;
  for (const v of yt)
    svg +=
      `<line class="grid" x1="${f.left}" y1="${sy(v)}" x2="${f.right}" y2="${sy(v)}" stroke="#e5e5e5"/>` +
      `<text x="${f.left - 5}" y="${sy(v) + 4}" text-anchor="end">${fmt(v)}</text>`;
  svg += `<rect x="${f.left}" y="${f.top}" width="${f.right - f.left}" height="${f.bottom - f.top}" fill="none" stroke="#333"/>`;
  svg += `<text x="${(f.left + f.right) / 2}" y="${f.bottom + 32}" text-anchor="middle">${esc(c.x.label)}</text>`;
  const ym = (f.top + f.bottom) / 2;
  svg += `<text x="14" y="${ym}" text-anchor="middle" transform="rotate(-90 14 ${ym})">${esc(c.y.label)}</text>`;
  return svg;
}

/** A line chart: every series as a polyline, markers as labelled vertical lines, legend on top. */
export function lineChart(c: LineChart): string {
  const [width, height] = [c.width ?? 640, c.height ?? 360];
  const head = header(c.title, c.series, width);
  const f: Frame = { left: 58, top: head.height + 6, right: width - 16, bottom: height - 42 };
  const visible = (s: Series): [number, number][] =>
    s.points.filter(
      ([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!c.x.log || x > 0) && (!c.y.log || y > 0),
    );
  const all = c.series.flatMap(visible);
  const xr = range(c.x, [...all.map((p) => p[0]), ...(c.markers ?? []).map((m) => m.x)]);
  const yr = range(
    c.y,
    all.map((p) => p[1]),
  );
  const sx = scale(c.x, xr, f.left, f.right);
  const sy = scale(c.y, yr, f.bottom, f.top);
  let body = head.svg + axes(c, f, { xr, yr, sx, sy });
  for (const m of c.markers ?? []) {
    const x = sx(m.x);
    body +=
      `<g class="marker"><line x1="${x}" y1="${f.top}" x2="${x}" y2="${f.bottom}" stroke="#999" stroke-dasharray="2,3"/>` +
      `<text x="${x + 3}" y="${f.top + 11}" fill="#555">${esc(m.label)}</text></g>`;
  }
  c.series.forEach((s, i) => {
    const pts = s.step ? stairs(visible(s)) : visible(s);
    if (!pts.length) return;
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const dash = s.dashed ? ' stroke-dasharray="5,3"' : '';
    body += `<polyline class="series" fill="none" stroke="${color}" stroke-width="1.8"${dash} points="${pts.map(([x, y]) => `${sx(x)},${sy(y)}`).join(' ')}"><title>${esc(s.name)}</title></polyline>`;
  });
  return svgRoot(width, height, body);
}

/**
 * The points of an empirical CDF: from raw samples, or from (quantile, value) pairs when only those
 * were kept (p50, p95, p99, max). Fraction on y, value on x.
 */
export function cdfPoints(from: { samples?: number[]; quantiles?: [number, number][] }): [number, number][] {
  if (from.samples) {
    const s = [...from.samples].sort((a, b) => a - b);
    return s.map((v, i) => [v, (i + 1) / s.length]);
  }
  return [...(from.quantiles ?? [])].sort((a, b) => a[0] - b[0]).map(([q, v]) => [v, q]);
}

/** Charts side by side, `columns` to a row, in one document (each keeps its own size). */
export function grid(charts: string[], columns: number): string {
  const size = (svg: string): [number, number] => {
    const m = /^<svg[^>]* width="(\d+)" height="(\d+)"/.exec(svg);
    return m ? [Number(m[1]), Number(m[2])] : [640, 360];
  };
  const sizes = charts.map(size);
  const cellW = Math.max(...sizes.map((s) => s[0]), 1);
  const cellH = Math.max(...sizes.map((s) => s[1]), 1);
  const rows = Math.ceil(charts.length / columns);
  const body = charts
    .map((svg, i) => {
      const [x, y] = [(i % columns) * cellW, Math.floor(i / columns) * cellH];
      return svg.trim().replace(/^<svg /, `<svg x="${x}" y="${y}" `);
    })
    .join('');
  return svgRoot(Math.min(charts.length, columns) * cellW, rows * cellH, body);
}
