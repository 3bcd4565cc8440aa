import type { RolloutState, WorkloadKind, WorkloadState, WorkloadStatus } from '../../resources/types.js';

/** A workload the mapping targets, as found in the cluster. */
export interface Target {
  kind: WorkloadKind;
  name: string;
  exists: boolean;
  /** Value of the secretsrotation.io/secret-version annotation on the pod template. */
  templateVersion?: string;
  /** The resourceVersion read, so the restart patch fails with 409 if another writer got there first. */
  resourceVersion?: string;
  /** A workload that will not roll by itself after a template change. */
  blocked?: 'Paused' | 'OnDelete';
  /** How its current rollout stands (see rollout.ts). */
  rollout?: RolloutState;
}

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
  /** The template already carries this version (another mapping restarted it). */
  | 'already'
  | 'restart'
  /** Inside minRestartInterval: restart later, once, with whatever version is current then. */
  | 'pending'
  | 'suspended'
  | 'missing';

export interface Planned {
  target: Target;
  action: Action;
  /** For 'pending': how long until the restart may happen. */
  waitMs?: number;
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
    const planned = (action: Action, waitMs?: number): Planned => ({ target, action, waitMs, previous });
    if (!target.exists) return planned('missing');
    if (input.baselineVersionId === undefined || !previous?.versionId) return planned('adopt');
    if (previous.versionId === input.currentVersionId) return planned('current');
    if (target.templateVersion === stamp) return planned('already');
    if (input.suspend) return planned('suspended');
    const last = previous.restartedAt ? Date.parse(previous.restartedAt) : Number.NaN;
    const wait = Number.isNaN(last) ? 0 : last + input.minRestartIntervalMs - input.now;
    return wait > 0 ? planned('pending', wait) : planned('restart');
  });
}

/** The status entry for a planned target after the pass ('restart' entries are written by the caller). */
export function entryFor(p: Planned, currentVersionId: string, now: string): WorkloadStatus {
  const { kind, name, blocked } = p.target;
  const base = { kind, name };
  const blockedState = (): { state: WorkloadState; message?: string } =>
    blocked === 'Paused'
      ? { state: 'Paused', message: 'Deployment is paused: it rolls when resumed' }
      : blocked === 'OnDelete'
        ? { state: 'OnDelete', message: 'updateStrategy OnDelete: pods pick up the change only when deleted' }
        : { state: p.previous?.restartedAt ? 'Restarted' : 'Current' };
  switch (p.action) {
    case 'missing':
      return {
        ...base,
        versionId: p.previous?.versionId,
        state: 'Missing',
        message: `${kind} ${name} not found`,
      };
    case 'adopt':
      return { ...base, versionId: currentVersionId, ...blockedState() };
    case 'current':
      return {
        ...base,
        versionId: currentVersionId,
        restartedAt: p.previous?.restartedAt,
        ...blockedState(),
      };
    case 'already':
      return {
        ...base,
        versionId: currentVersionId,
        restartedAt: p.previous?.restartedAt,
        state: 'Restarted',
        message: 'template already carried this version',
      };
    case 'suspended':
      return {
        ...base,
        versionId: p.previous?.versionId,
        restartedAt: p.previous?.restartedAt,
        state: 'Suspended',
        message: `suspended: would restart for version ${currentVersionId}`,
      };
    case 'pending':
      return {
        ...base,
        versionId: p.previous?.versionId,
        restartedAt: p.previous?.restartedAt,
        state: 'Pending',
        message: `restart for version ${currentVersionId} waits for minRestartInterval`,
      };
    case 'restart':
      return {
        ...base,
        versionId: currentVersionId,
        restartedAt: now,
        ...blockedState(),
        ...(blocked ? {} : { state: 'Restarted' as const }),
      };
  }
}
