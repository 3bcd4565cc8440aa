import type { WorkloadStatus } from '../../../resources/types.js';
import type { SecretVersion } from '../../aws/secret-versions.js';
import { entryFor, type Planned } from '../restart-plan.js';
import type { PassContext } from '../pass.js';

/**
 * How soon to look again at a restart waiting for a rollout slot, if no freed slot woke it first:
 * slots free through the workload watch, this is only the fallback.
 */
export const SLOT_RECHECK_MS = 30_000;

/**
 * The safety valves, before a restart: a Pending entry when no rollout slot (MAX_CONCURRENT_ROLLOUTS)
 * or no rate-limit token is free now; undefined when the restart may go. A workload that does not
 * roll by itself (Paused, OnDelete) starts no rollout: it takes no slot.
 */
export function throughValves(
  ctx: PassContext,
  p: Planned,
  secret: SecretVersion,
): WorkloadStatus | undefined {
  const pending = (why: string, retryMs: number): WorkloadStatus => {
    ctx.wakeIn(retryMs);
    return {
      ...entryFor({ ...p, action: 'pending' }, secret.currentVersionId, ctx.nowIso),
      message: `restart for version ${secret.currentVersionId} waits for ${why}`,
    };
  };
  const slots = p.target.blocked ? undefined : ctx.deps.rolloutSlots;
  if (slots && !slots.acquire(ctx.workloadKey(p.target), ctx.key))
    return pending('a free rollout slot (MAX_CONCURRENT_ROLLOUTS)', SLOT_RECHECK_MS);
  const wait = ctx.deps.takeRestartToken?.() ?? 0;
  if (wait <= 0) return undefined;
  slots?.release(ctx.workloadKey(p.target));
  return pending('the global restart rate limit', wait);
}
