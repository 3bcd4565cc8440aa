import assert from 'node:assert/strict';
import { FreezableProxy } from './freezable-proxy.js';
import { FaultRelay } from './kit/fault-relay.js';
import {
  createSecret,
  e2eTest,
  environment,
  installCrd,
  kc,
  operatorKubeconfig,
  rotate,
  startOperator,
  testQueue,
  uniqueName,
  waitFor,
  FAST_LEASE,
  leads,
  readyz,
} from './harness.js';
import { applyMapping, getMapping, stuckAndNext, waitReason } from './mapping-helpers.js';
import { createWorkload, templateState } from './workloads-fixtures.js';

e2eTest(
  'two replicas: one leads; SIGKILL of the leader mid-rotation → the other takes over and restarts each workload once',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const name = uniqueName('ha');
    const secret = await createSecret(name);
    const apps = ['a', 'b', 'c'];
    for (const a of apps)
      await createWorkload({ kind: 'Deployment', namespace: ns, name: a }, { tier: 'ha' });
    await applyMapping(ns, 'm', { secretId: name, selector: { matchLabels: { tier: 'ha' } } });
    const queue = await testQueue(scope, { withRules: true, visibilityTimeout: 5, maxReceiveCount: 10 });
    const kubeconfig = await operatorKubeconfig(scope);
    const first = await startOperator(scope, { kubeconfig, queueUrl: queue.queueUrl, env: FAST_LEASE });
    const second = await startOperator(scope, { kubeconfig, queueUrl: queue.queueUrl, env: FAST_LEASE });
    await waitReason(ns, 'm', 'WatchingSecret');
    const [leader, follower] = (await leads(first)) ? [first, second] : [second, first];
    assert.equal(await leads(leader), true);
    assert.equal(await leads(follower), false, 'exactly one leads');
    const holder = await kc([
      '-n',
      ns,
      'get',
      'lease',
      'secrets-rotation-operator',
      '-o',
      'jsonpath={.spec.holderIdentity}',
    ]);
    assert.ok(holder.length > 0);
    const g0 = await Promise.all(
      apps.map(async (a) => (await templateState('Deployment', ns, a)).generation),
    );

    const v2 = await rotate(name, secret.arn);
    await leader.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor('the follower leads', () => leads(follower), 15_000);
    const takeover = Date.now() - killedAt;
    assert.ok(takeover <= 6000 + 2500, `took over within the lease duration (${takeover} ms)`);
    await waitFor('rotation completed', async () => {
      const s = await Promise.all(apps.map((a) => templateState('Deployment', ns, a)));
      return s.every((x) => x.stamp === `${name}@${v2}`);
    });
    const g1 = await Promise.all(
      apps.map(async (a) => (await templateState('Deployment', ns, a)).generation),
    );
    assert.deepEqual(
      g1.map((g, i) => g - g0[i]),
      [1, 1, 1],
      'one restart per workload across the failover',
    );

    // SIGTERM releases the Lease at once: a new replica leads well before the lease would expire.
    const third = await startOperator(scope, {
      kubeconfig,
      queueUrl: queue.queueUrl,
      env: { ...FAST_LEASE, LEASE_DURATION: '30s', RENEW_DEADLINE: '20s' },
    });
    await follower.kill('SIGTERM');
    const releasedAt = Date.now();
    await waitFor('the new replica leads', () => leads(third), 10_000);
    assert.ok(Date.now() - releasedAt < 5000, 'no need to wait for the lease to expire');
    await waitFor('the new leader reconciled the mapping', async () =>
      /reconcile_duration_seconds_count\{result="success"\} [1-9]/.test(await third.metrics()),
    );
    const g2 = await Promise.all(
      apps.map(async (a) => (await templateState('Deployment', ns, a)).generation),
    );
    assert.deepEqual(g2, g1, 'changing leader restarts nothing by itself');
  },
);

e2eTest(
  'a mapping deleted while a replica follows frees the rollout slot it held when that replica leads again',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const {
      stuck: { secret: s1, ...secret1 },
      next: { secret: s2, ...secret2 },
    } = await stuckAndNext(ns);
    const queue = await testQueue(scope, { withRules: true, visibilityTimeout: 5, maxReceiveCount: 10 });
    const kubeconfig = await operatorKubeconfig(scope);
    const url = new URL((await environment()).apiserverUrl);
    const proxy = await FreezableProxy.start({ host: url.hostname, port: Number(url.port) });
    scope.cleanups.push(() => proxy.close());
    const env = { ...FAST_LEASE, MAX_CONCURRENT_ROLLOUTS: '1', RESYNC_INTERVAL: '0s' };
    const a = await startOperator(scope, {
      kubeconfig: proxy.kubeconfigThrough(kubeconfig),
      queueUrl: queue.queueUrl,
      env,
    });
    await waitFor('a leads', () => leads(a), 15_000);
    const b = await startOperator(scope, { kubeconfig, queueUrl: queue.queueUrl, env });
    await waitReason(ns, 'stuck', 'WatchingSecret');
    await waitReason(ns, 'next', 'WatchingSecret');

    // a restarts stuck, whose rollout never ends: the one slot is a's.
    const v1 = await rotate(s1, secret1.arn);
    await waitFor(
      'stuck rolling',
      async () => (await getMapping(ns, 'stuck')).status?.workloads?.[0]?.rollout === 'InProgress' && v1,
      30_000,
    );
    // a is cut off and steps down; b leads and completes the deletion of stuck's mapping.
    proxy.freeze();
    await waitFor('b leads', () => leads(b), 20_000);
    await kc(['-n', ns, 'delete', 'srm', 'stuck', '--timeout=30s']);
    proxy.thaw();
    await waitFor('a follows', async () => !(await leads(a)), 20_000);
    // b goes: a leads again, with the deletion seen only as a follower.
    await b.kill('SIGTERM');
    await waitFor('a leads again', () => leads(a), 20_000);
    const v2 = await rotate(s2, secret2.arn);
    await waitFor(
      'next restarted (no slot held for the deleted mapping)',
      async () => (await templateState('Deployment', ns, 'next')).stamp === `${s2}@${v2}`,
      30_000,
    );
  },
  { timeout: 240_000 },
);

e2eTest(
  'a replica is Ready only once the workload caches its mappings need have answered their first LIST: a successor is warm before a rolling update removes the leader',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const name = uniqueName('warm');
    await createSecret(name);
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'web' }, { app: 'web' }, { replicas: 0 });
    await applyMapping(ns, 'm', { secretId: name, selector: { matchLabels: { app: 'web' } } });
    const queue = await testQueue(scope);
    // The namespace's first LIST of Deployments answers 15 s late (within KUBE_REQUEST_TIMEOUT's 30 s,
    // so it lists rather than fails); every other cache lists at once.
    const relay = await FaultRelay.kube(await environment(), 41);
    scope.cleanups.push(() => relay.close());
    const HELD_MS = 15_000;
    relay.inject({
      kinds: ['kube-read'],
      faults: ['delay'],
      delayMs: [HELD_MS, HELD_MS],
      times: 1,
      match: (r) => r.url.startsWith(`/apis/apps/v1/namespaces/${ns}/deployments?`),
    });
    const kubeconfig = relay.kubeconfigThrough(await operatorKubeconfig(scope, 'namespace'));
    const op = await startOperator(scope, { kubeconfig, queueUrl: queue.queueUrl, waitReady: false });
    // The mapping cache listed and the loop ran (the finalizer is the pass's first write)...
    await waitFor('the finalizer added', async () =>
      ((await getMapping(ns, 'm')).metadata.finalizers ?? []).includes('secretsrotation.io/finalizer'),
    );
    assert.equal(relay.injected.length, 1, 'the Deployments LIST is the held one');
    const heldAt = relay.injected[0].at;
    // ...but not Ready while the Deployment cache waits for its LIST: the first 200 comes after it.
    let unready = 0;
    await waitFor(
      'Ready once the Deployments listed',
      async () => {
        const code = await readyz(op.metricsPort);
        if (code === 503) unready += 1;
        return code === 200;
      },
      60_000,
    );
    assert.ok(Date.now() - heldAt >= HELD_MS, `Ready ${Date.now() - heldAt} ms after the held LIST`);
    assert.ok(unready > 0, 'not Ready while the LIST was held');
    await waitReason(ns, 'm', 'WatchingSecret');
  },
);
