import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { FreezableProxy } from './freezable-proxy.js';
import {
  awsClients,
  createSecret,
  drained,
  e2eTest,
  environment,
  installCrd,
  operatorKubeconfig,
  putEvent,
  putSecretValueEvent,
  queueCounts,
  rotate,
  startOperator,
  testQueue,
  uniqueName,
  waitFor,
  type Scope,
  FAST_LEASE,
  leads,
} from './harness.js';
import { applyMapping, waitReason } from './mapping-helpers.js';
import { createWorkload, templateState } from './workloads-fixtures.js';

/** A relay to the test API server that the test can freeze; closed afterwards. */
async function apiserverProxy(scope: Scope): Promise<FreezableProxy> {
  const url = new URL((await environment()).apiserverUrl);
  const proxy = await FreezableProxy.start({ host: url.hostname, port: Number(url.port) });
  scope.cleanups.push(() => proxy.close());
  return proxy;
}

/** One Deployment `web` mapped to a fresh secret. */
async function mappedDeployment(scope: Scope): Promise<{ name: string; arn: string }> {
  await installCrd();
  const name = uniqueName('fs');
  const { arn } = await createSecret(name);
  await createWorkload({ kind: 'Deployment', namespace: scope.namespace, name: 'web' }, { app: 'web' });
  await applyMapping(scope.namespace, 'm', {
    secretId: name,
    workloads: [{ kind: 'Deployment', name: 'web' }],
  });
  return { name, arn };
}

e2eTest(
  'a leader whose API server hangs ends its term by RENEW_DEADLINE, writes nothing after, and hands its held message to the new leader at once',
  async (scope) => {
    const ns = scope.namespace;
    const { name, arn } = await mappedDeployment(scope);
    // A long visibility timeout: a message handed over only by its timeout would miss the test's waits.
    const queue = await testQueue(scope, { withRules: true, visibilityTimeout: 120 });
    const kubeconfig = await operatorKubeconfig(scope);
    const proxy = await apiserverProxy(scope);
    const env = { ...FAST_LEASE, RESYNC_INTERVAL: '0s' };
    const cut = await startOperator(scope, {
      kubeconfig: proxy.kubeconfigThrough(kubeconfig),
      queueUrl: queue.queueUrl,
      env,
    });
    await waitFor('the first replica leads', () => leads(cut), 15_000);
    await waitReason(ns, 'm', 'WatchingSecret');
    const other = await startOperator(scope, { kubeconfig, queueUrl: queue.queueUrl, env });
    const g0 = (await templateState('Deployment', ns, 'web')).generation;

    proxy.freeze();
    const frozenAt = Date.now();
    const version = await rotate(name, arn);
    await waitFor('the cut-off leader steps down', async () => !(await leads(cut)), 15_000);
    const steppedDown = Date.now() - frozenAt;
    await waitFor('the other replica leads', () => leads(other), 15_000);
    await waitFor(
      'the new leader restarted web',
      async () => (await templateState('Deployment', ns, 'web')).stamp === `${name}@${version}`,
      20_000,
    );
    // Released at term end, the message reaches the new leader well before its 120 s visibility timeout.
    await drained(queue.queueUrl);
    const handedOver = Date.now() - frozenAt;

    proxy.thaw();
    // The hung restart PATCH of the old term reaches the API server now: it must change nothing.
    await waitFor(
      'the old term abandoned its pass',
      () =>
        Promise.resolve(
          fs.readFileSync(cut.log, 'utf8').includes('pass abandoned: the leadership term ended'),
        ),
      40_000,
    );
    assert.equal((await templateState('Deployment', ns, 'web')).generation, g0 + 1, 'restarted exactly once');
    assert.equal(await leads(cut), false, 'the old leader stays a follower');
    console.log(
      `stepped down after ${steppedDown} ms of a hung API server; message handled after ${handedOver} ms`,
    );
    assert.ok(
      steppedDown <= 4000 + 1000 + 2000,
      `stepped down by RENEW_DEADLINE (+ one retry period): ${steppedDown} ms`,
    );
  },
);

e2eTest(
  'while passes stall, messages in flight stay at MAX_MESSAGES_IN_FLIGHT, and none is held past MESSAGE_MAX_HOLD: they reach the dead-letter queue',
  async (scope) => {
    const { name, arn } = await mappedDeployment(scope);
    const queue = await testQueue(scope, { withRules: true, visibilityTimeout: 120, maxReceiveCount: 2 });
    const proxy = await apiserverProxy(scope);
    const op = await startOperator(scope, {
      kubeconfig: proxy.kubeconfigThrough(await operatorKubeconfig(scope)),
      queueUrl: queue.queueUrl,
      env: {
        LEADER_ELECT: 'false',
        RESYNC_INTERVAL: '0s',
        MAX_MESSAGES_IN_FLIGHT: '5',
        MESSAGE_MAX_HOLD: '3s',
      },
    });
    await waitReason(scope.namespace, 'm', 'WatchingSecret');
    proxy.freeze();
    // One rotation, and its event delivered 20 times (a redelivery storm).
    const messages = 20;
    const version = await rotate(name, arn);
    for (let i = 1; i < messages; i++)
      await putEvent('AWS API Call via CloudTrail', putSecretValueEvent(name, arn, version));

    let peakInFlight = 0;
    const dlq = async (): Promise<number> => {
      const { sqs } = await awsClients();
      const a = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queue.dlqUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      return Number(a.Attributes?.ApproximateNumberOfMessages ?? 0);
    };
    await waitFor(
      'every message dead-lettered while the API server hangs',
      async () => {
        peakInFlight = Math.max(peakInFlight, (await queueCounts(queue.queueUrl)).inflight);
        const held = Number(
          /^secrets_rotation_sqs_messages_in_flight (\d+)$/m.exec(await op.metrics())?.[1] ?? 0,
        );
        assert.ok(held <= 5, `operator holds ${held} messages`);
        return (await dlq()) === messages;
      },
      90_000,
    );
    console.log(`peak messages in flight: ${peakInFlight} (cap 5)`);
    assert.ok(peakInFlight <= 5, `SQS saw at most 5 in flight, saw ${peakInFlight}`);
    proxy.thaw();
  },
  { timeout: 240_000 },
);
