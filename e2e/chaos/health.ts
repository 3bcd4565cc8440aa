/**
 * The healthy tenant's verdicts, pure: its event → restart latency against a floor measured in the
 * same run, and each operator replica's memory at its end against its memory after warm-up.
 */

/** One timed round trip: from `start` to `end` (ms since the epoch; Infinity when it never ended). */
export interface Sample {
  start: number;
  end: number;
}

/** When a fault that stops every tenant (the API server, AWS, the leader) ran, plus its recovery. */
export interface Window {
  from: number;
  to: number;
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};
const p99 = (xs: number[]): number => quantile(xs, 0.99);

const overlaps = (s: Sample, windows: Window[]): boolean =>
  windows.some((w) => s.start <= w.to && s.end >= w.from);

export interface LatencyVerdict {
  /** Samples kept (outside every global fault) / taken. */
  healthy: { kept: number; taken: number; p50: number; p99: number };
  floor: { kept: number; taken: number; p50: number; p99: number };
  /** healthy p99 − floor p99 (ms); the invariant holds while it is at most `slackMs`. */
  overMs: number;
  ok: boolean;
}

/**
 * The healthy mapping's p99 must stay within `slackMs` of the floor's p99, both over the samples no
 * global fault overlapped (a dead API server stops the floor and the operator alike; hostile tenants,
 * bad messages and policy churn are not excluded: they are what the healthy tenant must not feel).
 */
export function latencyVerdict(
  healthy: Sample[],
  floor: Sample[],
  windows: Window[],
  slackMs = 1000,
): LatencyVerdict {
  // A sample never completed counts as infinitely late, unless a global fault overlaps it.
  const keep = (xs: Sample[]): number[] => xs.flatMap((s) => (overlaps(s, windows) ? [] : [s.end - s.start]));
  const h = keep(healthy);
  const f = keep(floor);
  const over = p99(h) - p99(f);
  return {
    healthy: { kept: h.length, taken: healthy.length, p50: quantile(h, 0.5), p99: p99(h) },
    floor: { kept: f.length, taken: floor.length, p50: quantile(f, 0.5), p99: p99(f) },
    overMs: over,
    ok: h.length > 0 && f.length > 0 && over <= slackMs,
  };
}

/**
 * A replica's warm-up (caches filled, its first rotations handled: V8's heap grows for a minute
 * under this load), and the least it must work after it to be judged.
 */
export const RSS_WARM_MS = 60_000;
export const RSS_WORK_MS = 30_000;

/** RSS samples of one replica process: [ms since its launch, MiB]. */
export interface ProcessRss {
  label: string;
  samples: [number, number][];
}

export interface RssVerdict {
  /** Processes that lived past warm-up plus `workMs` of work, and so were checked. */
  checked: number;
  /** The largest growth seen, end over warm-up (0.05 = +5 %). */
  worstGrowth: number;
  grown: string[];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/**
 * RSS at the end of each process (median of its last 5 s) within `limit` of its RSS after warm-up
 * (median of its samples in the 5 s after RSS_WARM_MS).
 */
export function rssVerdict(
  procs: ProcessRss[],
  limit = 0.1,
  warmMs = RSS_WARM_MS,
  workMs = RSS_WORK_MS,
): RssVerdict {
  const judged = procs.flatMap((p) => {
    const g = growth(p, warmMs, workMs);
    return g === undefined ? [] : [{ p, ...g }];
  });
  return {
    checked: judged.length,
    worstGrowth: Math.max(0, ...judged.map((j) => j.end / j.warm - 1)),
    grown: judged
      .filter((j) => j.end / j.warm - 1 > limit)
      .map((j) => `${j.p.label}: ${j.warm.toFixed(1)} → ${j.end.toFixed(1)} MiB`),
  };
}

/** A process's RSS after warm-up and at its end; undefined when it did not live long enough. */
function growth(p: ProcessRss, warmMs: number, workMs: number): { warm: number; end: number } | undefined {
  const last = p.samples.at(-1)?.[0] ?? 0;
  if (last < warmMs + workMs) return undefined;
  const warm = median(p.samples.filter(([t]) => t >= warmMs && t < warmMs + 5000).map(([, v]) => v));
  const end = median(p.samples.filter(([t]) => t > last - 5000).map(([, v]) => v));
  return warm === undefined || end === undefined ? undefined : { warm, end };
}
