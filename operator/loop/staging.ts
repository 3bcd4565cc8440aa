import type { MappingSpec, RolloutState, StagedRolloutStatus } from '../../resources/types.js';
import { otherHalt, recordedResume } from '../kube/resume-value.js';
import { parseDuration } from '../runtime/duration.js';
import type { Action, Planned } from './restart-plan.js';

/** Plan actions that still have to restart the workload for the current version. */
const TO_RESTART: Action[] = ['restart', 'pending'];

export interface StagingInput {
  spec: MappingSpec;
  /** The pass's plan, in the targets' order. */
  plan: Planned[];
  currentVersionId: string;
  /** status.currentVersionId: the version the workloads ran before (recorded as the rotation's from). */
  baselineVersionId?: string;
  /** status.rollout as the last pass left it. */
  previous: StagedRolloutStatus | undefined;
  /** The mapping's secretsrotation.io/resume annotation now. */
  resume: string | undefined;
  now: number;
  /** How a rollout the operator started for this version stands now (followed to the workload's state). */
  rolloutNow: (p: Planned) => RolloutState | undefined;
}

export interface Staged {
  /** The plan with the restarts outside the stage in progress turned 'held'. */
  plan: Planned[];
  /** status.rollout to write; undefined when the mapping is not Staged. */
  status?: StagedRolloutStatus;
  /** How long until a paused stage may start. */
  waitMs?: number;
  /** The workload whose failed rollout halted the rotation in this pass (first seen now). */
  halted?: string;
  /** Why onFailure Revert did not revert this halt (set by the revert stage). */
  notReverted?: string;
}

type Standing = 'toRestart' | 'rolling' | 'failed' | 'done';

const workloadOf = (p: Planned): string => `${p.target.kind}/${p.target.name}`;

/**
 * The staged order: spec.workloads first, in its order; then the other targets by their
 * secretsrotation.io/stage annotation (lower first, absent last), then kind/name. Pure.
 */
export function stagedOrder(spec: MappingSpec, plan: Planned[]): Planned[] {
  const listed = new Map((spec.workloads ?? []).map((w, i) => [`${w.kind}/${w.name}`, i]));
  const rank = (p: Planned): [number, number, string] => {
    const at = listed.get(workloadOf(p));
    if (at !== undefined) return [0, at, ''];
    return [1, p.target.stage ?? Number.MAX_SAFE_INTEGER, workloadOf(p)];
  };
  return [...plan].sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2].localeCompare(y[2]);
  });
}

/** Workloads per stage: an integer, or a percentage of `total` rounded up; at least one. Pure. */
export function stageSizeOf(size: number | string | undefined, total: number): number {
  if (typeof size === 'string' && size.endsWith('%'))
    return Math.max(1, Math.ceil((total * Number(size.slice(0, -1))) / 100));
  return Math.max(1, Math.floor(Number(size ?? 1)) || 1);
}

function standing(p: Planned, input: StagingInput): Standing {
  // Suspended: still to restart once resumed (the stage has not been done, whatever it shows).
  if (TO_RESTART.includes(p.action) || p.action === 'suspended') return 'toRestart';
  // Adopted: no rollout of ours to wait for. Already stamped for this version (a restart whose status
  // write was lost, or another mapping's): its rollout is followed like one this pass made.
  if (p.action !== 'already' && p.previous?.versionId !== input.currentVersionId) return 'done';
  const rollout = input.rolloutNow(p);
  if (rollout === 'InProgress') return 'rolling';
  return rollout === 'Failed' ? 'failed' : 'done';
}

/** What one walk over the stages knows: the input, the stages, and what earlier stages left. */
interface Walk {
  input: StagingInput;
  spec: NonNullable<MappingSpec['rollout']>;
  stages: Planned[][];
  /** status.rollout of the last pass, when it is about this version. */
  prev: StagedRolloutStatus | undefined;
  completed: { completedStage?: number; completedAt?: string };
  resumedStage: number | undefined;
}

function statusOf(
  w: Walk,
  stage: number,
  state: StagedRolloutStatus['state'],
  more: Partial<StagedRolloutStatus> = {},
): StagedRolloutStatus {
  const { baselineVersionId: base, currentVersionId: version } = w.input;
  // Where this rotation began, kept while it lasts: status.currentVersionId moves on to the new
  // version once every target is restarted for it, before the last stage's rollouts can fail.
  const from = w.prev?.fromVersionId ?? (base !== version ? base : undefined);
  return {
    versionId: version,
    ...(from !== undefined ? { fromVersionId: from } : {}),
    stage,
    stages: w.stages.length,
    state,
    progress: `${stage}/${w.stages.length} ${state}`,
    ...w.completed,
    resumedStage: w.resumedStage,
    ...more,
  };
}

/** The plan with the restarts of the stages after `stage` (and of `also`) held for `why`. */
function hold(w: Walk, stage: number, why: string, also: Planned[] = []): Planned[] {
  const later = new Set([...w.stages.slice(stage).flat(), ...also]);
  return w.input.plan.map((p) =>
    later.has(p) && TO_RESTART.includes(p.action) ? { ...p, action: 'held' as const, why } : p,
  );
}

/** A stage with restarts to make: they go now, or after the pause since the previous stage completed. */
function runStage(w: Walk, stage: number, members: Planned[]): Staged {
  const waiting = `waits for stage ${stage} of ${w.stages.length}`;
  const pause = w.spec.pause ?? '0s';
  const since = Date.parse(w.completed.completedAt ?? '');
  const waitMs = stage > 1 ? since + parseDuration(pause) - w.input.now : 0;
  if (waitMs > 0)
    return {
      plan: hold(w, stage, `${waiting} (paused ${pause} after stage ${stage - 1})`, members),
      status: statusOf(w, stage, 'Paused'),
      waitMs,
    };
  return { plan: hold(w, stage, waiting), status: statusOf(w, stage, 'Progressing') };
}

/**
 * Whether a resume accepts the failed rollouts of `stage`: a new annotation value since the halt, that
 * names this halt or none (resume-value.ts: a value naming another halt was meant for that one).
 */
function accepted(w: Walk, stage: number): boolean {
  if (w.resumedStage !== undefined && stage <= w.resumedStage) return true;
  return (
    w.prev?.state === 'Halted' &&
    w.prev.stage === stage &&
    recordedResume(w.input.resume) !== w.prev.haltedWith &&
    !otherHalt(w.input.resume, w.prev)
  );
}

/**
 * Whether the last pass's status already recorded `p`'s rollout for this version as failed. A failure
 * it did not record is new: no resume given so far can have been meant for it.
 */
const recordedFailed = (p: Planned, input: StagingInput): boolean =>
  p.previous?.versionId === input.currentVersionId && p.previous.rollout === 'Failed';

/** Halts at `stage`; `fresh` names a failure no halt reported yet (a new halt, with the resume value now). */
function halt(w: Walk, stage: number, failed: string[], fresh?: string): Staged {
  const again = !fresh && w.prev?.state === 'Halted' && w.prev.stage === stage;
  const version = w.input.currentVersionId;
  const haltedWith = again ? w.prev?.haltedWith : recordedResume(w.input.resume);
  // A new resume value that names another halt is said, not taken.
  const other =
    recordedResume(w.input.resume) !== haltedWith &&
    otherHalt(w.input.resume, { versionId: version, stage, haltedWith });
  return {
    plan: hold(w, stage, `halted at stage ${stage}: ${failed.join(', ')} did not roll out`),
    status: statusOf(w, stage, 'Halted', {
      haltedWith,
      message: `halted at stage ${stage}: the rollout of ${failed.join(', ')} failed for version ${version}; ${other ? `${other}; ` : ''}set the annotation secretsrotation.io/resume to a new value to continue`,
    }),
    halted: again ? undefined : (fresh ?? failed[0]),
  };
}

/**
 * A stage's failed rollouts under onFailure Halt: a halt, or undefined when a resume accepted them.
 * A resume accepts the failures reported when it was given: a rollout of the stage that fails after
 * it (still rolling then) is a new halt, which says so and waits for a newer resume value.
 */
function haltFor(w: Walk, stage: number, failing: Planned[]): Staged | undefined {
  const failed = failing.map(workloadOf);
  const unseen = failing.find((p) => !recordedFailed(p, w.input));
  if (unseen) {
    // The resume that accepted this stage (resumedStage) was not given for this failure.
    if ((w.resumedStage ?? 0) >= stage) w.resumedStage = stage > 1 ? stage - 1 : undefined;
    return halt(w, stage, failed, workloadOf(unseen));
  }
  if (!accepted(w, stage)) return halt(w, stage, failed);
  w.resumedStage = Math.max(w.resumedStage ?? 0, stage);
  return undefined;
}

/** One stage's verdict: a result that ends the walk, or undefined when the stage is complete. */
function stageVerdict(w: Walk, stage: number, members: Planned[]): Staged | undefined {
  const standings = members.map((p) => standing(p, w.input));
  if (standings.includes('toRestart')) return runStage(w, stage, members);
  const failing = members.filter((_, j) => standings[j] === 'failed');
  if (failing.length && w.spec.onFailure !== 'Continue') {
    const halted = haltFor(w, stage, failing);
    if (halted) return halted;
  }
  if (standings.includes('rolling'))
    return {
      plan: hold(w, stage, `waits for stage ${stage} of ${w.stages.length}`),
      status: statusOf(w, stage, 'Progressing'),
    };
  const seen = w.prev?.completedStage === stage ? w.prev.completedAt : undefined;
  w.completed = { completedStage: stage, completedAt: seen ?? new Date(w.input.now).toISOString() };
  return undefined;
}

/**
 * Decides which restarts of a Staged mapping's plan go now: those of the first stage that still has
 * workloads to restart, once every earlier stage's rollouts are Complete and spec.rollout.pause has
 * passed since; the rest are held. A failed rollout (onFailure Halt) stops the rotation at its stage
 * until a new value of the resume annotation accepts it (it, not a later failure: see haltFor).
 * Everything it remembers is in status.rollout (for this version only: a newer version starts from
 * the first stage) and its workloads' entries, so a new leader continues where the status says the
 * rotation stands. Pure.
 */
export function stageRestarts(input: StagingInput): Staged {
  const spec = input.spec.rollout;
  if (spec?.strategy !== 'Staged') return { plan: input.plan };
  const ordered = stagedOrder(
    input.spec,
    input.plan.filter((p) => p.action !== 'missing'),
  );
  if (!ordered.length) return { plan: input.plan };
  const size = stageSizeOf(spec.stageSize, ordered.length);
  const prev = input.previous?.versionId === input.currentVersionId ? input.previous : undefined;
  const w: Walk = {
    input,
    spec,
    stages: Array.from({ length: Math.ceil(ordered.length / size) }, (_, i) =>
      ordered.slice(i * size, (i + 1) * size),
    ),
    prev,
    completed: {},
    resumedStage: prev?.resumedStage,
  };
  for (const [i, members] of w.stages.entries()) {
    const verdict = stageVerdict(w, i + 1, members);
    if (verdict) return verdict;
  }
  return { plan: input.plan, status: statusOf(w, w.stages.length, 'Complete') };
}
