import type { WorkloadStatus } from '../../../resources/types.js';
import { EventReason, type PassContext } from '../pass.js';
import { toTarget } from '../../kube/target-selection.js';
import { versionStamp, type Planned } from '../restart-plan.js';
import { completedSince, nextRollout, untilDeadline } from '../rollout.js';
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
 * each end; a restart of this pass is followed from the cache as it is now (followedNow). The
 * mapping then holds rollout slots for exactly the rollouts it still follows.
 */
export async function trackRollouts(
  ctx: PassContext,
  plan: Planned[],
  entries: WorkloadStatus[],
  secretName: string,
): Promise<WorkloadStatus[]> {
  const out: WorkloadStatus[] = [];
  const rolling = new Set<string>();
  for (const [i, planned] of plan.entries()) {
    const p = followedNow(ctx, planned, entries[i], secretName);
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

/**
 * A restart this pass made, followed once more from the cache after the pass sent its Events (the
 * patch's answer, and what the workload's controller wrote since): a rollout that has already
 * completed — a Deployment of no replicas, pods that came up meanwhile — is recorded in this pass's
 * one status write, not as InProgress and then Complete by a second pass. Not for a staged rotation:
 * its stages are decided before the restarts, and the next pass writes the stage's end anyway.
 */
function followedNow(ctx: PassContext, p: Planned, entry: WorkloadStatus, secretName: string): Planned {
  if (p.action !== 'restart' || entry.state !== 'Restarted' || !entry.versionId) return p;
  if (ctx.m.spec.rollout?.strategy === 'Staged') return p;
  const w = ctx.deps.workloadCache.get(ctx.namespace, p.target.kind, p.target.name);
  const fresh = w && {
    ...toTarget(w, undefined),
    via: p.target.via,
    externalSecrets: p.target.externalSecrets,
  };
  return completedSince(p, entry, fresh, versionStamp(secretName, entry.versionId));
}

/** When to look at rollouts in progress again: at their deadline, or the fallback recheck. */
export function rolloutWaits(ctx: PassContext, entries: WorkloadStatus[]): number[] {
  return entries.flatMap((e) =>
    e.rollout === 'InProgress'
      ? [Math.min(ROLLOUT_RECHECK_MS, untilDeadline(e, deadline(ctx)) ?? Infinity)]
      : [],
  );
}
