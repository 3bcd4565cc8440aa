import { kc } from './clients.js';

/**
 * Applies a ValidatingAdmissionPolicy named `name` with `spec` and its Deny binding; the returned
 * function deletes both. The tests that make a write fail (a refused restart, a value that breaks
 * pods, the chaos run's admission refusals) differ only in what the policy matches and says.
 */
export async function applyDenyPolicy(name: string, spec: object): Promise<() => Promise<string>> {
  const policy = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name },
    spec,
  };
  const binding = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name },
    spec: { policyName: name, validationActions: ['Deny'] },
  };
  await kc(
    ['apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [policy, binding] }),
  );
  return () =>
    kc(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', name, '--ignore-not-found']);
}
