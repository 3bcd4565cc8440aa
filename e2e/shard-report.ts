/* What the parallel e2e runner says about a run: per-file counts read from the spec reporter, the summary. */

export interface Counts {
  tests: number;
  pass: number;
  fail: number;
  skipped: number;
  cancelled: number;
}

export interface FileResult {
  file: string;
  /** The environment it ran on (1 = the default one, which has the real node when there is one). */
  shard: number;
  seconds: number;
  /** node --test's exit code (null: killed). */
  code: number | null;
  counts: Counts;
}

/** The totals node --test's spec reporter prints last (`ℹ tests 3`, `ℹ pass 2`, …). */
export function countsOf(output: string): Counts {
  const n = (key: string): number => {
    const all = [...output.matchAll(new RegExp(`^ℹ ${key} (\\d+)$`, 'gm'))];
    return Number(all.at(-1)?.[1] ?? 0);
  };
  return {
    tests: n('tests'),
    pass: n('pass'),
    fail: n('fail'),
    skipped: n('skipped'),
    cancelled: n('cancelled'),
  };
}

/** A file failed when node --test says so by its exit code, whatever the counts it managed to print. */
export const failed = (r: FileResult): boolean => r.code !== 0 || r.counts.fail > 0 || r.counts.cancelled > 0;

const s = (x: number): string => `${Math.round(x)} s`;

/** The closing lines: totals, each shard's share, the slowest files, what failed or never ran. */
export function summary(
  results: FileResult[],
  notRun: string[],
  wallSeconds: number,
  shards: { shard: number; upSeconds: number }[],
): string[] {
  const sum = (f: (r: FileResult) => number): number => results.reduce((a, r) => a + f(r), 0);
  const lines = [
    `[e2e] ${results.length} files on ${shards.length} environment(s) in ${s(wallSeconds)}: ` +
      `${sum((r) => r.counts.tests)} tests, ${sum((r) => r.counts.pass)} passed, ` +
      `${sum((r) => r.counts.fail + r.counts.cancelled)} failed, ${sum((r) => r.counts.skipped)} skipped`,
  ];
  for (const { shard, upSeconds } of shards) {
    const mine = results.filter((r) => r.shard === shard);
    const busy = mine.reduce((a, r) => a + r.seconds, 0);
    lines.push(`[e2e]   shard ${shard}: up in ${s(upSeconds)}, ${mine.length} files, ${s(busy)} of tests`);
  }
  const slowest = [...results].sort((a, b) => b.seconds - a.seconds).slice(0, 8);
  lines.push(`[e2e] slowest: ${slowest.map((r) => `${r.file} ${s(r.seconds)}`).join(', ')}`);
  const bad = results.filter(failed).map((r) => r.file);
  if (bad.length) lines.push(`[e2e] FAILED: ${bad.join(', ')}`);
  if (notRun.length) lines.push(`[e2e] NOT RUN: ${notRun.join(', ')}`);
  return lines;
}

/** The durations table with this run's measurements in it, keys sorted, whole seconds (at least 1). */
export function recordedDurations(
  before: Record<string, number>,
  results: FileResult[],
): Record<string, number> {
  const next: Record<string, number> = { ...before };
  // A failed file may have stopped early (or hung until a timeout): its time is not its duration.
  for (const r of results) if (!failed(r)) next[r.file] = Math.max(1, Math.round(r.seconds));
  return Object.fromEntries(Object.entries(next).sort(([a], [b]) => a.localeCompare(b)));
}
