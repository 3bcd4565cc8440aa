/*
 * What happened when during a chaos run — faults, rotations, restarts, replica starts and exits — in
 * seconds from the start of the faults, rotations and restarts counted per bin (thousands in a soak).
 * Written into the run's JSON; timeline-svg.ts draws it.
 */

export interface ReplicaEvent {
  /** ms since the epoch */
  at: number;
  replica: number;
  event: 'start' | 'exit' | 'crash';
}

export interface ChaosTimeline {
  /** Seconds from the first fault window's start to the end of the checks. */
  seconds: number;
  /** When the last fault ended (s): then the run waits for convergence and judges. */
  faultsEndedAt: number;
  binSeconds: number;
  faults: { kind: string; from: number; to: number; failed?: boolean }[];
  replicas: { at: number; replica: number; event: ReplicaEvent['event'] }[];
  /** Rotations (PutSecretValue called) and restarts (distinct restartedAt) per bin. */
  rotations: number[];
  restarts: number[];
}

export interface TimelineInput {
  startedAt: number;
  faultsEndedAt: number;
  endedAt: number;
  faults: { kind: string; from: number; to: number; failed?: boolean }[];
  replicas: ReplicaEvent[];
  rotationTimes: number[];
  restartTimes: number[];
}

const BINS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600];

/** A round bin width giving at most ~150 bins over `seconds`. */
export const binFor = (seconds: number): number => BINS.find((b) => seconds / b <= 150) ?? 600;

/** Counts of `times` (ms since the epoch) per bin of `binSeconds` from `startedAt`; outside: dropped. */
export function bin(times: number[], startedAt: number, seconds: number, binSeconds: number): number[] {
  const counts = new Array<number>(Math.max(1, Math.ceil(seconds / binSeconds))).fill(0);
  for (const t of times) {
    const b = Math.floor((t - startedAt) / 1000 / binSeconds);
    if (b >= 0 && b < counts.length) counts[b]++;
  }
  return counts;
}

/** The timeline of a run, in seconds from `startedAt` (events before it — the set-up's — at 0). */
export function buildTimeline(i: TimelineInput): ChaosTimeline {
  const s = (ms: number): number => Math.max(0, Math.round((ms - i.startedAt) / 100) / 10);
  const seconds = s(i.endedAt);
  const binSeconds = binFor(seconds);
  return {
    seconds,
    faultsEndedAt: s(i.faultsEndedAt),
    binSeconds,
    faults: i.faults.map((f) => ({ ...f, from: s(f.from), to: s(f.to) })),
    replicas: i.replicas.map((r) => ({ ...r, at: s(r.at) })),
    rotations: bin(i.rotationTimes, i.startedAt, seconds, binSeconds),
    restarts: bin(i.restartTimes, i.startedAt, seconds, binSeconds),
  };
}
