import assert from 'node:assert/strict';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { apiRequests, metric, requestDelta } from './bench/measure.js';
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
import { applyMapping, getMapping, waitReason } from './mapping-helpers.js';
import { createWorkload } from './workloads-fixtures.js';

const passes = async (metrics: () => Promise<string>): Promise<number> =>
  metric(await metrics(), 'secrets_rotation_reconcile_duration_seconds_count');

e2eTest(
  'a pass that changes nothing writes nothing: a staged mapping woken by its workloads’ changes sends no status PATCH',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const name = uniqueName('quiet');
    const secret = await createSecret(name);
    for (const n of ['a', 'b'])
      await createWorkload({ kind: 'Deployment', namespace: ns, name: n }, { app: n }, { replicas: 1 });
    await applyMapping(ns, 'm', {
      secretId: name,
      workloads: ['a', 'b'].map((n) => ({ kind: 'Deployment' as const, name: n })),
      rollout: { strategy: 'Staged', stageSize: 1 },
    });
    const queue = await testQueue(scope, { withRules: true });
    const op = await startOperator(scope, {
      kubeconfig: await operatorKubeconfig(scope),
      queueUrl: queue.queueUrl,
      env: { RESYNC_INTERVAL: '0s' },
    });
    await waitReason(ns, 'm', 'WatchingSecret');
    const v2 = await rotate(name, secret.arn);
    await waitFor(
      'the staged rotation complete',
      async () => {
        const r = (await getMapping(ns, 'm')).status?.rollout;
        return r?.versionId === v2 && r.state === 'Complete';
      },
      90_000,
    );
    // Let the passes the rollout's last watch events woke settle.
    let seen = await passes(() => op.metrics());
    await waitFor('no pass for 3 s', async () => {
      await new Promise((r) => setTimeout(r, 3000));
      const now = await passes(() => op.metrics());
      const quiet = now === seen;
      seen = now;
      return quiet;
    });
    const before = await apiRequests();
    const { apps } = await adminClients();
    for (let i = 0; i < 10; i++)
      await apps.patchNamespacedDeployment(
        { namespace: ns, name: 'a', body: { metadata: { labels: { churn: String(i) } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    await waitFor('passes woken by the relabels', async () => (await passes(() => op.metrics())) > seen);
    const writes = Object.entries(
      requestDelta(before, await apiRequests(), /^secretsrotationmappings\/status$/),
    ).filter(([key]) => !key.startsWith('GET '));
    assert.deepEqual(writes, [], 'unchanged status written again');
  },
);
