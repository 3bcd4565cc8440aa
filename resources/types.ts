/**
 * TypeScript view of the SecretsRotationMapping API (secretsrotation.io/v1alpha1). Kept in step with
 * secretsrotationmapping.crd.yaml by resources/types.test.ts, which compares field names.
 */
export const GROUP = 'secretsrotation.io';
export const VERSION = 'v1alpha1';
export const PLURAL = 'secretsrotationmappings';
export const KIND = 'SecretsRotationMapping';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Every kind a mapping can target: the apps/v1 three and Argo Rollouts' Rollout. */
export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** The kinds spec.selector applies to when spec.kinds is not set (the CRD's default). */
export const DEFAULT_SELECTOR_KINDS: readonly WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet'];

export type OnSyncTimeout = 'Restart' | 'Wait';

/** How a rotation waits for External Secrets Operator to copy the new value into the Secret pods read. */
export interface ExternalSecretSync {
  /** Go-style duration; default 2m. */
  timeout?: string;
  /** Past the timeout: restart with whatever the Secret holds (Restart), or keep waiting (Wait, the default). */
  onTimeout?: OnSyncTimeout;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface WorkloadRef {
  kind: WorkloadKind;
  name: string;
}

/** How a rotation reaches the targets (spec.rollout); see the CRD. */
export interface RolloutSpec {
  strategy?: 'AllAtOnce' | 'Staged';
  /** Workloads per stage: an integer ≥ 1 or a percentage such as "25%". */
  stageSize?: number | string;
  /** Go-style duration to wait after a stage's rollouts complete, before the next. */
  pause?: string;
  /** Revert: move AWSCURRENT back to the version the workloads ran before (see status.rollout.revert). */
  onFailure?: 'Halt' | 'Continue' | 'Revert';
}

/** When restarts may happen (spec.restartWindows[]): a cron schedule's starts plus a duration. */
export interface RestartWindow {
  /** Five-field cron: minute hour day-of-month month day-of-week. */
  schedule: string;
  /** Go-style duration each window stays open. */
  duration: string;
  /** IANA time zone of the schedule; default UTC. */
  timeZone?: string;
}

export interface MappingSpec {
  secretId: string;
  selector?: LabelSelector;
  workloads?: WorkloadRef[];
  kinds?: WorkloadKind[];
  minRestartInterval?: string;
  suspend?: boolean;
  /** Also target the workloads that consume the secret through a SecretProviderClass or an ExternalSecret. */
  discover?: boolean;
  externalSecretSync?: ExternalSecretSync;
  rollout?: RolloutSpec;
  restartWindows?: RestartWindow[];
}

/** Where one target stands; see the CRD's description of status.workloads[].state. */
export type WorkloadState =
  | 'Current'
  | 'Restarted'
  | 'Pending'
  | 'Suspended'
  | 'Paused'
  | 'OnDelete'
  | 'Missing'
  | 'Failed'
  | 'DryRun'
  | 'WaitingForSync'
  | 'SyncTimedOut'
  /** A staged rotation has not reached this workload's stage (or halted before it). */
  | 'Held';

export type RolloutState = 'InProgress' | 'Complete' | 'Failed';

export interface WorkloadStatus {
  kind: WorkloadKind;
  name: string;
  versionId?: string;
  restartedAt?: string;
  state?: WorkloadState;
  message?: string;
  rollout?: RolloutState;
  /** How the workload consumes the secret besides the spec's selector and list (e.g. ExternalSecret/db). */
  via?: string[];
  /** The force-sync this workload's restart waits on (or waited on), for the version it names. */
  sync?: { versionId: string; requestedAt: string };
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export type StagedRolloutState = 'Progressing' | 'Paused' | 'Halted' | 'Complete' | 'Reverting' | 'Reverted';

/**
 * A revert of AWSCURRENT (onFailure Revert), recorded before the AWS call: at most one per rotation,
 * whatever leader makes the call or loses its answer.
 */
export interface RevertRecord {
  /** The version whose rollout failed: AWSCURRENT is moved off it. */
  from: string;
  /** The version the workloads ran before: AWSCURRENT is moved back onto it. */
  to: string;
  /** The workload whose rollout failed. */
  workload: string;
  requestedAt: string;
  /** When AWSCURRENT was seen back on `to`: from then on the workloads restart back. */
  movedAt?: string;
  /** Why the revert was not made (AWSCURRENT moved meanwhile, the IAM role may not): a plain halt. */
  refused?: string;
}

/** Where a staged rotation stands (status.rollout); the operator's memory of it across passes and leaders. */
export interface StagedRolloutStatus {
  versionId: string;
  /**
   * The version the workloads ran when this rotation began (status.currentVersionId then): what a
   * revert moves AWSCURRENT back to. Kept here because status.currentVersionId moves on to versionId
   * once every target is restarted for it — in the last stage, before that stage's rollouts can fail.
   */
  fromVersionId?: string;
  /** The stage in progress, paused before, or halted at (1-based). */
  stage: number;
  stages: number;
  state: StagedRolloutState;
  /** "2/3 Halted": the ROLLOUT column of kubectl get. */
  progress: string;
  /** The last stage seen complete, and when (spec.rollout.pause counts from then). */
  completedStage?: number;
  completedAt?: string;
  /** The value of the resume annotation when it halted: a different value resumes. */
  haltedWith?: string;
  /** The last stage whose failures a resume accepted. */
  resumedStage?: number;
  message?: string;
  revert?: RevertRecord;
}

export interface MappingStatus {
  observedGeneration?: number;
  secretArn?: string;
  currentVersionId?: string;
  lastRotationTime?: string;
  matchedWorkloads?: number;
  workloads?: WorkloadStatus[];
  rollout?: StagedRolloutStatus;
  conditions?: Condition[];
}

export interface Mapping {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    creationTimestamp?: string | Date;
    deletionTimestamp?: string | Date;
    finalizers?: string[];
    annotations?: Record<string, string>;
  };
  spec: MappingSpec;
  status?: MappingStatus;
}

/** Field lists the schema test compares with the CRD: a missing or extra key fails to compile. */
export const specFields = {
  secretId: true,
  selector: true,
  workloads: true,
  kinds: true,
  minRestartInterval: true,
  suspend: true,
  discover: true,
  externalSecretSync: true,
  rollout: true,
  restartWindows: true,
} satisfies Record<keyof MappingSpec, true>;

export const statusFields = {
  observedGeneration: true,
  secretArn: true,
  currentVersionId: true,
  lastRotationTime: true,
  matchedWorkloads: true,
  workloads: true,
  rollout: true,
  conditions: true,
} satisfies Record<keyof MappingStatus, true>;

export const workloadStatusFields = {
  kind: true,
  name: true,
  versionId: true,
  restartedAt: true,
  state: true,
  message: true,
  rollout: true,
  via: true,
  sync: true,
} satisfies Record<keyof WorkloadStatus, true>;
