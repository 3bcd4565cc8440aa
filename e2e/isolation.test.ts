import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import {
  adminClients,
  createSecret,
  drained,
  e2eTest,
  installCrd,
  kc,
  operatorKubeconfig,
  putEvent,
  putSecretValueEvent,
  rotate,
  startOperator,
  testQueue,
  uniqueName,
  waitFor,
  type Scope,
} from './harness.js';
import {
  applyMapping,
  describeCalls,
  eventReasons,
  getMapping,
  mappedDeployment,
  stuckAndNext,
  waitReason,
} from './mapping-helpers.js';
import { MappingClient } from '../operator/kube/mappings.js';
import { statusCode } from '../operator/runtime/errors.js';
import { metric } from './bench/measure.js';
import { applyDenyPolicy } from './kit/admission-policy.js';
import { templateState } from './workloads-fixtures.js';

/**
 * A ValidatingAdmissionPolicy that refuses, in `namespace`, every update of a Deployment labelled
 * `refuse=yes` — with reason Forbidden (HTTP 403), or the default (Invalid, HTTP 422). Waits until
 * the API server enforces it (its policy informer).
 */
async function refusingPolicy(scope: Scope, status: 403 | 422): Promise<string> {
  const name = `refuse-${scope.namespace}`.slice(0, 60);
  const message = `restarts of this workload are refused by policy ${name}`;
  scope.cleanups.push(
    await applyDenyPolicy(name, {
      failurePolicy: 'Fail',
      matchConstraints: {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': scope.namespace } },
        resourceRules: [
          { apiGroups: ['apps'], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['deployments'] },
        ],
      },
      validations: [
        {
          expression: "!has(object.metadata.labels) || !('refuse' in object.metadata.labels)",
          message,
          ...(status === 403 ? { reason: 'Forbidden' } : {}),
        },
      ],
    }),
  );
  await waitFor(
    'the admission policy enforced',
    async () => {
      const refused = await kc([
        '-n',
        scope.namespace,
        'patch',
        'deployment',
        'bad',
        '--dry-run=server',
        '-p',
        `{"spec":{"template":{"metadata":{"annotations":{"probe":"${randomBytes(3).toString('hex')}"}}}}}`,
      ]).then(
        () => false,
        (err: Error) => err.message.includes(message),
      );
      return refused;
    },
    30_000,
  );
  return message;
}

for (const status of [403, 422] as const) {
  e2eTest(
    `a mapping whose restarts an admission policy refuses (HTTP ${status}) does not stall another mapping, and says the policy's message`,
    async (scope) => {
      const ns = scope.namespace;
      await installCrd();
      const { secret: bad, ...badSecret } = await mappedDeployment(ns, 'bad', { refuse: 'yes' });
      const { secret: good, ...goodSecret } = await mappedDeployment(ns, 'good', { app: 'good' });
      const message = await refusingPolicy(scope, status);
      const queue = await testQueue(scope, { withRules: true, visibilityTimeout: 60 });
      await startOperator(scope, {
        kubeconfig: await operatorKubeconfig(scope),
        queueUrl: queue.queueUrl,
        env: { MAX_MESSAGES_IN_FLIGHT: '4', RESYNC_INTERVAL: '0s' },
      });
      await waitReason(ns, 'bad', 'WatchingSecret');
      await waitReason(ns, 'good', 'WatchingSecret');

      const restartOfGood = async (): Promise<number> => {
        const started = Date.now();
        const version = await rotate(good, goodSecret.arn);
        await waitFor(
          'good restarted',
          async () => (await templateState('Deployment', ns, 'good')).stamp === `${good}@${version}`,
          30_000,
        );
        return Date.now() - started;
      };
      const alone = await restartOfGood();
      let lastBad = '';
      for (let i = 0; i < 8; i++) lastBad = await rotate(bad, badSecret.arn);
      const beside = await restartOfGood();
      console.log(`good restarted in ${alone} ms alone, ${beside} ms after 8 refused rotations of bad`);
      assert.ok(beside <= alone + 1000, `delayed by ${beside - alone} ms`);

      // The baseline stays where it was (the workload does not run the new version): the queue retries it.
      const m = await waitReason(ns, 'bad', 'RestartFailed');
      assert.equal(m.status?.currentVersionId, badSecret.versionId);
      const entry = m.status?.workloads?.[0];
      assert.equal(entry?.state, 'Failed', JSON.stringify(entry));
      assert.ok(entry?.message?.includes(message), `the policy's message in status: ${entry?.message}`);
      assert.ok((await eventReasons(ns, 'bad')).includes('RestartFailed'), 'a Warning Event');
      // Its messages were settled by the passes that recorded them: the queue empties.
      await drained(queue.queueUrl);
      assert.notEqual((await templateState('Deployment', ns, 'bad')).stamp, `${bad}@${lastBad}`);
    },
    { timeout: 240_000 },
  );
}

e2eTest('20 events for secrets no mapping watches cost no DescribeSecret call', async (scope) => {
  const ns = scope.namespace;
  await installCrd();
  await mappedDeployment(ns, 'm', { app: 'web' });
  const queue = await testQueue(scope, { withRules: true });
  const op = await startOperator(scope, {
    kubeconfig: await operatorKubeconfig(scope),
    queueUrl: queue.queueUrl,
    env: { RESYNC_INTERVAL: '0s' },
  });
  await waitReason(ns, 'm', 'WatchingSecret');
  await drained(queue.queueUrl);
  const before = await describeCalls(op);
  for (let i = 0; i < 20; i++) {
    const other = uniqueName(`unwatched-${i}`);
    const { arn, versionId } = await createSecret(other);
    await putEvent('AWS API Call via CloudTrail', putSecretValueEvent(other, arn, versionId));
  }
  await waitFor(
    'the 20 messages received',
    async () => metric(await op.metrics(), 'secrets_rotation_messages_received_total') >= 20,
    30_000,
  );
  await drained(queue.queueUrl);
  assert.equal((await describeCalls(op)) - before, 0, 'DescribeSecret calls for unwatched secrets');
});

e2eTest(
  'a mapping that stops following its rollout (its secretId edited to a missing secret) frees its rollout slot',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const {
      stuck: { secret: s1, ...secret1 },
      next: { secret: s2, ...secret2 },
    } = await stuckAndNext(ns);
    const queue = await testQueue(scope, { withRules: true });
    await startOperator(scope, {
      kubeconfig: await operatorKubeconfig(scope),
      queueUrl: queue.queueUrl,
      env: { MAX_CONCURRENT_ROLLOUTS: '1', RESYNC_INTERVAL: '0s' },
    });
    await waitReason(ns, 'stuck', 'WatchingSecret');
    await waitReason(ns, 'next', 'WatchingSecret');

    const v1 = await rotate(s1, secret1.arn);
    await waitFor(
      'stuck restarted and rolling',
      async () => {
        const e = (await getMapping(ns, 'stuck')).status?.workloads?.[0];
        return e?.versionId === v1 && e.rollout === 'InProgress';
      },
      30_000,
    );
    await applyMapping(ns, 'stuck', {
      secretId: uniqueName('missing'),
      workloads: [{ kind: 'Deployment', name: 'stuck' }],
    });
    await waitReason(ns, 'stuck', 'SecretNotFound');
    const v2 = await rotate(s2, secret2.arn);
    await waitFor(
      'next restarted (the slot was freed)',
      async () => (await templateState('Deployment', ns, 'next')).stamp === `${s2}@${v2}`,
      20_000,
    );
  },
);

e2eTest(
  'a status write computed from an older read is refused (409), so a deposed leader cannot overwrite',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    await applyMapping(ns, 'm', { secretId: 'db', workloads: [{ kind: 'Deployment', name: 'web' }] });
    const read = await getMapping(ns, 'm');
    const { custom } = await adminClients();
    const writer = new MappingClient(custom, 'secrets-rotation-operator');
    // The new leader writes first…
    await writer.applyStatus(read, { currentVersionId: 'written-by-the-new-leader' });
    // …then the old leader's write, computed from the same (now older) read, lands.
    const stale = await writer.applyStatus(read, { currentVersionId: 'written-by-the-old-leader' }).then(
      () => 'applied',
      (err: unknown) => statusCode(err),
    );
    assert.equal(stale, 409);
    assert.equal((await getMapping(ns, 'm')).status?.currentVersionId, 'written-by-the-new-leader');
  },
);

e2eTest(
  'a resync costs one DescribeSecret per mapped secret: its passes find the answers it fetched',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const n = 10;
    for (let i = 0; i < n; i++) await mappedDeployment(ns, `w${i}`, { app: `w${i}` });
    const queue = await testQueue(scope, { withRules: true });
    // Answers expire between two resyncs, as with the defaults (5s TTL, 5m resync).
    const op = await startOperator(scope, {
      kubeconfig: await operatorKubeconfig(scope),
      queueUrl: queue.queueUrl,
      env: { RESYNC_INTERVAL: '3s', SECRET_CACHE_TTL: '1s' },
    });
    for (let i = 0; i < n; i++) await waitReason(ns, `w${i}`, 'WatchingSecret');
    const resyncs = (): number =>
      fs.readFileSync(op.log, 'utf8').split('resync enqueued mappings').length - 1;
    const afterResync = async (count: number): Promise<number> => {
      await waitFor(`resync ${count} done`, () => Promise.resolve(resyncs() >= count), 20_000);
      return describeCalls(op);
    };
    const first = resyncs() + 1;
    const before = await afterResync(first);
    const after = await afterResync(first + 3);
    console.log(`${after - before} DescribeSecret calls over 3 resyncs of ${n} secrets`);
    assert.ok(after - before <= 3 * n, `${after - before} calls for 3 resyncs of ${n} secrets`);
  },
);
