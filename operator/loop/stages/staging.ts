import type { SecretVersion } from '../../aws/secret-versions.js';
import { RESUME_ANNOTATION } from '../../kube/restart-patches.js';
import { EventReason, type PassContext } from '../pass.js';
import type { Planned } from '../restart-plan.js';
import { rolloutNow } from '../rollout.js';
import { stageRestarts, type Staged } from '../staging.js';
import { haltOnce, restartOf } from '../event-once.js';
import { deadline } from './rollouts.js';

/**
 * Stage: a Staged mapping's plan keeps only the restarts of the stage in progress (staging.ts
 * decides); a paused stage wakes the mapping when its pause ends.
 */
export function stagePlan(ctx: PassContext, plan: Planned[], secret: SecretVersion): Staged {
  const staged = stageRestarts({
    spec: ctx.m.spec,
    plan,
    currentVersionId: secret.currentVersionId,
    baselineVersionId: ctx.prev.currentVersionId,
    previous: ctx.prev.rollout,
    resume: ctx.m.metadata.annotations?.[RESUME_ANNOTATION],
    now: ctx.now.getTime(),
    rolloutNow: (p) => rolloutNow(p, deadline(ctx)),
  });
  if (staged.waitMs !== undefined) ctx.wakeIn(staged.waitMs);
  return staged;
}

/**
 * Stage, after the revert decision: a halt is said once, by a Warning Event naming the workload
 * whose rollout failed, the version, and — when onFailure Revert did not revert — why not.
 */
export async function announceHalt(ctx: PassContext, staged: Staged, secret: SecretVersion): Promise<Staged> {
  if (!staged.halted || !staged.status) return staged;
  const held = staged.plan.filter((p) => p.action === 'held').length;
  const why = staged.notReverted ? `; not reverted: ${staged.notReverted}` : '';
  ctx.log.warn('staged rotation halted', {
    workload: staged.halted,
    version: secret.currentVersionId,
    held,
    notReverted: staged.notReverted,
  });
  await ctx.event(
    'Warning',
    EventReason.RotationHalted,
    `rotation to version ${secret.currentVersionId} halted: the rollout of ${staged.halted} failed; ${held} workload(s) held (set the annotation ${RESUME_ANNOTATION} to continue)${why}`,
    // Once per halt, should its status write commit but its answer be lost and a retry halt again.
    {
      version: secret.currentVersionId,
      workload: staged.halted,
      once: haltOnce(staged.status, staged.halted, restartOf(staged.plan, staged.halted)),
    },
  );
  return staged;
}
