import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ruleEventPatterns } from './aws-template.js';

// The development machines run Node 20; the SDK's notice about its 2027 releases needing Node 22 is
// printed by every process otherwise (the operator's image runs Node 24).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * Region, account and admin key of the local AWS endpoint. IAM is enforced there (e2e/env/moto_iam.py):
 * this key belongs to its IAM user `local-admin`, allowed everything, for tests' own AWS actions, ESO
 * and CloudFormation; the operator gets a role instead (kit/aws-role.ts).
 */
export const localAws = {
  region: 'us-east-1',
  accountId: '123456789012',
  accessKeyId: 'testing',
  secretAccessKey: 'testing',
};

export function awsClientConfig(endpoint: string): {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
} {
  return {
    endpoint,
    region: localAws.region,
    credentials: { accessKeyId: localAws.accessKeyId, secretAccessKey: localAws.secretAccessKey },
  };
}

/**
 * The environment variables that point a process at the local AWS endpoint: with `credentials` (a
 * role's, kit/aws-role.ts), or else the admin key (for processes that need one, e.g. ESO's).
 */
export function localAwsEnv(endpoint: string, credentials?: Record<string, string>): Record<string, string> {
  return {
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: localAws.region,
    ...(credentials ?? {
      AWS_ACCESS_KEY_ID: localAws.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localAws.secretAccessKey,
    }),
  };
}

export interface RotationQueue {
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  ruleNames: string[];
}

/**
 * A queue with a dead-letter queue (redrive after `maxReceiveCount` receives) and, when `withRules`,
 * the template's EventBridge rules targeting it on the default bus (rule names suffixed by `name`).
 */
export async function createRotationQueue(
  endpoint: string,
  name: string,
  opts: { maxReceiveCount?: number; withRules?: boolean; visibilityTimeout?: number; redrive?: boolean } = {},
): Promise<RotationQueue> {
  const sqs = new SQSClient(awsClientConfig(endpoint));
  const arnOf = async (url: string): Promise<string> =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })))
      .Attributes?.QueueArn ?? '';
  const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl ?? '';
  const redrive = { deadLetterTargetArn: await arnOf(dlqUrl), maxReceiveCount: opts.maxReceiveCount ?? 3 };
  const queueUrl =
    (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: {
            ...(opts.redrive === false ? {} : { RedrivePolicy: JSON.stringify(redrive) }),
            VisibilityTimeout: String(opts.visibilityTimeout ?? 30),
          },
        }),
      )
    ).QueueUrl ?? '';
  const queueArn = await arnOf(queueUrl);
  const ruleNames: string[] = [];
  if (opts.withRules ?? true) {
    const events = new EventBridgeClient(awsClientConfig(endpoint));
    for (const [rule, pattern] of Object.entries(ruleEventPatterns())) {
      const ruleName = `${rule}-${name}`.slice(0, 64);
      await events.send(new PutRuleCommand({ Name: ruleName, EventPattern: JSON.stringify(pattern) }));
      await events.send(new PutTargetsCommand({ Rule: ruleName, Targets: [{ Id: 'queue', Arn: queueArn }] }));
      ruleNames.push(ruleName);
    }
  }
  sqs.destroy();
  return { queueUrl, queueArn, dlqUrl, ruleNames };
}
