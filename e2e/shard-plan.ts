/*
 * Which test file runs next on which environment: the pure part of the parallel e2e runner
 * (run-e2e.ts does the I/O). Files are keyed by their path under dist/e2e (e.g. `chaos.test.js`).
 */

/** Files that need the real node (kubelet + containerd), or the image tools it shares with it. */
export const REAL_NODE_FILES: readonly string[] = [
  // The real node's own checks (its taint, its registry in .e2e/env); skipped where there is none.
  'env.test.js',
  // The operator as a pod on the real node (skaffold run and dev, pod logs, PodSecurity restricted).
  'operator-pod.test.js',
  // The local profile's values, written only by the environment that runs the real node.
  'skaffold.test.js',
  // buildah builds the same image the real node's skaffold builds; one builder at a time.
  'container.test.js',
  // The chart pushed to the real node's registry.
  'chart-oci.test.js',
];

/**
 * Files that run with the other environments idle. The upgrade stress busy-loops every CPU of the
 * machine on purpose (kit/cpu-load.ts), which would make whatever runs beside it fail or pass by luck
 * of the schedule. The chaos run judges readiness within 30 s, convergence and a p99 against its
 * floor: beside wire-search on a loaded machine its operator-upgrade fault timed out on /readyz.
 */
export const EXCLUSIVE_FILES: readonly string[] = ['upgrade-stress.test.js', 'chaos.test.js'];

/** A file without a measured duration goes first: it may be long, and a long file last is the worst. */
export const UNKNOWN_SECONDS = 600;

/** Below this much work, a second environment would be up (≈ 10–20 s, CPU-bound) for little gain. */
export const SHARD_WORTH_SECONDS = 120;

export interface Job {
  file: string;
  seconds: number;
  realNode: boolean;
  exclusive: boolean;
}

export interface ShardState {
  /** Runs the real node; only one environment per machine can. */
  realNode: boolean;
  /** Starting its environment (as busy as running: it loads the machine), idle, or running a job. */
  status: 'booting' | 'idle' | 'running';
  job?: Job;
}

/** The work queue, longest first (by the measured durations), ties by name. */
export function queueOf(files: string[], durations: Record<string, number>): Job[] {
  return files
    .map((file) => ({
      file,
      seconds: durations[file] ?? UNKNOWN_SECONDS,
      realNode: REAL_NODE_FILES.includes(file),
      exclusive: EXCLUSIVE_FILES.includes(file),
    }))
    .sort((a, b) => b.seconds - a.seconds || a.file.localeCompare(b.file));
}

/** How many environments are worth starting for `jobs`: at most `wanted`, one per job. */
export function shardCount(jobs: Job[], wanted: number): number {
  const work = jobs.reduce((s, j) => s + j.seconds, 0);
  if (work < SHARD_WORTH_SECONDS) return 1;
  return Math.max(1, Math.min(wanted, jobs.length));
}

/**
 * The job shard `self` (one of `shards`) takes now, or undefined (it waits). A real-node job goes only to the shard with
 * the real node (anywhere when none has it: it skips itself there). An exclusive job starts only when
 * every other shard is idle, and nothing starts beside one; until then an idle shard takes the next
 * job that is not exclusive, so exclusive ones drain to the end rather than idle a shard early.
 */
export function pick(queue: Job[], self: ShardState, shards: ShardState[]): Job | undefined {
  if (self.status !== 'idle') return undefined;
  const others = shards.filter((s) => s !== self);
  if (others.some((s) => s.status === 'running' && s.job?.exclusive)) return undefined;
  const othersIdle = others.every((s) => s.status === 'idle');
  const anyRealNode = shards.some((s) => s.realNode);
  return queue.find((j) => (!j.realNode || self.realNode || !anyRealNode) && (!j.exclusive || othersIdle));
}
