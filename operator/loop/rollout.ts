import type { RolloutState, WorkloadKind, WorkloadStatus } from '../../resources/types.js';
import type { Planned } from './restart-plan.js';

/** The status fields of Deployments, StatefulSets, DaemonSets and Rollouts that tell how a rollout is going. */
export interface RolloutObject {
  metadata?: { generation?: number };
  spec?: { replicas?: number; restartAt?: string };
  status?: {
    /** Argo Rollouts: Healthy, Progressing, Paused, Degraded. */
    phase?: string;
    /** Argo Rollouts: the spec.restartAt whose restart has finished. */
    restartedAt?: string;
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    readyReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    conditions?: { type?: string; status?: string; reason?: string }[];
  };
}

/**
 * Where the workload's rollout stands, by the rules `kubectl rollout status` uses: the controller has
 * seen the latest template (observedGeneration), every replica is updated and available, and no old
 * one is left; a Deployment past its progressDeadlineSeconds has failed.
 */
export function rolloutState(kind: WorkloadKind, w: RolloutObject): RolloutState {
  const s = w.status ?? {};
  if (kind === 'Rollout') return argoRollout(w);
  return (s.observedGeneration ?? 0) < (w.metadata?.generation ?? 0) ? 'InProgress' : appsRollout(kind, w);
}

function appsRollout(kind: Exclude<WorkloadKind, 'Rollout'>, w: RolloutObject): RolloutState {
  const s = w.status ?? {};
  const want = w.spec?.replicas ?? 1;
  if (kind === 'Deployment') return deploymentRollout(s, want);
  if (kind === 'StatefulSet') return statefulSetRollout(s, want);
  return daemonSetRollout(s);
}

type Status = NonNullable<RolloutObject['status']>;

/**
 * An Argo Rollout's restart: its controller recreates the pods one by one and, once every pod is
 * newer than spec.restartAt, copies that time to status.restartedAt. A Degraded rollout has failed
 * (progress deadline, aborted). Argo's observedGeneration is not a generation number: not compared.
 */
function argoRollout(w: RolloutObject): RolloutState {
  if (w.status?.phase === 'Degraded') return 'Failed';
  const asked = Date.parse(w.spec?.restartAt ?? '');
  const done = Date.parse(w.status?.restartedAt ?? '');
  return Number.isNaN(asked) || done >= asked ? 'Complete' : 'InProgress';
}
const n = (v: number | undefined): number => v ?? 0;

function deploymentRollout(s: Status, want: number): RolloutState {
  if (s.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded'))
    return 'Failed';
  const updated = n(s.updatedReplicas);
  return updated >= want && n(s.replicas) <= updated && n(s.availableReplicas) >= want
    ? 'Complete'
    : 'InProgress';
}

function statefulSetRollout(s: Status, want: number): RolloutState {
  const updated = s.updatedReplicas ?? want;
  return s.updateRevision === s.currentRevision && n(s.readyReplicas) >= want && updated >= want
    ? 'Complete'
    : 'InProgress';
}

function daemonSetRollout(s: Status): RolloutState {
  const desired = n(s.desiredNumberScheduled);
  return n(s.updatedNumberScheduled) >= desired && n(s.numberAvailable) >= desired
    ? 'Complete'
    : 'InProgress';
}

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
 * progress takes the state the workload shows now, and `ended` says when it just finished. A
 * StatefulSet or DaemonSet has no progress deadline of its own: past `deadlineMs` after our restart
 * its rollout has failed (a crash-looping pod, a node down would otherwise hold a slot forever). A
 * target gone (deleted, relabelled) has no rollout left to follow.
 */
export function nextRollout(
  p: Planned,
  entry: WorkloadStatus,
  deadline: { ms: number; now: number },
): { rollout?: RolloutState; ended?: 'Complete' | 'Failed'; why?: string } {
  if (p.action === 'restart' && entry.state === 'Restarted') return { rollout: 'InProgress' };
  if (!p.target.exists || NOT_ROLLING.includes(entry.state)) return {};
  if (p.previous?.rollout !== 'InProgress') return { rollout: p.previous?.rollout };
  return following(p, p.previous, deadline);
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
  if (untilDeadline(p, previous, deadline) === 0)
    return { rollout: 'Failed', ended: 'Failed', why: `not rolled out within ${formatMs(deadline.ms)}` };
  return { rollout };
}

/** How long until a rollout in progress reaches its deadline (undefined: no deadline of ours applies). */
export function untilDeadline(
  p: Planned,
  entry: WorkloadStatus,
  deadline: { ms: number; now: number },
): number | undefined {
  if (entry.rollout !== 'InProgress' || p.target.kind === 'Deployment') return undefined;
  const started = Date.parse(entry.restartedAt ?? '');
  // 0: the deadline has been reached.
  return Number.isNaN(started) ? undefined : Math.max(0, started + deadline.ms - deadline.now);
}

const formatMs = (ms: number): string =>
  ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
