import {
  bindEditedRole,
  createSecret,
  e2eTest,
  installCrd,
  operatorKubeconfig,
  rotate,
  startOperator,
  testQueue,
  uniqueName,
  waitFor,
} from './harness.js';
import { applyMapping, waitReason } from './mapping-helpers.js';
import { createWorkload, templateState } from './workloads-fixtures.js';

e2eTest(
  'mappings whose workload kind never lists (LIST refused) hold no worker: another mapping still restarts at once',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const kubeconfig = await operatorKubeconfig(scope);
    // The shipped ClusterRole without StatefulSets: their cache can never list.
    await bindEditedRole(scope, 'no-sts', (rules) =>
      rules.map((r) => ({ ...r, resources: r.resources.filter((res) => res !== 'statefulsets') })),
    );

    // More such mappings than the operator has workers (MAX_CONCURRENT_RECONCILES, 4 by default).
    const stuckSecret = uniqueName('sts');
    await createSecret(stuckSecret);
    for (let i = 0; i < 6; i++)
      await applyMapping(ns, `sts-${i}`, {
        secretId: stuckSecret,
        workloads: [{ kind: 'StatefulSet', name: `db-${i}` }],
      });
    const name = uniqueName('web');
    const secret = await createSecret(name);
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'web' }, { app: 'web' });
    await applyMapping(ns, 'web', { secretId: name, workloads: [{ kind: 'Deployment', name: 'web' }] });

    const queue = await testQueue(scope, { withRules: true });
    await startOperator(scope, {
      kubeconfig,
      queueUrl: queue.queueUrl,
      // Readiness waits for the caches the mappings started: the StatefulSets' never lists.
      waitReady: false,
    });
    await waitReason(ns, 'web', 'WatchingSecret');
    const v2 = await rotate(name, secret.arn);
    await waitFor(
      'web restarted while the StatefulSet mappings wait for their cache',
      async () => (await templateState('Deployment', ns, 'web')).stamp === `${name}@${v2}`,
      20_000,
    );
  },
);
