import type { LatencyResult, RateResult } from './latency.js';
import type { RssSeries } from './rss-series.js';
import { cdfPoints, grid, lineChart, type Series } from './svg-plot.js';

/*
 * The bench's figures, from its results JSON: the latency distribution (ours against the floor),
 * the operator's memory over the latency phase, and the scale curve.
 */

/** (quantile, ms) pairs of one side of a rate: every percentile when recorded, else p50/p95/p99/max. */
function quantiles(r: RateResult, side: 'operator' | 'floor'): [number, number][] {
  const curve = r.quantiles?.[side];
  if (curve?.length) return curve.map((v, i) => [i / (curve.length - 1), v]);
  const p = r[side];
  return [
    [0.5, p.p50],
    [0.95, p.p95],
    [0.99, p.p99],
    [1, p.max],
  ];
}

/** One panel per rate run: the CDF of SendMessage → patch seen, ours solid, the floor dashed. */
export function latencySvg(l: LatencyResult): string {
  const runs = new Map<number, number>();
  const panels = l.rates.map((r) => {
    const k = (runs.get(r.rate) ?? 0) + 1;
    runs.set(r.rate, k);
    const repeated = l.rates.filter((x) => x.rate === r.rate).length > 1;
    const series: Series[] = [
      {
        name: `ours (n=${r.operator.n})`,
        step: true,
        color: '#1f77b4',
        points: cdfPoints({ quantiles: quantiles(r, 'operator') }),
      },
      {
        name: `floor (n=${r.floor.n})`,
        step: true,
        dashed: true,
        color: '#d62728',
        points: cdfPoints({ quantiles: quantiles(r, 'floor') }),
      },
    ];
    return lineChart({
      title: `${r.rate} rotations/s${repeated ? `, run ${k}` : ''}: p99 ${r.operator.p99.toFixed(0)} vs ${r.floor.p99.toFixed(0)} ms`,
      x: { label: 'SendMessage → restart seen on a watch (ms, log)', log: true },
      // Runs that kept p50/p95/p99/max only start at the median.
      y: { label: 'fraction of rotations', min: r.quantiles ? 0 : 0.5, max: 1 },
      series,
      width: 420,
      height: 300,
    });
  });
  return grid(panels, 3);
}

/** The operator’s RSS over the latency phase (from when it came up), each rate marked where it began. */
export function memorySvg(s: RssSeries, title = 'Operator RSS over the latency phase'): string {
  return lineChart({
    title,
    x: { label: 'seconds since the operator came up' },
    y: { label: 'RSS (MiB)', min: 0 },
    series: [{ name: `RSS, sampled every ${s.everyMs / 1000} s`, points: s.samples }],
    markers: s.marks.map((m) => ({ x: m.seconds, label: m.label })),
  });
}

/** A point of the scale curve: a mapping count and what was measured there, in ms and MiB. */
export type ScaleCurvePoint = { mappings: number } & Record<string, number>;

/** "coldReadyMs" → "cold ready". */
const words = (key: string): string =>
  key
    .replace(/(Ms|MiB)$/, '')
    .replace(/([A-Z])/g, ' $1')
    .toLowerCase();

/**
 * The scale curve: every `…Ms` field of the points as seconds (left panel), every `…MiB` field as
 * memory (right), against the mapping count (log).
 */
export function scaleCurveSvg(points: ScaleCurvePoint[]): string {
  const sorted = [...points].sort((a, b) => a.mappings - b.mappings);
  const keys = [...new Set(sorted.flatMap((p) => Object.keys(p)))].filter((k) => k !== 'mappings');
  const series = (suffix: string, div: number): Series[] =>
    keys
      .filter((k) => k.endsWith(suffix))
      .map((k) => ({
        name: words(k),
        points: sorted
          .filter((p) => Number.isFinite(p[k]))
          .map((p): [number, number] => [p.mappings, p[k] / div]),
      }));
  const x = { label: 'mappings (log)', log: true };
  const panels = [
    lineChart({
      title: 'Time against mappings',
      x,
      y: { label: 'seconds', min: 0 },
      series: series('Ms', 1000),
      width: 480,
      height: 320,
    }),
    lineChart({
      title: 'Memory against mappings',
      x,
      y: { label: 'MiB', min: 0 },
      series: series('MiB', 1),
      width: 480,
      height: 320,
    }),
  ];
  return grid(panels, 2);
}
