import type { RolloutState, WorkloadKind } from '../../resources/types.js';

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
