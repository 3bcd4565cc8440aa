import type { RolloutState, WorkloadKind } from '../../resources/types.js';

/** A workload the mapping targets, as found in the cluster. */
export interface Target {
  kind: WorkloadKind;
  name: string;
  exists: boolean;
  /** Value of the secretsrotation.io/secret-version annotation on the pod template. */
  templateVersion?: string;
  /** When that stamp was written (its secretsrotation.io/restartedAt beside it). */
  stampedAt?: string;
  /** Its secretsrotation.io/stage annotation (a staged rotation's order: lower first, absent last). */
  stage?: number;
  /** The resourceVersion read, so the restart patch fails with 409 if another writer got there first. */
  resourceVersion?: string;
  /** A workload that will not roll by itself after a template change. */
  blocked?: 'Paused' | 'OnDelete';
  /** How its current rollout stands (see rollout.ts). */
  rollout?: RolloutState;
  /** How it consumes the secret through other projects' resources (see consumption.ts). */
  via?: string[];
  /** ExternalSecrets whose Secret it reads: a restart waits for their sync (see sync-gate.ts). */
  externalSecrets?: string[];
  /** A Rollout's spec.restartAt now: the next one must be later. */
  restartAt?: string;
}
