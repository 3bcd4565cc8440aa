import type { RolloutState } from '../../resources/types.js';

/** The status fields of Deployments, StatefulSets, DaemonSets and Rollouts that tell how a rollout is going. */
export interface RolloutObject {
  metadata?: { generation?: number };
  spec?: {
    replicas?: number;
    restartAt?: string;
    /** StatefulSet: spec.updateStrategy.rollingUpdate.partition (ordinals below it keep the old revision). */
    partition?: number;
    /** StatefulSet: a pod counts once ready this long (availableReplicas). */
    minReadySeconds?: number;
  };
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
    conditions?: { type?: string; status?: string; reason?: string; lastUpdateTime?: string }[];
  };
}

/** A workload as the API serves it, in the fields projectRollout reads. */
export interface RawRollout {
  metadata?: { generation?: number };
  spec?: {
    replicas?: number;
    restartAt?: string;
    minReadySeconds?: number;
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
  };
  status?: RolloutObject['status'];
}

type Status = NonNullable<RolloutObject['status']>;
type Condition = NonNullable<Status['conditions']>[number];

/**
 * An apps/v1 kind's rollout, by the rules `kubectl rollout status` uses: the controller has seen the
 * latest template (observedGeneration), then `counts` decides from the replica counts.
 */
const appsProgress =
  (counts: (s: Status, want: number, since?: string, spec?: RolloutObject['spec']) => RolloutState) =>
  (w: RolloutObject, since?: string): RolloutState => {
    const s = w.status ?? {};
    if ((s.observedGeneration ?? 0) < (w.metadata?.generation ?? 0)) return 'InProgress';
    return counts(s, w.spec?.replicas ?? 1, since, w.spec);
  };

/**
 * An Argo Rollout's restart: its controller recreates the pods one by one and, once every pod is
 * newer than spec.restartAt, copies that time to status.restartedAt — then it is complete, whatever
 * the phase says of the rest of the Rollout (an aborted canary stays Degraded). Before that, a
 * Degraded Rollout has failed (progress deadline, aborted), unless its Progressing=False condition is
 * dated at or before our restart (`since`): a Rollout that was Degraded already would otherwise read
 * as failed by our restart at once (ROLLOUT_DEADLINE ends it if it never completes). Argo's
 * observedGeneration is not a generation number: not compared.
 */
export function argoProgress(w: RolloutObject, since?: string): RolloutState {
  const asked = Date.parse(w.spec?.restartAt ?? '');
  const done = Date.parse(w.status?.restartedAt ?? '');
  if (Number.isNaN(asked) || done >= asked) return 'Complete';
  if (w.status?.phase === 'Degraded' && !degradedBefore(w.status, since)) return 'Failed';
  return 'InProgress';
}

/** A Progressing=False condition written at or before `since` (both known): the Rollout was Degraded already. */
function degradedBefore(s: Status, since: string | undefined): boolean {
  return (s.conditions ?? []).some(
    (c) => c.type === 'Progressing' && c.status === 'False' && writtenBy(c, since),
  );
}

const n = (v: number | undefined): number => v ?? 0;

/**
 * Whether a ProgressDeadlineExceeded condition was written after `since` (our restart's stamp). The
 * deployment controller keeps the condition, and its time, on a new generation when its status write
 * after creating the new ReplicaSet conflicted: a restart made just after a rollout timed out would
 * read as failed at once. A deadline of ours is at least 1 s after the stamp, so its condition's time,
 * in whole seconds, is later than the stamp; one without a time, or without a stamp, counts. (The kept
 * condition keeps its old time even if our rollout times out too: then ROLLOUT_DEADLINE ends it.)
 * Two clocks meet here (the controller-manager's condition time, the operator's stamp): the rule
 * assumes they agree to within a second or so; docs/concepts.md says what a larger skew does.
 */
function deadlineExceeded(s: Status, since: string | undefined): boolean {
  return (s.conditions ?? []).some(
    (c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded' && !writtenBy(c, since),
  );
}

/** A condition dated at or before `since` (both known): not written after our restart. */
const writtenBy = (c: Condition, since: string | undefined): boolean =>
  Date.parse(c.lastUpdateTime ?? '') <= Date.parse(since ?? '');

/**
 * Every replica updated and available, no old one left; past progressDeadlineSeconds (a condition
 * written after our stamp, `since`) it has failed.
 */
export const deploymentProgress = appsProgress((s, want, since) => {
  if (deadlineExceeded(s, since)) return 'Failed';
  const updated = n(s.updatedReplicas);
  return updated >= want && n(s.replicas) <= updated && n(s.availableReplicas) >= want
    ? 'Complete'
    : 'InProgress';
});

/**
 * Every replica ready and updated, on one revision. With a partition (kubectl's rule) the ordinals at
 * or above it updated: the controller leaves the others on the old revision, so currentRevision never
 * reaches updateRevision and the rollout would otherwise never read complete. A partition at or
 * above the replicas rolls no pod: never complete (ROLLOUT_DEADLINE fails it), where kubectl says
 * complete at once — no pod runs the new version. With minReadySeconds a pod counts once available,
 * stricter than kubectl (ready).
 */
export const statefulSetProgress = appsProgress((s, want, _since, spec) => {
  if (statefulSetReady(s, spec) < want) return 'InProgress';
  const partition = spec?.partition ?? 0;
  if (partition > 0)
    return partition < want && n(s.updatedReplicas) >= want - partition ? 'Complete' : 'InProgress';
  return s.updateRevision === s.currentRevision && (s.updatedReplicas ?? want) >= want
    ? 'Complete'
    : 'InProgress';
});

/** The StatefulSet's pods that count: available with minReadySeconds (ready where not reported), else ready. */
const statefulSetReady = (s: Status, spec: RolloutObject['spec']): number =>
  n(spec?.minReadySeconds ? (s.availableReplicas ?? s.readyReplicas) : s.readyReplicas);

export const daemonSetProgress = appsProgress((s) => {
  const desired = n(s.desiredNumberScheduled);
  return n(s.updatedNumberScheduled) >= desired && n(s.numberAvailable) >= desired
    ? 'Complete'
    : 'InProgress';
});

/** The fields rolloutState() reads, and no others, of a workload as the API serves it. Pure. */
export function projectRollout(raw: RawRollout): RolloutObject {
  const s = raw.status ?? {};
  return {
    metadata: { generation: raw.metadata?.generation },
    spec: {
      replicas: raw.spec?.replicas,
      restartAt: raw.spec?.restartAt,
      partition: raw.spec?.updateStrategy?.rollingUpdate?.partition,
      minReadySeconds: raw.spec?.minReadySeconds,
    },
    status: {
      phase: s.phase,
      restartedAt: s.restartedAt,
      observedGeneration: s.observedGeneration,
      replicas: s.replicas,
      updatedReplicas: s.updatedReplicas,
      availableReplicas: s.availableReplicas,
      readyReplicas: s.readyReplicas,
      currentRevision: s.currentRevision,
      updateRevision: s.updateRevision,
      desiredNumberScheduled: s.desiredNumberScheduled,
      updatedNumberScheduled: s.updatedNumberScheduled,
      numberAvailable: s.numberAvailable,
      conditions: s.conditions?.map(({ type, status, reason, lastUpdateTime }) => ({
        type,
        status,
        reason,
        lastUpdateTime,
      })),
    },
  };
}
