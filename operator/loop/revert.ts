import type { MappingSpec, RevertRecord, StagedRolloutStatus } from '../../resources/types.js';
import type { Verdict } from '../tenancy/policy-decision.js';
import type { Planned } from './restart-plan.js';

/** What the revert decisions read of the secret: its labels, never its value. */
export interface SecretLabels {
  currentVersionId: string;
  currentVersionIds: string[];
  pendingVersionIds?: string[];
}

export interface RevertInput {
  onFailure: NonNullable<MappingSpec['rollout']>['onFailure'];
  /** The staging decision of this pass: its status, and the workload whose failure halts it now (first seen). */
  staged: { status?: StagedRolloutStatus; halted?: string };
  /** status.rollout before this pass. */
  previous: StagedRolloutStatus | undefined;
  /** status.currentVersionId: the version every target ran before this rotation. */
  baselineVersionId: string | undefined;
  secret: SecretLabels;
  /** The policy's yes (revertSecrets); undefined when the policies are not listed yet. */
  policy: Verdict | undefined;
  now: string;
}

export type RevertVerdict =
  /** Nothing about a revert: the staging decision stands as it is. */
  | { kind: 'none' }
  /** A plain halt, which says why no revert is made (a missing yes, an unsafe moment). */
  | { kind: 'halt'; why: string }
  /** Record this revert (before any AWS call), then move AWSCURRENT from record.from to record.to. */
  | { kind: 'revert'; record: RevertRecord }
  /** AWSCURRENT is back on record.to: the workloads restart back; `fresh` when first seen now. */
  | { kind: 'reverted'; record: RevertRecord; fresh: boolean }
  /** A revert of this rotation was refused (record.refused): the halt stays plain, never retried. */
  | { kind: 'refused'; record: RevertRecord };

/** Whether AWSCURRENT is on `version` (and only there: the local emulator may label two). */
const onlyOn = (s: SecretLabels, version: string): boolean =>
  s.currentVersionIds.includes(version) && s.currentVersionIds.length === 1;

/**
 * What to do about a revert in this pass (onFailure Revert), pure. A revert already recorded for
 * this rotation (AWSCURRENT on its `from` or its `to`) is continued, never decided again: at most one
 * per rotation, whichever leader recorded it and whether or not the answer of its AWS call came back —
 * AWSCURRENT found on `to` means the move was made. Otherwise a revert is decided only when the
 * staged rotation newly halts on a failed rollout, and only with the mapping's and a policy's yes
 * (the IAM role's is AWS's answer to the call itself), an earlier version known, and no rotation in
 * progress (AWSPENDING on a version other than AWSCURRENT and the failed one).
 */
export function decideRevert(input: RevertInput): RevertVerdict {
  const continued = continuedRevert(input);
  if (continued) return continued;
  if (!input.staged.halted) return { kind: 'none' };
  if (input.onFailure !== 'Revert')
    // Said only where a policy would allow the revert: there the mapping's no is the one missing.
    return input.policy?.allowed
      ? { kind: 'halt', why: `the mapping's onFailure is ${input.onFailure ?? 'Halt'}` }
      : { kind: 'none' };
  const why = missingYes(input);
  if (why) return { kind: 'halt', why };
  const record = {
    from: input.secret.currentVersionId,
    to: input.baselineVersionId ?? '',
    workload: input.staged.halted,
  };
  return { kind: 'revert', record: { ...record, requestedAt: input.now } };
}

/** The verdict on a revert recorded for this rotation (AWSCURRENT on its from or its to); else undefined. */
function continuedRevert(input: RevertInput): RevertVerdict | undefined {
  const r = input.previous?.revert;
  if (!r) return undefined;
  const current = input.secret.currentVersionId;
  if (!r.refused && current === r.to && !input.secret.currentVersionIds.includes(r.from))
    return { kind: 'reverted', record: { ...r, movedAt: r.movedAt ?? input.now }, fresh: !r.movedAt };
  return current === r.from ? onFailedVersion(r, input) : undefined;
}

/**
 * A recorded revert while AWSCURRENT is on its failed version: refused, to make, or made once already.
 * One still to make (its call failed, or a leader changed) is made only while the mapping and the
 * policies still say yes: an admin who took the secret out of revertSecrets meanwhile is obeyed.
 */
function onFailedVersion(r: RevertRecord, input: RevertInput): RevertVerdict {
  if (r.refused) return { kind: 'refused', record: r };
  if (!r.movedAt) {
    const withdrawn =
      input.onFailure !== 'Revert'
        ? `the mapping's onFailure is ${input.onFailure ?? 'Halt'} now`
        : input.policy?.allowed === false
          ? input.policy.message
          : undefined;
    return withdrawn
      ? { kind: 'refused', record: { ...r, refused: withdrawn } }
      : { kind: 'revert', record: r };
  }
  const halted = input.staged.halted;
  // Moved back once, then AWSCURRENT put on the failed version again: never a second revert.
  return halted ? { kind: 'halt', why: `version ${r.from} was reverted once already` } : { kind: 'none' };
}

/** Why a fresh halt is not reverted, or undefined when it may be. */
function missingYes(input: RevertInput): string | undefined {
  const { secret, baselineVersionId: to } = input;
  if (!input.policy) return 'the SecretsRotationPolicies are not known yet';
  if (!input.policy.allowed) return input.policy.message;
  if (to === undefined || to === secret.currentVersionId)
    return 'no earlier version that the workloads ran is known';
  return inProgress(secret, secret.currentVersionId);
}

/** A rotation in progress: AWSPENDING on a version other than AWSCURRENT and `failed`. */
function inProgress(secret: SecretLabels, failed: string): string | undefined {
  const pending = (secret.pendingVersionIds ?? []).filter(
    (v) => v !== failed && !secret.currentVersionIds.includes(v),
  );
  return pending.length
    ? `a rotation is in progress (AWSPENDING on ${pending.join(', ')}); moving AWSCURRENT now could break it`
    : undefined;
}

export type MoveCheck = { kind: 'call' } | { kind: 'moved' } | { kind: 'refused'; why: string };

/**
 * Right before (and after a refusal of) the AWS call, on a fresh DescribeSecret: call it; or the
 * move is made already (an answer lost after commit); or it must not be made, and why. Pure.
 */
export function checkMove(r: RevertRecord, secret: SecretLabels): MoveCheck {
  if (onlyOn(secret, r.to)) return { kind: 'moved' };
  if (!secret.currentVersionIds.includes(r.from))
    return {
      kind: 'refused',
      why: `AWSCURRENT moved to ${secret.currentVersionIds.join(', ')} meanwhile (not ${r.from} any more)`,
    };
  const why = inProgress(secret, r.from);
  return why ? { kind: 'refused', why } : { kind: 'call' };
}

/** status.rollout once `verdict` is applied to the staging decision's. Pure. */
export function revertedStatus(
  status: StagedRolloutStatus | undefined,
  verdict: RevertVerdict,
): StagedRolloutStatus | undefined {
  if (!status) return status;
  switch (verdict.kind) {
    case 'none':
      return status;
    case 'halt':
      return notReverted(status, verdict.why);
    case 'refused':
      return { ...notReverted(status, verdict.record.refused ?? 'refused'), revert: verdict.record };
    case 'revert':
      return reverting(status, verdict.record);
    case 'reverted':
      return reverted(status, verdict.record);
  }
}

/** A halt says why it was not reverted; a rotation resumed since is left as it is. */
const notReverted = (status: StagedRolloutStatus, why: string): StagedRolloutStatus =>
  status.state === 'Halted'
    ? { ...status, message: `${status.message ?? 'halted'}; not reverted: ${why}` }
    : status;

const reverting = (status: StagedRolloutStatus, r: RevertRecord): StagedRolloutStatus => ({
  ...status,
  state: 'Reverting',
  progress: `${status.stage}/${status.stages} Reverting`,
  message: `reverting AWSCURRENT from ${r.from} to ${r.to}: the rollout of ${r.workload} failed`,
  revert: r,
});

/** AWSCURRENT is back: Reverted while the workloads restart back, Halted if that fails too. */
function reverted(status: StagedRolloutStatus, r: RevertRecord): StagedRolloutStatus {
  const what = `AWSCURRENT reverted from ${r.from} to ${r.to} (the rollout of ${r.workload} failed)`;
  if (status.state === 'Halted')
    return { ...status, revert: r, message: `${what}; then ${status.message ?? 'halted'}` };
  const back = status.state === 'Complete' ? 'restarted back' : 'restarting back';
  return {
    ...status,
    state: 'Reverted',
    progress: `${status.stage}/${status.stages} Reverted`,
    message: `${what}; ${back}`,
    revert: r,
  };
}

/**
 * The plan of a pass that makes (or makes again) a revert: every restart still to make held. A
 * revert whose call is retried (a transient AWS failure, a new leader) finds the staging decision
 * moved on when the failed stage recovered meanwhile — the next stage's restarts for the very
 * version AWSCURRENT is about to leave. Pure.
 */
export function heldWhileReverting(plan: Planned[], r: RevertRecord): Planned[] {
  const why = `held: AWSCURRENT is being moved back from ${r.from} to ${r.to}`;
  return plan.map((p) =>
    p.action === 'restart' || p.action === 'pending' ? { ...p, action: 'held' as const, why } : p,
  );
}
