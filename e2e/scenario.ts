import {
  createSecret,
  installCrd,
  operatorKubeconfig,
  startOperator,
  testQueue,
  uniqueName,
  type RunningOperator,
  type Scope,
} from './harness.js';
import type { RotationQueue } from './env/aws-setup.js';
import { applyMapping, waitReason } from './mapping-helpers.js';
import { createWorkload, templateState } from './workloads-fixtures.js';

export interface Scenario {
  name: string;
  secret: { arn: string; versionId: string };
  queue: RotationQueue;
  kubeconfig: string;
  operator: RunningOperator;
  /** Template changes of `web` since the scenario was ready. */
  restarts: () => Promise<number>;
  /** The secret-version stamp on `web`'s pod template. */
  stamp: () => Promise<string | undefined>;
}

/** One Deployment `web` mapped to a fresh secret; returns what the test needs. */
export async function scenario(
  scope: Scope,
  opts: { secretRef?: (arn: string, name: string) => string; env?: Record<string, string> } = {},
): Promise<Scenario> {
  const sc = await scenarioWithout(scope, opts);
  const kubeconfig = await operatorKubeconfig(scope);
  const operator = await startOperator(scope, { kubeconfig, queueUrl: sc.queue.queueUrl, env: opts.env });
  await waitReason(scope.namespace, 'm', 'WatchingSecret');
  return { ...sc, kubeconfig, operator };
}

/** The same, without an operator: for tests that run the operator another way (e.g. as a container). */
export async function scenarioWithout(
  scope: Scope,
  opts: { secretRef?: (arn: string, name: string) => string } = {},
): Promise<Omit<Scenario, 'operator' | 'kubeconfig'>> {
  await installCrd();
  const name = uniqueName('sec');
  const secret = await createSecret(name);
  await createWorkload({ kind: 'Deployment', namespace: scope.namespace, name: 'web' }, { app: 'web' });
  await applyMapping(scope.namespace, 'm', {
    secretId: opts.secretRef?.(secret.arn, name) ?? name,
    selector: { matchLabels: { app: 'web' } },
  });
  const queue = await testQueue(scope, { withRules: true });
  // A mapping's first pass adopts the current version without touching the workload.
  const g0 = (await templateState('Deployment', scope.namespace, 'web')).generation;
  const restarts = async (): Promise<number> =>
    (await templateState('Deployment', scope.namespace, 'web')).generation - g0;
  const stamp = async (): Promise<string | undefined> =>
    (await templateState('Deployment', scope.namespace, 'web')).stamp;
  return { name, secret, queue, restarts, stamp };
}
