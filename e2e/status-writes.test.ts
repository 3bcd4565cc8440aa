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
import { reasons, wiredOperator } from './kit/wired-operator.js';

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

e2eTest(
  'a rollout that ended while its pass sent the Events costs one status write, not two: the restart pass records it Complete',
  async (scope) => {
    // Requests may take 15 s: the Events are held 6 s below, longer than the kit's usual 4 s timeout.
    const w = await wiredOperator(scope, ['a'], { seed: 41, env: { KUBE_REQUEST_TIMEOUT: '15s' } });
    // No replicas: the rollout ends as soon as the deployment controller sees the new template.
    const { apps } = await adminClients();
    await apps.patchNamespacedDeployment(
      { namespace: w.ns, name: 'a', body: { spec: { replicas: 0 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitFor('a scaled to 0', async () => {
      const d = await apps.readNamespacedDeployment({ namespace: w.ns, name: 'a' });
      return (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) && !d.status?.replicas;
    });
    // The rotation's Events each take 6 s on the wire: the rollout ends long before the status write.
    w.kube.inject({ kinds: ['event-write'], faults: ['delay'], delayMs: [6000, 6000] });
    const statusBefore = w.kube.seen.get('status-write') ?? 0;
    const eventsBefore = w.kube.seen.get('event-write') ?? 0;
    const v2 = await w.rotate();
    const m = await waitFor(
      'the rotation recorded with its rollout complete',
      async () => {
        const got = await getMapping(w.ns, 'm');
        const entry = got.status?.workloads?.find((x) => x.name === 'a');
        return got.status?.currentVersionId === v2 && entry?.rollout === 'Complete' ? got : undefined;
      },
      90_000,
    );
    const rolled = m.status?.conditions?.find((c) => c.type === 'RolloutComplete');
    assert.equal(rolled?.status, 'True', 'RolloutComplete condition');
    assert.equal((w.kube.seen.get('status-write') ?? 0) - statusBefore, 1, 'status writes for the rotation');
    assert.equal(
      (w.kube.seen.get('event-write') ?? 0) - eventsBefore,
      3,
      'RotationDetected, WorkloadRestarted and RolloutComplete',
    );
    for (const reason of ['RotationDetected', 'WorkloadRestarted', 'RolloutComplete'])
      assert.equal((await reasons(w.ns, reason)).length, 1, `one ${reason}`);
  },
);
