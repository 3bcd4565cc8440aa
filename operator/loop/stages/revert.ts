import type { MappingStatus, RevertRecord, StagedRolloutStatus } from '../../../resources/types.js';
import { CurrentMovedError } from '../../aws/secret-stages.js';
import type { SecretVersion } from '../../aws/secret-versions.js';
import { AccessDeniedError, describe } from '../../runtime/errors.js';
import { EventReason, type PassContext, type ReconcileResult } from '../pass.js';
import {
  checkMove,
  decideRevert,
  heldWhileReverting,
  revertedStatus,
  type MoveCheck,
  type RevertVerdict,
} from '../revert.js';
import type { Staged } from '../staging.js';
import { withStagedRollout } from '../status.js';

/**
 * Stage, after staging (onFailure Revert): decides whether a staged rotation's halt becomes a revert
 * (revert.ts), and applies it to the staged result — a revert held in state Reverting, the reason a
 * halt stays plain, a revert done (Reverted: the plan restarts the workloads back, AWSCURRENT being on
 * their earlier version). The AWS call itself comes after the status recording it (moveCurrentBack).
 */
export async function withRevert(ctx: PassContext, staged: Staged, secret: SecretVersion): Promise<Staged> {
  // A dry run or a suspended mapping changes nothing, in the cluster or in AWS.
  if (!staged.status || ctx.deps.dryRun || ctx.m.spec.suspend) return staged;
  const verdict = decideRevert({
    onFailure: ctx.m.spec.rollout?.onFailure,
    staged,
    previous: ctx.prev.rollout,
    baselineVersionId: baselineOf(ctx, staged.status),
    secret,
    policy: ctx.deps.tenancy?.decideRevert?.(ctx.namespace, secret),
    now: ctx.nowIso,
  });
  if (verdict.kind === 'reverted' && verdict.fresh) await announceReverted(ctx, verdict.record, secret);
  return withVerdict(staged, verdict);
}

/** The staged result once the revert verdict is applied: while reverting, no restart and no halt said. */
function withVerdict(staged: Staged, verdict: RevertVerdict): Staged {
  const reverting = verdict.kind === 'revert';
  return {
    ...staged,
    plan: reverting ? heldWhileReverting(staged.plan, verdict.record) : staged.plan,
    status: revertedStatus(staged.status, verdict),
    halted: reverting ? undefined : staged.halted,
    notReverted: notReverted(verdict),
  };
}

/** Where this rotation began: status.currentVersionId may have moved on to the failed version already. */
const baselineOf = (ctx: PassContext, status: StagedRolloutStatus): string | undefined =>
  status.fromVersionId ?? ctx.prev.currentVersionId;

const notReverted = (v: RevertVerdict): string | undefined =>
  v.kind === 'halt' ? v.why : v.kind === 'refused' ? v.record.refused : undefined;

/** The one Warning Event (and notification) of a revert, when AWSCURRENT is first seen back. */
async function announceReverted(ctx: PassContext, r: RevertRecord, secret: SecretVersion): Promise<void> {
  ctx.log.warn('rotation reverted', { from: r.from, to: r.to, workload: r.workload });
  await ctx.event(
    'Warning',
    EventReason.RotationReverted,
    `secret ${secret.name}: AWSCURRENT moved back from version ${r.from} to ${r.to}, because the rollout of ${r.workload} failed; the workloads this rotation restarted restart back`,
    // One per revert, whichever pass or leader first sees AWSCURRENT back (a status write may be lost).
    { version: r.to, workload: r.workload, once: `reverted/${r.from}/${r.to}/${r.requestedAt}` },
  );
}

/** How soon to look at a mapping whose revert was just made: at once, to restart back. */
const AFTER_MOVE_MS = 0;

/**
 * Stage, after the status recording a revert (state Reverting) was written: moves AWSCURRENT back
 * with one compare-and-swap call, right after a fresh DescribeSecret shows it still on the failed
 * version and no rotation in progress. Moved (by this call, or by an earlier one whose answer was
 * lost): every mapping of the secret looks again — this one restarts back. Refused (AWSCURRENT moved
 * meanwhile, the role may not, a rotation began): the rotation halts, saying why, and the refusal is
 * recorded so that no pass tries again. Any other failure is the queue's to retry (the record stays).
 */
export async function moveCurrentBack(
  ctx: PassContext,
  status: MappingStatus,
  secret: SecretVersion,
): Promise<ReconcileResult | undefined> {
  const rollout = status.rollout;
  const r = rollout?.revert;
  if (rollout?.state !== 'Reverting' || !r) return undefined;
  const outcome = await move(ctx, r, secret);
  const route = { secretId: ctx.m.spec.secretId, arn: secret.arn };
  if (outcome.kind === 'moved') {
    ctx.log.info('AWSCURRENT moved back', { from: r.from, to: r.to });
    ctx.deps.onCurrentMoved?.(secret.arn);
    return { observedAt: secret.fetchedAt, route, requeueAfterMs: AFTER_MOVE_MS };
  }
  const why = outcome.kind === 'refused' ? outcome.why : 'the move was not made';
  await refuse(ctx, status, { ...rollout, revert: { ...r, refused: why } });
  return { observedAt: secret.fetchedAt, route };
}

/** The compare-and-swap, between two looks at the secret. */
async function move(ctx: PassContext, r: RevertRecord, secret: SecretVersion): Promise<MoveCheck> {
  const before = checkMove(r, await fresh(ctx));
  if (before.kind !== 'call') return before;
  const mover = ctx.deps.currentMover;
  if (!mover) return { kind: 'refused', why: 'this operator cannot write to Secrets Manager' };
  ctx.checkTerm();
  try {
    await mover.moveCurrent(secret.arn, r.to, r.from);
  } catch (err) {
    if (err instanceof AccessDeniedError)
      return {
        kind: 'refused',
        why: `the operator's IAM role may not secretsmanager:UpdateSecretVersionStage on ${secret.arn} (the template's RevertSecretArnPattern)`,
      };
    if (!(err instanceof CurrentMovedError)) throw err;
    const after = checkMove(r, await fresh(ctx));
    return after.kind === 'call' ? { kind: 'refused', why: `AWS refused the move: ${describe(err)}` } : after;
  }
  // The cache, and every pass after this one, see AWSCURRENT where it is now.
  await fresh(ctx);
  return { kind: 'moved' };
}

/** A DescribeSecret made now, never a cached answer (it also refreshes the cache). */
const fresh = (ctx: PassContext): Promise<SecretVersion> =>
  ctx.deps.versions.resolve(ctx.m.spec.secretId, { notBefore: Date.now() });

/** A revert refused: a plain halt, recorded with why, said once by a Warning Event. */
async function refuse(
  ctx: PassContext,
  status: MappingStatus,
  rollout: StagedRolloutStatus & { revert: RevertRecord },
): Promise<void> {
  const { revert: r } = rollout;
  const halted: StagedRolloutStatus = {
    ...rollout,
    state: 'Halted',
    progress: `${rollout.stage}/${rollout.stages} Halted`,
    message: `halted at stage ${rollout.stage}: the rollout of ${r.workload} failed for version ${r.from}; not reverted: ${r.refused}; set the annotation secretsrotation.io/resume to a new value to continue`,
  };
  ctx.log.warn('revert refused; rotation halted', { from: r.from, to: r.to, why: r.refused });
  await ctx.event(
    'Warning',
    EventReason.RotationHalted,
    `rotation to version ${r.from} halted: the rollout of ${r.workload} failed; not reverted: ${r.refused}`,
    // Once per revert refused, should this status write be lost and the call refused again.
    { version: r.from, workload: r.workload, once: `refused/${r.from}/${r.to}/${r.requestedAt}` },
  );
  await ctx.write(withStagedRollout(ctx.m, status, halted, ctx.nowIso));
}
