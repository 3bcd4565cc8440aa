import { DeleteSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import assert from 'node:assert/strict';
import {
  awsClients,
  createSecret,
  drained,
  e2eTest,
  moveCurrent,
  putEvent,
  putSecretValueEvent,
  rotate,
  waitFor,
} from './harness.js';
import { getMapping } from './mapping-helpers.js';
import { scenario } from './scenario.js';

/**
 * A secret deleted and created again under its name (issue 29, defect 7): a new ARN (another random
 * suffix), new versions. The mapping names it by name and resolved the old ARN; the operator runs
 * with no resync, so only the event can move it. Each form below is the first event after the
 * recreation and carries the new ARN only (or the name): the workload must restart for the version
 * the event made current, once.
 */
type Form = (name: string, secret: { arn: string; versionId: string }, queueUrl: string) => Promise<string>;

const ctEvent = (detail: object): Promise<void> =>
  putEvent('AWS API Call via CloudTrail', { eventSource: 'secretsmanager.amazonaws.com', ...detail });

const forms: [string, Form][] = [
  [
    'the native Secret Label Updated event',
    async (name, s) => {
      const v = await rotate(name, s.arn, { sendEvent: false });
      await putEvent('Secret Label Updated', { labelUpdated: 'AWSCURRENT', versionId: v }, [s.arn]);
      return v;
    },
  ],
  [
    'CloudTrail UpdateSecretVersionStage',
    async (name, s) => {
      const { sm } = await awsClients();
      const pending = await sm.send(
        new PutSecretValueCommand({ SecretId: name, SecretString: 'next', VersionStages: ['AWSPENDING'] }),
      );
      const v = pending.VersionId ?? '';
      await moveCurrent(name, v, s.versionId);
      await ctEvent({
        eventName: 'UpdateSecretVersionStage',
        requestParameters: {
          secretId: s.arn,
          versionStage: 'AWSCURRENT',
          moveToVersionId: v,
          removeFromVersionId: s.versionId,
        },
        responseElements: { arn: s.arn },
      });
      return v;
    },
  ],
  [
    'CloudTrail RotationSucceeded',
    async (name, s) => {
      const v = await rotate(name, s.arn, { sendEvent: false });
      await putEvent('AWS Service Event via CloudTrail', {
        eventSource: 'secretsmanager.amazonaws.com',
        eventName: 'RotationSucceeded',
        additionalEventData: { SecretId: s.arn },
      });
      return v;
    },
  ],
  [
    'CloudTrail PutSecretValue naming the secret by name',
    async (name, s) => {
      const v = await rotate(name, s.arn, { sendEvent: false });
      await ctEvent(putSecretValueEvent(name, s.arn, v));
      return v;
    },
  ],
  [
    'CloudTrail CreateSecret (the recreation itself: the new value is current)',
    async (name, s, queueUrl) => {
      // Sent to the queue as EventBridge would deliver it: the template's rules do not route it yet.
      const { sqs } = await awsClients();
      const detail = {
        eventSource: 'secretsmanager.amazonaws.com',
        eventName: 'CreateSecret',
        requestParameters: { name },
        responseElements: { arn: s.arn, name, versionId: s.versionId },
      };
      const body = { source: 'aws.secretsmanager', 'detail-type': 'AWS API Call via CloudTrail', detail };
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
      return s.versionId;
    },
  ],
];

for (const [what, form] of forms) {
  e2eTest(`a secret deleted and created again under its name: ${what} restarts once`, async (scope) => {
    const sc = await scenario(scope, { env: { RESYNC_INTERVAL: '0s' } });
    const old = (await getMapping(scope.namespace, 'm')).status?.secretArn;
    assert.equal(old, sc.secret.arn, 'the mapping resolved the first secret');
    const { sm } = await awsClients();
    await sm.send(new DeleteSecretCommand({ SecretId: sc.name, ForceDeleteWithoutRecovery: true }));
    const again = await createSecret(sc.name, 'recreated');
    assert.notEqual(again.arn, sc.secret.arn, 'a new ARN');
    const v = await form(sc.name, again, sc.queue.queueUrl);
    await waitFor(
      `restart for ${v} of the recreated secret`,
      async () => (await sc.stamp()) === `${sc.name}@${v}`,
      20_000,
    );
    await drained(sc.queue.queueUrl);
    assert.equal(await sc.restarts(), 1, 'one restart');
    assert.equal((await getMapping(scope.namespace, 'm')).status?.secretArn, again.arn);

    // The next rotation, by the new ARN, restarts once more.
    const v2 = await rotate(sc.name, again.arn, { sendEvent: false });
    await putEvent('Secret Label Updated', { labelUpdated: 'AWSCURRENT', versionId: v2 }, [again.arn]);
    await waitFor('restart for the next version', async () => (await sc.stamp()) === `${sc.name}@${v2}`);
    await drained(sc.queue.queueUrl);
    assert.equal(await sc.restarts(), 2);
  });
}
