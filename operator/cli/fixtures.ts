import type { Condition, Mapping, MappingSpec, MappingStatus } from '../../resources/types.js';

/** A mapping as the API server returns one, for the plugin's unit tests. */
export function mapping(
  namespace: string,
  name: string,
  spec: Partial<MappingSpec> = {},
  status?: MappingStatus & { annotations?: Record<string, string> },
): Mapping {
  const { annotations, ...rest } = status ?? {};
  return {
    apiVersion: 'secretsrotation.io/v1alpha1',
    kind: 'SecretsRotationMapping',
    metadata: { namespace, name, generation: 1, resourceVersion: '7', annotations },
    spec: { secretId: 'db', ...spec },
    status: status && rest,
  };
}

export const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf';

export const readyCondition = (status: 'True' | 'False', reason: string, message = ''): Condition => ({
  type: 'Ready',
  status,
  reason,
  message,
  lastTransitionTime: '2026-01-01T00:00:00Z',
  observedGeneration: 1,
});
