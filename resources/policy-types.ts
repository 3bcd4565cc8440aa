/**
 * TypeScript view of the SecretsRotationPolicy API (secretsrotation.io/v1alpha1, cluster-scoped).
 * Kept in step with secretsrotationpolicy.crd.yaml by resources/types.test.ts.
 */
import type { LabelSelector } from './types.js';

export const POLICY_PLURAL = 'secretsrotationpolicies';
export const POLICY_KIND = 'SecretsRotationPolicy';

export interface PolicySpec {
  /** The namespaces this policy governs; an empty selector selects every namespace. */
  namespaceSelector: LabelSelector;
  /** Globs over secret names or ARNs (see the CRD's description). */
  allowedSecrets: string[];
  /**
   * Globs over secret names or ARNs whose AWSCURRENT the operator may move back when a staged
   * rotation fails (a mapping's spec.rollout.onFailure Revert); none by default.
   */
  revertSecrets?: string[];
}

export interface PolicyStatus {
  observedGeneration?: number;
  namespaces?: number;
  mappings?: number;
  notAllowed?: number;
}

export interface Policy {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; generation?: number; resourceVersion?: string };
  spec: PolicySpec;
  status?: PolicyStatus;
}

export const policySpecFields = {
  namespaceSelector: true,
  allowedSecrets: true,
  revertSecrets: true,
} satisfies Record<keyof PolicySpec, true>;

export const policyStatusFields = {
  observedGeneration: true,
  namespaces: true,
  mappings: true,
  notAllowed: true,
} satisfies Record<keyof PolicyStatus, true>;
