import { PALETTE } from '../bench/svg-plot.js';
import { timeline, type Lane } from '../bench/svg-timeline.js';
import type { ChaosTimeline } from './timeline.js';

const REPLICA_SYMBOL = {
  start: { symbol: 'triangle', color: '#2ca02c' },
  exit: { symbol: 'cross', color: '#7f7f7f' },
  crash: { symbol: 'cross', color: '#d62728' },
} as const;

/**
 * A chaos run's timeline as SVG: a lane per fault kind (each injection as a bar, a failed one grey),
 * a lane per operator replica (started ▲, ended ✕ grey, crashed ✕ red), then rotations and restarts
 * per bin; a line where the faults ended and the run began to converge.
 */
export function chaosTimelineSvg(t: ChaosTimeline, title: string): string {
  const kinds = [...new Set(t.faults.map((f) => f.kind))].sort();
  const faultLanes: Lane[] = kinds.map((kind, i) => ({
    name: kind,
    color: PALETTE[i % PALETTE.length],
    spans: t.faults.filter((f) => f.kind === kind && !f.failed).map((f): [number, number] => [f.from, f.to]),
    marks: t.faults
      .filter((f) => f.kind === kind && f.failed)
      .map((f) => ({ at: f.from, symbol: 'bar' as const, color: '#999', label: 'not injected' })),
  }));
  const replicas = [...new Set(t.replicas.map((r) => r.replica))].sort((a, b) => a - b);
  const replicaLanes: Lane[] = replicas.map((n) => ({
    name: `replica ${n}`,
    marks: t.replicas
      .filter((r) => r.replica === n)
      .map((r) => ({ at: r.at, ...REPLICA_SYMBOL[r.event], label: r.event })),
  }));
  return timeline({
    title,
    seconds: t.seconds,
    lanes: [
      ...faultLanes,
      ...replicaLanes,
      { name: 'rotations', color: '#1f77b4', density: { binSeconds: t.binSeconds, counts: t.rotations } },
      { name: 'restarts', color: '#ff7f0e', density: { binSeconds: t.binSeconds, counts: t.restarts } },
    ],
    markers: [{ at: t.faultsEndedAt, label: 'faults end' }],
    note: 'replicas: ▲ started, ✕ grey stopped by the run, ✕ red crashed; rotations and restarts: count per bin',
  });
}
