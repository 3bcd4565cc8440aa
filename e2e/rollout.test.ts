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
    // Longer than the operator's 30 s fallback recheck: if the controller-manager lags (seen once in
    // CI, acting on Deployments of namespaces already deleted), the watch event may be the only one.
    await waitFor(
      'healthy rollout complete',
      async () => (await condition(ns, 'good', 'RolloutComplete')).reason === 'RolloutComplete',
      60_000,
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

/** The mapping's only workload entry. */
const entry = async (ns: string, name: string): Promise<{ state?: string; versionId?: string }> =>
  (await getMapping(ns, name)).status?.workloads?.[0] ?? {};

e2eTest(
  'rollout slots never leak: paused workloads take none; a rollout past its deadline (a Deployment whose progressDeadlineSeconds is 2^31-1 too) or a deleted workload frees its slot',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const secrets: Record<string, { name: string; arn: string }> = {};
    const workloads = [
      { mapping: 'paused', kind: 'Deployment' as const, opts: { paused: true } },
      { mapping: 'stuck', kind: 'StatefulSet' as const, opts: { unschedulable: true, replicas: 1 } },
      {
        mapping: 'gone',
        kind: 'Deployment' as const,
        opts: { unschedulable: true, replicas: 1, progressDeadlineSeconds: 3600 },
      },
      // A tenant's Deployment whose own deadline never comes: only ROLLOUT_DEADLINE frees its slot.
      {
        mapping: 'forever',
        kind: 'Deployment' as const,
        opts: { unschedulable: true, replicas: 1, progressDeadlineSeconds: 2147483647 },
      },
      { mapping: 'next', kind: 'Deployment' as const, opts: { replicas: 1 } },
    ];
    for (const w of workloads) {
      const name = uniqueName(w.mapping);
      secrets[w.mapping] = { name, ...(await createSecret(name)) };
      await createWorkload({ kind: w.kind, namespace: ns, name: w.mapping }, { app: w.mapping }, w.opts);
      await applyMapping(ns, w.mapping, {
        secretId: name,
        workloads: [{ kind: w.kind, name: w.mapping }],
      });
    }
    const queue = await testQueue(scope, { withRules: true });
    await startOperator(scope, {
      kubeconfig: await operatorKubeconfig(scope),
      queueUrl: queue.queueUrl,
      env: { MAX_CONCURRENT_ROLLOUTS: '1', ROLLOUT_DEADLINE: '4s' },
    });
    for (const w of workloads) await waitReason(ns, w.mapping, 'WatchingSecret');
    const rotateOne = (m: string): Promise<string> => rotate(secrets[m].name, secrets[m].arn);
    const restarted = async (m: string, version: string): Promise<void> => {
      await waitFor(
        `${m} restarted for ${version}`,
        async () => {
          const e = await entry(ns, m);
          return e.versionId === version && e.state !== 'Pending';
        },
        30_000,
      );
    };
    const nextRolledOut = (): Promise<unknown> =>
      waitFor(
        'next rolled out',
        async () => (await condition(ns, 'next', 'RolloutComplete')).reason === 'RolloutComplete',
        30_000,
      );

    // A paused Deployment is stamped but does not roll: no slot, so the next restart goes at once.
    await restarted('paused', await rotateOne('paused'));
    assert.equal((await entry(ns, 'paused')).state, 'Paused');
    await restarted('next', await rotateOne('next'));
    await nextRolledOut();

    // A StatefulSet rollout that can never finish holds the one slot until ROLLOUT_DEADLINE.
    await restarted('stuck', await rotateOne('stuck'));
    const waiting = await rotateOne('next');
    await waitFor('next waits for a slot', async () => (await entry(ns, 'next')).state === 'Pending', 15_000);
    await waitFor(
      'stuck rollout failed at its deadline',
      async () => (await condition(ns, 'stuck', 'RolloutComplete')).reason === 'RolloutFailed',
      30_000,
    );
    await restarted('next', waiting);
    assert.ok((await eventReasons(ns, 'stuck')).includes('RolloutFailed'));
    await nextRolledOut();

    // So does a Deployment whose progressDeadlineSeconds is the most the API allows.
    await restarted('forever', await rotateOne('forever'));
    const afterForever = await rotateOne('next');
    await waitFor('next waits for a slot', async () => (await entry(ns, 'next')).state === 'Pending', 15_000);
    await waitFor(
      'forever rollout failed at ROLLOUT_DEADLINE',
      async () => (await condition(ns, 'forever', 'RolloutComplete')).reason === 'RolloutFailed',
      30_000,
    );
    await restarted('next', afterForever);
    await nextRolledOut();

    // A Deployment deleted mid-rollout frees its slot.
    await restarted('gone', await rotateOne('gone'));
    const afterDelete = await rotateOne('next');
    await waitFor('next waits for a slot', async () => (await entry(ns, 'next')).state === 'Pending', 15_000);
    const { apps } = await adminClients();
    await apps.deleteNamespacedDeployment({ namespace: ns, name: 'gone' });
    await restarted('next', afterDelete);
    assert.equal((await entry(ns, 'gone')).state, 'Missing');
  },
);

e2eTest(
  'StatefulSet rollouts as kubectl reads them: a partitioned one is Complete once the ordinals above the partition run the new revision; with minReadySeconds, once every pod is available',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const name = uniqueName('sts');
    const secret = await createSecret(name);
    const { apps } = await adminClients();
    const statefulSet = (app: string, spec: { partition?: number; minReadySeconds?: number }) =>
      apps.createNamespacedStatefulSet({
        namespace: ns,
        body: {
          metadata: { name: app, labels: { app } },
          spec: {
            replicas: 3,
            serviceName: app,
            minReadySeconds: spec.minReadySeconds,
            updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: spec.partition } },
            selector: { matchLabels: { app } },
            template: {
              metadata: { labels: { app } },
              spec: { containers: [{ name: 'c', image: 'nginx' }] },
            },
          },
        },
      });
    // Before: the controller never moves currentRevision past a partition, and the rollout stayed
    // InProgress until ROLLOUT_DEADLINE (10 min) failed it; minReadySeconds was not waited for.
    await statefulSet('parted', { partition: 2 });
    await statefulSet('slow', { minReadySeconds: 10 });
    const sts = async (n: string) =>
      (await apps.readNamespacedStatefulSet({ namespace: ns, name: n })).status;
    await waitFor(
      'both StatefulSets ready',
      async () => {
        const all = await Promise.all(['parted', 'slow'].map(sts));
        return all.every((s) => s?.availableReplicas === 3);
      },
      90_000,
    );
    for (const app of ['parted', 'slow'])
      await applyMapping(ns, app, { secretId: name, workloads: [{ kind: 'StatefulSet', name: app }] });
    const queue = await testQueue(scope, { withRules: true });
    await startOperator(scope, { kubeconfig: await operatorKubeconfig(scope), queueUrl: queue.queueUrl });
    for (const app of ['parted', 'slow']) await waitReason(ns, app, 'WatchingSecret');
    const v2 = await rotate(name, secret.arn);
    // Polled every 100 ms: the first status that says Complete is compared with the StatefulSet then.
    const completed = (app: string) =>
      waitFor(
        `${app} recorded Complete`,
        async () => {
          const w = (await getMapping(ns, app)).status?.workloads?.[0];
          return w?.versionId === v2 && w.rollout === 'Complete' ? sts(app) : undefined;
        },
        90_000,
      );
    const slow = await completed('slow');
    assert.equal(slow?.availableReplicas, 3, 'Complete only once every pod is available');
    const parted = await completed('parted');
    assert.equal(parted?.updatedReplicas, 1, 'only the ordinal at the partition runs the new revision');
    assert.notEqual(parted?.currentRevision, parted?.updateRevision);
    const completes = async (): Promise<number> =>
      (await eventReasons(ns, 'parted')).filter((r) => r === 'RolloutComplete').length;
    await waitFor('a RolloutComplete Event', async () => (await completes()) > 0);
    assert.equal(await completes(), 1);
  },
  { timeout: 240_000 },
);
