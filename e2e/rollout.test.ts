import assert from 'node:assert/strict';
import {
  adminClients,
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
import { applyMapping, eventReasons, getMapping, waitReason } from './mapping-helpers.js';
import { createWorkload } from './workloads-fixtures.js';

const condition = async (
  ns: string,
  name: string,
  type: string,
): Promise<{ status?: string; reason?: string }> =>
  (await getMapping(ns, name)).status?.conditions?.find((c) => c.type === type) ?? {};

e2eTest(
  'rollouts are followed: a healthy one ends RolloutComplete, one that cannot progress RolloutFailed',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const name = uniqueName('rollouts');
    const secret = await createSecret(name);
    await createWorkload(
      { kind: 'Deployment', namespace: ns, name: 'healthy' },
      { app: 'healthy' },
      { replicas: 2 },
    );
    // Pods that can never be scheduled: the new ReplicaSet never becomes available.
    const { apps } = await adminClients();
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'stuck', labels: { app: 'stuck' } },
        spec: {
          replicas: 1,
          progressDeadlineSeconds: 3,
          selector: { matchLabels: { app: 'stuck' } },
          template: {
            metadata: { labels: { app: 'stuck' } },
            spec: { nodeSelector: { 'no-such-node': 'true' }, containers: [{ name: 'c', image: 'nginx' }] },
          },
        },
      },
    });
    await applyMapping(ns, 'good', { secretId: name, selector: { matchLabels: { app: 'healthy' } } });
    await applyMapping(ns, 'bad', { secretId: name, selector: { matchLabels: { app: 'stuck' } } });
    const queue = await testQueue(scope, { withRules: true });
    await startOperator(scope, {
      kubeconfig: await operatorKubeconfig(scope),
      queueUrl: queue.queueUrl,
      env: { MAX_CONCURRENT_ROLLOUTS: '5' },
    });
    await waitReason(ns, 'good', 'WatchingSecret');
    await waitReason(ns, 'bad', 'WatchingSecret');
    assert.deepEqual(
      await condition(ns, 'good', 'RolloutComplete'),
      {},
      'no rollout condition before any restart',
    );

    await rotate(name, secret.arn);
    await waitFor(
      'healthy rollout complete',
      async () => (await condition(ns, 'good', 'RolloutComplete')).reason === 'RolloutComplete',
      30_000,
    );
    assert.equal((await condition(ns, 'good', 'RolloutComplete')).status, 'True');
    assert.equal((await getMapping(ns, 'good')).status?.workloads?.[0]?.rollout, 'Complete');
    assert.ok((await eventReasons(ns, 'good')).includes('RolloutComplete'));

    const inProgress = await condition(ns, 'bad', 'RolloutComplete');
    assert.ok(
      ['RolloutInProgress', 'RolloutFailed'].includes(inProgress.reason ?? ''),
      JSON.stringify(inProgress),
    );
    await waitFor(
      'stuck rollout failed',
      async () => (await condition(ns, 'bad', 'RolloutComplete')).reason === 'RolloutFailed',
      60_000,
    );
    assert.equal((await getMapping(ns, 'bad')).status?.workloads?.[0]?.rollout, 'Failed');
    assert.ok((await eventReasons(ns, 'bad')).includes('RolloutFailed'));
  },
);
