import assert from 'node:assert/strict';
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
import { applyMapping, ready, waitReason } from './mapping-helpers.js';
import { createWorkload, templateState } from './workloads-fixtures.js';

e2eTest(
  'mappings whose workload kind never lists (LIST refused) hold no worker and not readiness: they say why, another mapping still restarts at once',
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
    // Ready although the StatefulSets' cache never lists (startOperator waits for /readyz).
    await startOperator(scope, { kubeconfig, queueUrl: queue.queueUrl });
    await waitReason(ns, 'web', 'WatchingSecret');
    const stuck = await waitReason(ns, 'sts-0', 'WorkloadsNotListed');
    const message = ready(stuck).message ?? '';
    assert.match(message, new RegExp(`cannot list StatefulSets in namespace ${ns} \\(`));
    assert.match(message, /403/);
    assert.match(message, /forbidden/, "the API server's answer");
    const v2 = await rotate(name, secret.arn);
    await waitFor(
      'web restarted while the StatefulSet mappings wait for their cache',
      async () => (await templateState('Deployment', ns, 'web')).stamp === `${name}@${v2}`,
      20_000,
    );
  },
);
