import {
  CreateSecretCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import { localAws } from '../env/aws-setup.js';
import { awsClients, waitFor } from './clients.js';

export async function createSecret(
  name: string,
  value = 'initial',
): Promise<{ arn: string; versionId: string }> {
  const { sm } = await awsClients();
  const out = await sm.send(new CreateSecretCommand({ Name: name, SecretString: value }));
  return { arn: out.ARN ?? '', versionId: out.VersionId ?? '' };
}

/** The CloudTrail-via-EventBridge event AWS emits for a PutSecretValue. */
export function putSecretValueEvent(
  secretId: string,
  arn: string,
  versionId: string,
  stages?: string[],
): object {
  return {
    eventVersion: '1.08',
    eventSource: 'secretsmanager.amazonaws.com',
    eventName: 'PutSecretValue',
    awsRegion: localAws.region,
    requestParameters: {
      secretId,
      clientRequestToken: versionId,
      ...(stages ? { versionStages: stages } : {}),
    },
    responseElements: { arn, versionId, versionStages: stages ?? ['AWSCURRENT'] },
    eventType: 'AwsApiCall',
  };
}

/** Puts an event on the default bus, as Secrets Manager/CloudTrail would. */
export async function putEvent(detailType: string, detail: object, resources: string[] = []): Promise<void> {
  const { events } = await awsClients();
  const out = await events.send(
    new PutEventsCommand({
      Entries: [
        {
          Source: 'aws.secretsmanager',
          DetailType: detailType,
          Detail: JSON.stringify(detail),
          Resources: resources,
        },
      ],
    }),
  );
  if (out.FailedEntryCount) throw new Error(`PutEvents failed: ${JSON.stringify(out.Entries)}`);
}

/** Rotates a secret the way AWS would be seen: PutSecretValue, then the event EventBridge would deliver. */
export async function rotate(
  secretId: string,
  arn: string,
  opts: { sendEvent?: boolean; value?: string } = {},
): Promise<string> {
  const { sm } = await awsClients();
  const out = await sm.send(
    new PutSecretValueCommand({
      SecretId: secretId,
      SecretString: opts.value ?? `value-${randomBytes(4).toString('hex')}`,
    }),
  );
  const versionId = out.VersionId ?? '';
  if (opts.sendEvent ?? true)
    await putEvent('AWS API Call via CloudTrail', putSecretValueEvent(secretId, arn, versionId));
  return versionId;
}

export async function moveCurrent(secretId: string, to: string, from: string): Promise<void> {
  const { sm } = await awsClients();
  await sm.send(
    new UpdateSecretVersionStageCommand({
      SecretId: secretId,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: to,
      RemoveFromVersionId: from,
    }),
  );
}

/** Waits until the queue holds no message, visible or in flight. */
export async function drained(url: string): Promise<void> {
  await waitFor('queue drained', async () => {
    const c = await queueCounts(url);
    return c.visible + c.inflight === 0;
  });
}

export async function queueCounts(url: string): Promise<{ visible: number; inflight: number }> {
  const { sqs } = await awsClients();
  const a = (
    await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    )
  ).Attributes;
  return {
    visible: Number(a?.ApproximateNumberOfMessages ?? 0),
    inflight: Number(a?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}
