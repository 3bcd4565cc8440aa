import type { WorkloadState, WorkloadStatus } from '../../resources/types.js';
import type { Target } from '../kube/target.js';

export type { Target };

export interface PlanInput {
  secretName: string;
  currentVersionId: string;
  /** status.currentVersionId; undefined for a mapping never reconciled: its baseline is adopted. */
  baselineVersionId: string | undefined;
  previous: WorkloadStatus[];
  targets: Target[];
  now: number;
  minRestartIntervalMs: number;
  suspend: boolean;
}

export type Action =
  /** Record the current version without restarting (new mapping or new target). */
  | 'adopt'
  /** Nothing changed for this workload. */
  | 'current'
  /**
   * The template already carries this version: another mapping restarted it, or this one did and its
   * status write was lost. Either way it is our rollout, followed as if this pass had made it.
   */
  | 'already'
  | 'restart'
  /** Inside minRestartInterval: restart later, once, with whatever version is current then. */
  | 'pending'
  | 'suspended'
  | 'missing'
  /** A staged rotation has not reached its stage, or halted before it (see staging.ts). */
  | 'held';

export interface Planned {
  target: Target;
  action: Action;
  /** For 'pending': how long until the restart may happen. */
  waitMs?: number;
  /** For 'held' (and a 'pending' that waits for something else than minRestartInterval): what it waits for. */
  why?: string;
  previous?: WorkloadStatus;
}

/** The annotation value that says "this template runs with this secret version". */
export const versionStamp = (secretName: string, versionId: string): string => `${secretName}@${versionId}`;

/** Decides, per target, what a reconcile pass does. Pure. */
export function planRestarts(input: PlanInput): Planned[] {
  const prevByKey = new Map(input.previous.map((w) => [`${w.kind}/${w.name}`, w]));
  const stamp = versionStamp(input.secretName, input.currentVersionId);
  return input.targets.map((target): Planned => {
    const previous = prevByKey.get(`${target.kind}/${target.name}`);
    const [action, waitMs] = decide(input, target, previous, stamp);
    return { target, action, waitMs, previous };
  });
}

function decide(
  input: PlanInput,
  target: Target,
  previous: WorkloadStatus | undefined,
  stamp: string,
): [Action, number?] {
  if (!target.exists) return ['missing'];
  if (input.baselineVersionId === undefined || !previous?.versionId) return [firstLook(input, target, stamp)];
  if (previous.versionId === input.currentVersionId) return ['current'];
  if (target.templateVersion === stamp) return ['already'];
  if (input.suspend) return ['suspended'];
  const wait = intervalWait(input, previous.restartedAt);
  return wait > 0 ? ['pending', wait] : ['restart'];
}

/**
 * A target the mapping has no record of: adopt the current version, unless the template's stamp names
 * this secret at another version. The stamp is the truth about what the workload runs: a mapping
 * recreated after a rotation it missed (GitOps replace, backup restore) must not adopt the newer one.
 */
function firstLook(input: PlanInput, target: Target, stamp: string): Action {
  const v = target.templateVersion;
  const runsOther = v !== undefined && v.startsWith(`${input.secretName}@`) && v !== stamp;
  if (!runsOther) return 'adopt';
  return input.suspend ? 'suspended' : 'restart';
}

/** How long minRestartInterval still holds a workload last restarted at `restartedAt` (0: not at all). */
function intervalWait(input: PlanInput, restartedAt: string | undefined): number {
  const last = restartedAt ? Date.parse(restartedAt) : Number.NaN;
  return Number.isNaN(last) ? 0 : last + input.minRestartIntervalMs - input.now;
}

/** What a workload that will not roll by itself reports; otherwise Restarted or Current. */
function blockedState(p: Planned): { state: WorkloadState; message?: string } {
  if (p.target.blocked === 'Paused')
    return { state: 'Paused', message: `${p.target.kind} is paused: it rolls when resumed` };
  if (p.target.blocked === 'OnDelete')
    return {
      state: 'OnDelete',
      message: 'updateStrategy OnDelete: pods pick up the change only when deleted',
    };
  return { state: p.previous?.restartedAt ? 'Restarted' : 'Current' };
}

/** The entry with what the previous status said of the workload's version and restart. Pure. */
export function keptEntry(p: Planned): WorkloadStatus {
  const { kind, name } = p.target;
  return { kind, name, versionId: p.previous?.versionId, restartedAt: p.previous?.restartedAt };
}

/** The status entry for a planned target after the pass ('restart' entries are written by the caller). Pure. */
export function entryFor(p: Planned, currentVersionId: string, now: string): WorkloadStatus {
  const { kind, name } = p.target;
  const kept = keptEntry(p);
  const current = { ...kept, versionId: currentVersionId };
  switch (p.action) {
    case 'missing':
      return {
        kind,
        name,
        versionId: kept.versionId,
        state: 'Missing',
        message: `${kind} ${name} not found`,
      };
    case 'adopt':
      return { kind, name, versionId: currentVersionId, ...blockedState(p) };
    case 'current':
      return { ...current, ...blockedState(p) };
    case 'already':
      return alreadyEntry(p, current, now);
    case 'held':
    case 'suspended':
    case 'pending':
      return waitingEntry(p, kept, currentVersionId);
    case 'restart':
      return {
        ...current,
        restartedAt: now,
        ...(p.target.blocked ? blockedState(p) : { state: 'Restarted' as const }),
      };
  }
}

/**
 * When a rollout found stamped for this version started: the stamp's restartedAt, which anyone who
 * may patch the workload can write — so one that is not a time, or is in the future, counts from
 * now (a deadline it never reaches would hold a rollout slot forever, and a value the CRD refuses
 * would fail every status write). Always an RFC 3339 time. Pure.
 */
export function stampTime(stampedAt: string | undefined, now: number): string {
  const at = Date.parse(stampedAt ?? '');
  return new Date(Number.isNaN(at) || at > now ? now : at).toISOString();
}

/** A template found stamped for this version: restarted at the stamp's time (see Action 'already'). Pure. */
function alreadyEntry(p: Planned, current: WorkloadStatus, now: string): WorkloadStatus {
  return {
    ...current,
    restartedAt: stampTime(p.target.stampedAt, Date.parse(now)),
    message: 'template already carried this version',
    // A paused or OnDelete workload says so instead: it will not roll by itself.
    ...(p.target.blocked ? blockedState(p) : { state: 'Restarted' as const }),
  };
}

/** The entry of a restart that waits (held by a staged rotation, suspended, deferred). Pure. */
function waitingEntry(p: Planned, kept: WorkloadStatus, currentVersionId: string): WorkloadStatus {
  if (p.action === 'held')
    return {
      ...kept,
      state: 'Held',
      message: `restart for version ${currentVersionId} ${p.why ?? 'is held'}`,
    };
  if (p.action === 'suspended')
    return {
      ...kept,
      state: 'Suspended',
      message: `suspended: would restart for version ${currentVersionId}`,
    };
  return {
    ...kept,
    state: 'Pending',
    message: `restart for version ${currentVersionId} ${p.why ?? 'waits for minRestartInterval'}`,
  };
}
