import type { ScaleResult } from './scale.js';
import type { ScaleCurvePoint } from './svg-figures.js';

/**
 * One point of the scale curve from a scale phase's result: the cold start beside its write floor,
 * the leader change, and memory (the leader once all were Ready, idle after it, the follower, the cold
 * start's cgroup peak and limit).
 * Times end in Ms and memory in MiB, which is how scaleCurveSvg sorts them into its two panels.
 */
export function scaleCurvePoint(s: ScaleResult): ScaleCurvePoint {
  return {
    mappings: s.mappings,
    coldReadyMs: s.coldReadyMs,
    writeFloorMs: s.floor.ms,
    leaderChangeMs: s.leaderChangeMs,
    coldRssMiB: s.coldRssMiB,
    idleRssMiB: s.idle.rssMiB,
    followerRssMiB: s.followerRssMiB,
    ...(s.coldCgroup && { coldCgroupPeakMiB: s.coldCgroup.peakMiB, memoryLimitMiB: s.coldCgroup.limitMiB }),
  };
}

/** The curve through several runs' scale phases, one point per run, in mapping order. */
export function scaleCurve(runs: ScaleResult[]): ScaleCurvePoint[] {
  return runs.map(scaleCurvePoint).sort((a, b) => a.mappings - b.mappings);
}
