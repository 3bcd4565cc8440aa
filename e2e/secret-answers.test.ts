import { DescribeSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import assert from 'node:assert/strict';
import { awsClients, drained, e2eTest, moveCurrent, putSecretValueEvent, waitFor } from './harness.js';
import { scenario } from './scenario.js';

/** The CloudTrail PutSecretValue event as EventBridge delivers it, with the `time` given. */
const eventAt = (name: string, arn: string, version: string, at: Date): string =>
  JSON.stringify({
    source: 'aws.secretsmanager',
    'detail-type': 'AWS API Call via CloudTrail',
    time: `${at.toISOString().slice(0, 19)}Z`,
    detail: putSecretValueEvent(name, arn, version),
  });

e2eTest(
  'an event stamped before a cached answer (clock skew) still restarts: the answer contradicting it is re-fetched',
  async (scope) => {
    // A long cache TTL and no resync: only the event can bring the new version.
    const s = await scenario(scope, { env: { SECRET_CACHE_TTL: '10m', RESYNC_INTERVAL: '0s' } });
    const { sm, sqs } = await awsClients();
    const v2 =
      (await sm.send(new PutSecretValueCommand({ SecretId: s.name, SecretString: 'v2' }))).VersionId ?? '';
    // AWS's clock ran 30 s behind ours: the event's time lies before the answer the mapping's pass cached.
    const skewed = new Date(Date.now() - 30_000);
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: s.queue.queueUrl,
        MessageBody: eventAt(s.name, s.secret.arn, v2, skewed),
      }),
    );
    await waitFor(
      'restart for the version the event names',
      async () => (await s.stamp()) === `${s.name}@${v2}`,
    );
    await drained(s.queue.queueUrl);
    assert.equal(await s.restarts(), 1);
  },
);

e2eTest(
  'AWSCURRENT reported on two versions (the local endpoint does it): the version the event names restarts',
  async (scope) => {
    const s = await scenario(scope, { env: { RESYNC_INTERVAL: '0s' } });
    const { sm, sqs } = await awsClients();
    const send = (version: string): Promise<unknown> =>
      sqs.send(
        new SendMessageCommand({
          QueueUrl: s.queue.queueUrl,
          MessageBody: eventAt(s.name, s.secret.arn, version, new Date()),
        }),
      );
    const pending = await sm.send(
      new PutSecretValueCommand({ SecretId: s.name, SecretString: 'v2', VersionStages: ['AWSPENDING'] }),
    );
    const v2 = pending.VersionId ?? '';
    await moveCurrent(s.name, v2, s.secret.versionId);
    await send(v2);
    await waitFor('restart for v2', async () => (await s.stamp()) === `${s.name}@${v2}`);
    // After UpdateSecretVersionStage, moto leaves AWSCURRENT on v2 *and* the next PutSecretValue's v3.
    const v3 =
      (await sm.send(new PutSecretValueCommand({ SecretId: s.name, SecretString: 'v3' }))).VersionId ?? '';
    const stages = (await sm.send(new DescribeSecretCommand({ SecretId: s.name }))).VersionIdsToStages;
    const current = Object.entries(stages ?? {}).filter(([, l]) => l.includes('AWSCURRENT'));
    assert.equal(current.length, 2, `the quirk this test is about: ${JSON.stringify(stages)}`);
    await send(v3);
    await waitFor('restart for v3', async () => (await s.stamp()) === `${s.name}@${v3}`);
    await drained(s.queue.queueUrl);
    assert.equal(await s.restarts(), 2);
  },
);
