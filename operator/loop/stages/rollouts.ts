import type { WorkloadStatus } from '../../../resources/types.js';
import { EventReason, type PassContext } from '../pass.js';
import type { Planned } from '../restart-plan.js';
import { nextRollout, untilDeadline } from '../rollout.js';
import { endedRestart, rolloutEndOnce } from '../event-once.js';

/**
 * How soon to look again at a rollout in progress if no workload event came first: rollout progress
 * arrives through the workload watch, this is only the fallback.
 */
const ROLLOUT_RECHECK_MS = 30_000;

/** See ReconcileDeps.rolloutDeadlineMs. */
const DEFAULT_ROLLOUT_DEADLINE_MS = 600_000;

/** The rollout deadline (ROLLOUT_DEADLINE) at this moment. */
export const deadline = (ctx: PassContext): { ms: number; now: number } => ({
  ms: ctx.deps.rolloutDeadlineMs ?? DEFAULT_ROLLOUT_DEADLINE_MS,
  now: Date.now(),
});

/**
 * Stage: rollout tracking. Follows the rollouts this mapping started: a fresh restart is InProgress;
 * one in progress takes the state the workload's status shows now (Complete, Failed); an Event marks
 * each end. The mapping then holds rollout slots for exactly the rollouts it still follows.
 */
export async function trackRollouts(
  ctx: PassContext,
  plan: Planned[],
  entries: WorkloadStatus[],
): Promise<WorkloadStatus[]> {
  const out: WorkloadStatus[] = [];
  const rolling = new Set<string>();
  for (const [i, p] of plan.entries()) {
    const { rollout, ended, why } = nextRollout(p, entries[i], deadline(ctx));
    if (rollout === 'InProgress') rolling.add(ctx.workloadKey(p.target));
    const name = `${p.target.kind}/${p.target.name}`;
    const { versionId } = entries[i];
    const about = {
      workload: name,
      version: versionId,
      once: rolloutEndOnce(ended ?? '', name, versionId, endedRestart(p, entries[i])),
    };
    if (ended === 'Complete')
      await ctx.event('Normal', EventReason.RolloutComplete, `${name} rolled out`, about);
    if (ended === 'Failed') {
      ctx.log.warn('rollout failed; its rollout slot is freed', { workload: name, why });
      await ctx.event('Warning', EventReason.RolloutFailed, `${name}: ${why ?? 'rollout failed'}`, about);
    }
    out.push(rollout ? { ...entries[i], rollout } : entries[i]);
  }
  // Slots of workloads this mapping no longer follows (ended, deleted, relabelled away) are freed.
  ctx.deps.rolloutSlots?.holdOnly(ctx.key, rolling, { capped: true });
  return out;
}

/** When to look at rollouts in progress again: at their deadline, or the fallback recheck. */
export function rolloutWaits(ctx: PassContext, entries: WorkloadStatus[]): number[] {
  return entries.flatMap((e) =>
    e.rollout === 'InProgress'
      ? [Math.min(ROLLOUT_RECHECK_MS, untilDeadline(e, deadline(ctx)) ?? Infinity)]
      : [],
  );
}
