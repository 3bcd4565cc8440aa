import { kc, type Scope } from '../harness.js';

/** A cluster-scoped policy governing the namespaces labelled `tenant=<tenant>`; deleted with the scope. */
export async function applyPolicy(
  scope: Scope,
  name: string,
  tenant: string,
  allowedSecrets: string[],
): Promise<void> {
  const body = {
    apiVersion: 'secretsrotation.io/v1alpha1',
    kind: 'SecretsRotationPolicy',
    metadata: { name },
    spec: { namespaceSelector: { matchLabels: { tenant } }, allowedSecrets },
  };
  await kc(['apply', '-f', '-'], JSON.stringify(body));
  if (!scope.cleanups.some((c) => (c as { policy?: string }).policy === name)) {
    const cleanup = Object.assign(() => kc(['delete', 'srpol', name, '--ignore-not-found']), {
      policy: name,
    });
    scope.cleanups.push(cleanup);
  }
}
