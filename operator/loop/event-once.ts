import type { StagedRolloutStatus, WorkloadStatus } from '../../resources/types.js';
import type { Planned } from './restart-plan.js';

// Keys of the Events that say something happening once (EventDetails.once): the Event is named for
// its key (EventRecorder), so a second record of it — a pass retried from a stale read after its
// status write committed but its answer was lost, or a new leader — is a 409 (or known to the
// recorder: it waits, or this process wrote it), neither recorded nor notified. Each key holds what tells one occurrence from the next, so a new rotation (or a new halt
// of the same one) is a new Event. All pure.

/**
 * A halt: the rotation (from → to), its stage, the workload whose failure halted it, when that
 * workload was restarted (`restartedAt`), and the resume value it halted with — a halt after a resume
 * is a new one, as is the same version halting again in a later rotation from another version, or in
 * a later rotation between the same versions (v1 → v2 halts, v1 comes back, v2 again fails on the same
 * workload: its restart is another).
 */
export const haltOnce = (r: StagedRolloutStatus, workload: string, restartedAt: string | undefined): string =>
  `halted/${r.fromVersionId ?? ''}/${r.versionId}/${r.stage}/${workload}/${restartedAt ?? ''}/${r.haltedWith ?? ''}`;

/**
 * When the workload `name` (Kind/name) of the plan was restarted for its failed rollout: the stamp on
 * the workload (the same on every retry, whatever status write was lost), else its status entry.
 */
export function restartOf(plan: Planned[], name: string): string | undefined {
  const p = plan.find((q) => `${q.target.kind}/${q.target.name}` === name);
  return p?.target.stampedAt ?? p?.previous?.restartedAt;
}

/**
 * A rotation detected, as the pass read the mapping (its resourceVersion): the same pass retried from
 * the same read says it once; any status recorded since — the next rotation's baseline, a deferral,
 * a suspension — is another read, and another announcement.
 */
export const detectedOnce = (was: string, version: string, readVersion: string | undefined): string =>
  `detected/${was}/${version}/${readVersion ?? ''}`;

/** A restart: the workload and exactly what its patch wrote (secret@version, restartedAt). */
export const restartedOnce = (workload: string, stamp: string, at: string | undefined): string =>
  `restarted/${workload}/${stamp}/${at ?? ''}`;

/**
 * A rollout's end (Complete, Failed) of one restart: the workload, its version, its restartedAt —
 * pass endedRestart's, which a retry reads the same.
 */
export const rolloutEndOnce = (
  ended: string,
  workload: string,
  version: string | undefined,
  at: string | undefined,
): string => `rollout${ended}/${workload}/${version ?? ''}/${at ?? ''}`;

/**
 * Which restart a rollout end is of: the restartedAt stamped on the workload beside its version, as
 * written (the same on every retry), else the status entry's. Not the entry's alone: a workload found
 * stamped without a valid time is entered as restarted now (stampTime), a new time every pass, so an
 * end said by a pass whose status write was lost would be said again by the next. Pure.
 */
export const endedRestart = (p: Planned, entry: WorkloadStatus): string | undefined =>
  p.target.stampedAt ?? entry.restartedAt;
