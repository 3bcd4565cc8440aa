import fs from 'node:fs';
import { chaosTimelineSvg } from '../chaos/timeline-svg.js';
import type { ChaosTimeline } from '../chaos/timeline.js';
import type { LatencyResult } from './latency.js';
import { latencySvg, memorySvg, scaleCurveSvg, type ScaleCurvePoint } from './svg-figures.js';

/** The parts of a bench results JSON that have a figure. */
export interface Plottable {
  latency?: LatencyResult;
  scaleCurve?: ScaleCurvePoint[];
}

/** The figures a bench results JSON has, by name: latency, memory, scale. */
export function benchFigures(r: Plottable): Record<string, string> {
  const out: Record<string, string> = {};
  if (r.latency?.rates.length) out.latency = latencySvg(r.latency);
  if (r.latency?.rss?.samples.length) out.memory = memorySvg(r.latency.rss);
  if (r.scaleCurve?.length) out.scale = scaleCurveSvg(r.scaleCurve);
  return out;
}

/** The chaos run's figure: its timeline, when the run recorded one. */
export function chaosFigures(r: {
  seed: number;
  durationMs: number;
  timeline?: ChaosTimeline;
}): Record<string, string> {
  if (!r.timeline) return {};
  // The faults run past the asked duration until every kind was met once.
  const s = r.timeline.faultsEndedAt;
  const faults = s >= 600 ? `${Math.round(s / 60)} min` : `${Math.round(s)} s`;
  return {
    timeline: chaosTimelineSvg(r.timeline, `Chaos run, seed ${r.seed}: ${faults} of faults, then the checks`),
  };
}

/** Writes each figure beside `jsonFile` as <name>.<figure>.svg; returns the files written, by figure. */
export function writeFigures(figures: Record<string, string>, jsonFile: string): Record<string, string> {
  const written: Record<string, string> = {};
  for (const [name, svg] of Object.entries(figures)) {
    const file = jsonFile.replace(/\.json$/, `.${name}.svg`);
    fs.writeFileSync(file, svg);
    written[name] = file;
  }
  return written;
}
