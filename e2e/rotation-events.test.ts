import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PurgeQueueCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { loadFixture } from '../operator/aws/fixtures/index.js';
import {
  awsClients,
  createSecret,
  drained,
  e2eTest,
  installCrd,
  kc,
  moveCurrent,
  operatorKubeconfig,
  putEvent,
  putSecretValueEvent,
  queueCounts,
  rotate,
  startOperator,
  testQueue,
  uniqueName,
  waitFor,
} from './harness.js';
import { applyMapping, getMapping, waitReason } from './mapping-helpers.js';
import { createWorkload, templateState } from './workloads-fixtures.js';
import { scenario } from './scenario.js';

e2eTest("a rotation's AWSPENDING step restarts nothing; moving AWSCURRENT restarts once", async (scope) => {
  const { name, secret, queue, restarts } = await scenario(scope);
  const { sm } = await awsClients();
  const pending = await sm.send(
    new PutSecretValueCommand({ SecretId: name, SecretString: 'next', VersionStages: ['AWSPENDING'] }),
  );
  await putEvent(
    'AWS API Call via CloudTrail',
    putSecretValueEvent(name, secret.arn, pending.VersionId ?? '', ['AWSPENDING']),
  );
  await drained(queue.queueUrl);
  assert.equal(await restarts(), 0, 'AWSPENDING is not the current value yet');

  await moveCurrent(name, pending.VersionId ?? '', secret.versionId);
  await putEvent('AWS API Call via CloudTrail', {
    eventSource: 'secretsmanager.amazonaws.com',
    eventName: 'UpdateSecretVersionStage',
    requestParameters: {
      secretId: secret.arn,
      versionStage: 'AWSCURRENT',
      moveToVersionId: pending.VersionId,
      removeFromVersionId: secret.versionId,
    },
    responseElements: { arn: secret.arn, name },
  });
  await waitFor(
    'restart for the promoted version',
    async () =>
      (await templateState('Deployment', scope.namespace, 'web')).stamp === `${name}@${pending.VersionId}`,
  );
  await drained(queue.queueUrl);
  assert.equal(await restarts(), 1);
});

e2eTest('the same event ten times restarts once', async (scope) => {
  const { name, secret, queue, restarts } = await scenario(scope);
  const v2 = await rotate(name, secret.arn, { sendEvent: false });
  for (let i = 0; i < 10; i++)
    await putEvent('AWS API Call via CloudTrail', putSecretValueEvent(name, secret.arn, v2));
  await waitFor(
    'restart',
    async () => (await templateState('Deployment', scope.namespace, 'web')).stamp === `${name}@${v2}`,
  );
  await drained(queue.queueUrl);
  assert.equal(await restarts(), 1);
});

const refs: [
  string,
  (arn: string, name: string) => string,
  (arn: string, name: string) => [string, object, string[]],
][] = [
  [
    'mapping by name, event by ARN (native Secret Label Updated)',
    (_a, n) => n,
    (a, n) => ['Secret Label Updated', { name: n, labelUpdated: 'AWSCURRENT' }, [a]],
  ],
  [
    'mapping by ARN, event by name (CloudTrail PutSecretValue)',
    (a) => a,
    (_a, n) => [
      'AWS API Call via CloudTrail',
      {
        eventSource: 'secretsmanager.amazonaws.com',
        eventName: 'PutSecretValue',
        requestParameters: { secretId: n },
      },
      [],
    ],
  ],
  [
    'mapping by partial ARN, event by full ARN (RotationSucceeded)',
    (a) => a.replace(/-[A-Za-z0-9]{6}$/, ''),
    (a) => [
      'AWS Service Event via CloudTrail',
      {
        eventSource: 'secretsmanager.amazonaws.com',
        eventName: 'RotationSucceeded',
        additionalEventData: { SecretId: a },
      },
      [],
    ],
  ],
];
for (const [what, mappingRef, eventOf] of refs) {
  e2eTest(what, async (scope) => {
    const { name, secret, queue, restarts } = await scenario(scope, { secretRef: mappingRef });
    const m = await getMapping(scope.namespace, 'm');
    assert.equal(m.status?.secretArn, secret.arn, 'the mapping resolved to the full ARN');
    const v2 = await rotate(name, secret.arn, { sendEvent: false });
    const [detailType, detail, resources] = eventOf(secret.arn, name);
    await putEvent(detailType, detail, resources);
    await waitFor(
      'restart',
      async () => (await templateState('Deployment', scope.namespace, 'web')).stamp === `${name}@${v2}`,
    );
    await drained(queue.queueUrl);
    assert.equal(await restarts(), 1);
  });
}

e2eTest(
  'SIGKILL after a message arrived but before the restart: applied exactly once after restart, queue empty',
  async (scope) => {
    await installCrd();
    const ns = scope.namespace;
    const name = uniqueName('killed');
    const secret = await createSecret(name);
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'web' }, { app: 'web' });
    await applyMapping(ns, 'm', { secretId: name, selector: { matchLabels: { app: 'web' } } });
    const queue = await testQueue(scope, { withRules: true, visibilityTimeout: 4, maxReceiveCount: 10 });
    const kubeconfig = await operatorKubeconfig(scope);
    // The first operator may not patch workloads (RBAC), so it receives and signals but cannot act.
    await kc([
      'create',
      'clusterrole',
      `sro-nopatch-${ns}`.slice(0, 63),
      '--verb=get,list,watch,patch',
      '--resource=secretsrotationmappings.secretsrotation.io',
    ]);
    scope.cleanups.push(() => kc(['delete', 'clusterrole', `sro-nopatch-${ns}`.slice(0, 63)]));
    const crb = `sro-${ns}`.slice(0, 63);
    const fastLease = { LEASE_DURATION: '4s', RENEW_DEADLINE: '3s', RETRY_PERIOD: '1s' };
    const first = await startOperator(scope, { kubeconfig, queueUrl: queue.queueUrl, env: fastLease });
    await waitReason(ns, 'm', 'WatchingSecret');
    await kc(['delete', 'clusterrolebinding', crb]);
    await kc([
      'create',
      'clusterrolebinding',
      crb,
      `--clusterrole=${`sro-nopatch-${ns}`.slice(0, 63)}`,
      `--serviceaccount=${ns}:secrets-rotation-operator`,
    ]);
    const g0 = (await templateState('Deployment', ns, 'web')).generation;
    const v2 = await rotate(name, secret.arn);
    await waitFor(
      'the first operator received the message and failed to act',
      async () =>
        fs.readFileSync(first.log, 'utf8').includes('rotation signal') &&
        (await queueCounts(queue.queueUrl)).inflight === 1,
    );
    await first.kill('SIGKILL');
    assert.equal(
      (await templateState('Deployment', ns, 'web')).generation,
      g0,
      'nothing applied before the kill',
    );

    await kc(['delete', 'clusterrolebinding', crb]);
    await kc([
      'create',
      'clusterrolebinding',
      crb,
      '--clusterrole=secrets-rotation-operator',
      `--serviceaccount=${ns}:secrets-rotation-operator`,
    ]);
    await startOperator(scope, { kubeconfig, queueUrl: queue.queueUrl });
    await waitFor(
      'restart after recovery',
      async () => (await templateState('Deployment', ns, 'web')).stamp === `${name}@${v2}`,
    );
    await drained(queue.queueUrl);
    assert.equal((await templateState('Deployment', ns, 'web')).generation - g0, 1, 'exactly once');
  },
);

e2eTest(
  'a malformed message among valid ones: valid ones applied, malformed one dead-lettered, operator running',
  async (scope) => {
    await installCrd();
    const ns = scope.namespace;
    const name = uniqueName('mixed');
    const secret = await createSecret(name);
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'web' }, { app: 'web' });
    await applyMapping(ns, 'm', { secretId: name, selector: { matchLabels: { app: 'web' } } });
    const queue = await testQueue(scope, { maxReceiveCount: 2 });
    const op = await startOperator(scope, {
      kubeconfig: await operatorKubeconfig(scope),
      queueUrl: queue.queueUrl,
    });
    await waitReason(ns, 'm', 'WatchingSecret');
    const { sqs } = await awsClients();
    const v2 = await rotate(name, secret.arn, { sendEvent: false });
    const valid = JSON.stringify({
      source: 'aws.secretsmanager',
      'detail-type': 'AWS API Call via CloudTrail',
      detail: putSecretValueEvent(name, secret.arn, v2),
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: '{"this is": not json' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: valid }));
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: loadFixture('tag-resource.json') }),
    );
    await waitFor(
      'valid message applied',
      async () => (await templateState('Deployment', ns, 'web')).stamp === `${name}@${v2}`,
    );
    const dead = await waitFor('malformed message in the DLQ', async () => {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl, WaitTimeSeconds: 1 }));
      return out.Messages?.[0];
    });
    assert.equal(dead.Body, '{"this is": not json');
    await drained(queue.queueUrl);
    assert.equal(op.process.exitCode, null, 'operator still running');
    assert.match(await op.metrics(), /secrets_rotation_messages_malformed_total [1-9]/);
  },
);

e2eTest('without a redrive policy a malformed message is deleted and logged with its id', async (scope) => {
  await installCrd();
  const queue = await testQueue(scope, { redrive: false });
  const op = await startOperator(scope, {
    kubeconfig: await operatorKubeconfig(scope),
    queueUrl: queue.queueUrl,
  });
  const { sqs } = await awsClients();
  const sent = await sqs.send(
    new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: 'garbage body' }),
  );
  await drained(queue.queueUrl);
  const log = await waitFor('warn log', () =>
    Promise.resolve(
      fs
        .readFileSync(op.log, 'utf8')
        .split('\n')
        .find((l) => l.includes('malformed message deleted')),
    ),
  );
  assert.ok(log.includes(sent.MessageId ?? '?') && log.includes('garbage body'), log);
});

e2eTest(
  'a change whose event was lost is applied: at start after downtime, and by the periodic resync',
  async (scope) => {
    const { name, secret, queue, kubeconfig, operator, restarts } = await scenario(scope, {
      env: { RESYNC_INTERVAL: '2s' },
    });
    const { sqs } = await awsClients();
    // Operator down while the secret changes; the event is purged.
    await operator.kill('SIGTERM');
    const v2 = await rotate(name, secret.arn);
    await sqs.send(new PurgeQueueCommand({ QueueUrl: queue.queueUrl }));
    await startOperator(scope, { kubeconfig, queueUrl: queue.queueUrl, env: { RESYNC_INTERVAL: '2s' } });
    await waitFor(
      'applied after start',
      async () => (await templateState('Deployment', scope.namespace, 'web')).stamp === `${name}@${v2}`,
    );
    // Operator running, no event at all: the resync finds it.
    const v3 = await rotate(name, secret.arn, { sendEvent: false });
    await waitFor(
      'applied by the resync',
      async () => (await templateState('Deployment', scope.namespace, 'web')).stamp === `${name}@${v3}`,
      15_000,
    );
    assert.equal(await restarts(), 2);
  },
);

e2eTest(
  'a mapping recreated after a rotation it missed restarts the workload still running the old version',
  async (scope) => {
    const s = await scenario(scope, { env: { RESYNC_INTERVAL: '0s' } });
    const v2 = await rotate(s.name, s.secret.arn);
    await waitFor('restart for v2', async () => (await s.stamp()) === `${s.name}@${v2}`);
    await kc(['-n', scope.namespace, 'delete', 'srm', 'm', '--timeout=30s']);
    // The rotation happens while no mapping exists (a GitOps replace, a backup restore in progress).
    const v3 = await rotate(s.name, s.secret.arn, { sendEvent: false });
    await applyMapping(scope.namespace, 'm', { secretId: s.name, selector: { matchLabels: { app: 'web' } } });
    await waitFor(
      'restart for v3: the stamp, not the new mapping, says what the workload runs',
      async () => (await s.stamp()) === `${s.name}@${v3}`,
    );
    assert.equal(await s.restarts(), 2);
  },
);
