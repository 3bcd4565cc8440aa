import type { RolloutState, WorkloadStatus } from '../../resources/types.js';
import type { Target } from '../kube/target.js';
import { stampTime, type Planned } from './restart-plan.js';

/** The mapping-level RolloutComplete condition from its workloads' rollouts; undefined when none was started. */
export function rolloutCondition(
  workloads: WorkloadStatus[],
): { status: 'True' | 'False'; reason: string; message: string } | undefined {
  const tracked = workloads.filter((w) => w.rollout);
  if (!tracked.length) return undefined;
  const names = (state: RolloutState): string =>
    tracked
      .filter((w) => w.rollout === state)
      .map((w) => `${w.kind}/${w.name}`)
      .join(', ');
  if (tracked.some((w) => w.rollout === 'Failed')) {
    return { status: 'False', reason: 'RolloutFailed', message: `rollout failed: ${names('Failed')}` };
  }
  if (tracked.some((w) => w.rollout === 'InProgress')) {
    return { status: 'False', reason: 'RolloutInProgress', message: `rolling: ${names('InProgress')}` };
  }
  return { status: 'True', reason: 'RolloutComplete', message: `${tracked.length} workload(s) rolled out` };
}

/** Entry states after which there is no rollout of ours to follow. */
const NOT_ROLLING: WorkloadStatus['state'][] = ['Paused', 'OnDelete', 'Missing'];

/**
 * The rollout to record for a target after a pass: a restart made now starts one (InProgress) unless
 * the workload does not roll by itself (Paused, OnDelete: nothing to follow, no slot to hold); one in
 * progress takes the state the workload shows now, and `ended` says when it just finished. Past
 * `deadlineMs` after our restart a rollout of any kind has failed: a StatefulSet or DaemonSet has no
 * deadline of its own, and a Deployment's progressDeadlineSeconds is the tenant's to choose (up to
 * 2^31-1 s), so without ours a pod that never becomes ready would hold a rollout slot forever; the
 * earlier of the two rules. A target gone (deleted, relabelled) has no rollout left to follow.
 */
export function nextRollout(
  p: Planned,
  entry: WorkloadStatus,
  deadline: { ms: number; now: number },
): { rollout?: RolloutState; ended?: 'Complete' | 'Failed'; why?: string } {
  if (p.action === 'restart' && entry.state === 'Restarted') return { rollout: 'InProgress' };
  if (!p.target.exists || NOT_ROLLING.includes(entry.state)) return {};
  const ours = started(p, deadline.now);
  if (ours) return following(p, ours, deadline);
  if (p.previous?.rollout !== 'InProgress') return { rollout: p.previous?.rollout };
  return following(p, p.previous, deadline);
}

/**
 * A template stamped for this version before the status said so (a lost status write, a term ended
 * between the patch and the status, another mapping's restart): a rollout of ours that started at
 * the stamp's time, never one "already done".
 */
function started(p: Planned, now: number): WorkloadStatus | undefined {
  if (p.action !== 'already' || p.target.blocked) return undefined;
  const { kind, name, stampedAt } = p.target;
  return { kind, name, rollout: 'InProgress', restartedAt: stampTime(stampedAt, now) };
}

/**
 * A restart of this pass (`p`, its entry `entry`) as the next pass would follow it, when `fresh` — the
 * workload read again after the restart — carries exactly what the restart stamped (`stamp` and the
 * entry's restartedAt) and shows its rollout Complete: action current, the rollout InProgress since
 * the restart, so nextRollout ends it Complete (the same Event key the next pass would use). Otherwise
 * `p` as it was, followed later. Only Complete: a failure is the next pass's to see new (staging halts
 * on a failure after a resume), and an Argo Rollout's Degraded phase may predate the restart. Pure.
 */
export function completedSince(
  p: Planned,
  entry: WorkloadStatus,
  fresh: Target | undefined,
  stamp: string,
): Planned {
  if (p.action !== 'restart' || entry.state !== 'Restarted' || !fresh?.exists || fresh.blocked) return p;
  if (fresh.templateVersion !== stamp || fresh.stampedAt !== entry.restartedAt) return p;
  if (fresh.rollout !== 'Complete') return p;
  return { target: fresh, action: 'current', previous: { ...entry, rollout: 'InProgress' } };
}

/** How a rollout of ours stands now: the last pass's record, followed to what the workload shows. */
export function rolloutNow(p: Planned, deadline: { ms: number; now: number }): RolloutState | undefined {
  const previous = started(p, deadline.now) ?? p.previous;
  if (previous?.rollout !== 'InProgress') return previous?.rollout;
  return p.target.exists ? following(p, previous, deadline).rollout : undefined;
}

/** A rollout of ours in progress, as the workload shows it now. */
function following(
  p: Planned,
  previous: WorkloadStatus,
  deadline: { ms: number; now: number },
): { rollout?: RolloutState; ended?: 'Complete' | 'Failed'; why?: string } {
  const rollout = p.target.rollout;
  if (rollout === 'Complete') return { rollout, ended: rollout };
  if (rollout === 'Failed') return { rollout, ended: rollout, why: 'progress deadline exceeded' };
  if (untilDeadline(previous, deadline) === 0)
    return { rollout: 'Failed', ended: 'Failed', why: `not rolled out within ${formatMs(deadline.ms)}` };
  return { rollout };
}

/** How long until a rollout in progress reaches its deadline (undefined: no deadline of ours applies). */
export function untilDeadline(
  entry: WorkloadStatus,
  deadline: { ms: number; now: number },
): number | undefined {
  if (entry.rollout !== 'InProgress') return undefined;
  const started = Date.parse(entry.restartedAt ?? '');
  // 0: the deadline has been reached.
  return Number.isNaN(started) ? undefined : Math.max(0, started + deadline.ms - deadline.now);
}

const formatMs = (ms: number): string =>
  ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
