/**
 * TypeScript view of the SecretsRotationMapping API (secretsrotation.io/v1alpha1). Kept in step with
 * secretsrotationmapping.crd.yaml by resources/types.test.ts, which compares field names.
 */
export const GROUP = 'secretsrotation.io';
export const VERSION = 'v1alpha1';
export const PLURAL = 'secretsrotationmappings';
export const KIND = 'SecretsRotationMapping';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

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

export interface MappingSpec {
  secretId: string;
  selector?: LabelSelector;
  workloads?: WorkloadRef[];
  kinds?: WorkloadKind[];
  minRestartInterval?: string;
  suspend?: boolean;
}

/** Where one target stands; see the CRD's description of status.workloads[].state. */
export type WorkloadState =
  'Current' | 'Restarted' | 'Pending' | 'Suspended' | 'Paused' | 'OnDelete' | 'Missing' | 'Failed' | 'DryRun';

export type RolloutState = 'InProgress' | 'Complete' | 'Failed';

export interface WorkloadStatus {
  kind: WorkloadKind;
  name: string;
  versionId?: string;
  restartedAt?: string;
  state?: WorkloadState;
  message?: string;
  rollout?: RolloutState;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface MappingStatus {
  observedGeneration?: number;
  secretArn?: string;
  currentVersionId?: string;
  lastRotationTime?: string;
  matchedWorkloads?: number;
  workloads?: WorkloadStatus[];
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
} satisfies Record<keyof MappingSpec, true>;

export const statusFields = {
  observedGeneration: true,
  secretArn: true,
  currentVersionId: true,
  lastRotationTime: true,
  matchedWorkloads: true,
  workloads: true,
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
} satisfies Record<keyof WorkloadStatus, true>;
