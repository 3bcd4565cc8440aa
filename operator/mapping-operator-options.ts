import type { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { ServedApis } from './kube/optional-apis.js';
import type { ControllerHooks } from './loop/controller.js';
import type { ReconcileDeps } from './loop/reconcile.js';
import type { TermLoopOptions } from './loop/term.js';
import type { Logger } from './runtime/logger.js';
import type { DefaultPolicy } from './tenancy/policy-decision.js';
import type { SecretVersions } from './aws/secret-versions.js';

/** What a pass needs besides the caches, which the operator owns. */
export type PassSettings = Omit<
  ReconcileDeps,
  | 'mappings'
  | 'mappingWriter'
  | 'workloadCache'
  | 'consumers'
  | 'onCarriedNames'
  | 'tenancy'
  | 'onCurrentMoved'
>;

export interface MappingOperatorOptions {
  kubeConfig: KubeConfig;
  /** Plain-JSON access to any resource: mappings and workloads. */
  api: CustomObjectsApi;
  /** Namespaces (their labels, for SecretsRotationPolicies). */
  core: CoreV1Api;
  /** What a namespace no SecretsRotationPolicy governs may map. */
  defaultSecretPolicy: DefaultPolicy;
  namespace: string | undefined;
  fieldManager: string;
  logger: Logger;
  versions: SecretVersions;
  /** Which optional APIs the cluster serves (see optional-apis.ts). */
  served: ServedApis;
  pass: PassSettings;
  /** The term loop's workers and rollout caps. */
  term: Pick<TermLoopOptions, 'concurrency' | 'maxConcurrentRollouts' | 'maxRolloutsPerNamespace'>;
  hooks?: ControllerHooks & { queueDepth?: (n: number) => void };
}
