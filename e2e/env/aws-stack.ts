import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, PutMetricAlarmCommand, type Dimension } from '@aws-sdk/client-cloudwatch';
import { DescribeRuleCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import fs from 'node:fs';
import { awsClientConfig } from './aws-setup.js';
import { loadTemplate, resolver, templatePath } from './aws-template.js';

export const STACK_NAME = 'secrets-rotation-operator';

/** What env:up takes from the stack: its outputs, and what the local endpoint could not create. */
export interface DeployedStack {
  queueUrl: string;
  dlqUrl: string;
  roleArn: string;
  /** Resources created through their own API, as the template says, because the endpoint's CloudFormation did not. */
  createdAside: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A queue URL as the local endpoint serves it (its CloudFormation answers with the AWS form). */
const local = (endpoint: string, url: string): string => {
  const u = new URL(url);
  return `${endpoint.replace(/\/$/, '')}${u.pathname}`;
};

/**
 * Deploys manifests/aws/template.yaml into the local AWS endpoint's CloudFormation (as the README's
 * `aws cloudformation deploy` does), waits for it, and returns its outputs. Resources the endpoint's
 * CloudFormation accepts but does not create (moto 5.2: the queue policies and the alarm; an EKS Pod
 * Identity association has no cluster to bind here) are made through their own API with the
 * template's properties.
 */
export async function deployStack(endpoint: string, params: Record<string, string>): Promise<DeployedStack> {
  const cfg = awsClientConfig(endpoint);
  const cf = new CloudFormationClient(cfg);
  await cf.send(
    new CreateStackCommand({
      StackName: STACK_NAME,
      TemplateBody: fs.readFileSync(templatePath, 'utf8'),
      Capabilities: ['CAPABILITY_IAM'],
      Parameters: Object.entries(params).map(([ParameterKey, ParameterValue]) => ({
        ParameterKey,
        ParameterValue,
      })),
    }),
  );
  const stack = await stackCreated(cf);
  const out = (key: string): string => stack?.Outputs?.find((o) => o.OutputKey === key)?.OutputValue ?? '';
  const resources =
    (await cf.send(new ListStackResourcesCommand({ StackName: STACK_NAME }))).StackResourceSummaries ?? [];
  const created = new Map(
    resources.filter((r) => r.LogicalResourceId).map((r) => [r.LogicalResourceId, r.PhysicalResourceId]),
  );
  const deployed = {
    queueUrl: local(endpoint, out('QueueUrl')),
    dlqUrl: local(endpoint, out('DeadLetterQueueUrl')),
    roleArn: out('RoleArn'),
  };
  const createdAside = await createAside(endpoint, deployed, (id) => created.get(id));
  return { ...deployed, createdAside };
}

async function stackCreated(cf: CloudFormationClient): Promise<Stack> {
  const status = async (): Promise<Stack | undefined> =>
    (await cf.send(new DescribeStacksCommand({ StackName: STACK_NAME }))).Stacks?.[0];
  let stack = await status();
  for (let i = 0; i < 120 && (stack?.StackStatus ?? '_IN_PROGRESS').endsWith('_IN_PROGRESS'); i++) {
    await sleep(250);
    stack = await status();
  }
  if (stack?.StackStatus !== 'CREATE_COMPLETE')
    throw new Error(`stack ${STACK_NAME}: ${JSON.stringify([stack?.StackStatus, stack?.StackStatusReason])}`);
  return stack;
}

/** The template's queue policies and alarm, through SQS and CloudWatch, when the stack lacks them. */
async function createAside(
  endpoint: string,
  stack: { queueUrl: string; dlqUrl: string },
  physical: (logicalId: string) => string | undefined,
): Promise<string[]> {
  const cfg = awsClientConfig(endpoint);
  const sqs = new SQSClient(cfg);
  const events = new EventBridgeClient(cfg);
  const urls: Record<string, string> = { RotationQueue: stack.queueUrl, DeadLetterQueue: stack.dlqUrl };
  const attrs = async (id: string): Promise<Record<string, string>> =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: urls[id], AttributeNames: ['QueueArn'] })))
      .Attributes ?? {};
  const resolved: Record<string, string> = {
    'RotationQueue.Arn': (await attrs('RotationQueue')).QueueArn ?? '',
    'DeadLetterQueue.Arn': (await attrs('DeadLetterQueue')).QueueArn ?? '',
    'DeadLetterQueue.QueueName': stack.dlqUrl.split('/').pop() ?? '',
  };
  const template = loadTemplate();
  for (const [id, res] of Object.entries(template.Resources)) {
    if (res.Type !== 'AWS::Events::Rule') continue;
    const name = physical(id) ?? '';
    resolved[`${id}.Arn`] = (await events.send(new DescribeRuleCommand({ Name: name }))).Arn ?? '';
  }
  const resolve = resolver(urls, resolved);
  const aside: string[] = [];
  for (const [id, res] of Object.entries(template.Resources)) {
    if (physical(id)) continue;
    aside.push(await createOne(cfg, id, res.Type, resolve(res.Properties) as Record<string, unknown>));
  }
  return aside;
}

/** One template resource through its own API; what was done, for the list in docs/development.md. */
async function createOne(
  cfg: ReturnType<typeof awsClientConfig>,
  id: string,
  type: string,
  props: Record<string, unknown>,
): Promise<string> {
  if (type === 'AWS::SQS::QueuePolicy') {
    const sqs = new SQSClient(cfg);
    for (const url of props.Queues as string[])
      await sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: url,
          Attributes: { Policy: JSON.stringify(props.PolicyDocument) },
        }),
      );
    return `${id} (${type}, SetQueueAttributes)`;
  }
  if (type === 'AWS::CloudWatch::Alarm') {
    await new CloudWatchClient(cfg).send(
      new PutMetricAlarmCommand({
        AlarmName: `${STACK_NAME}-${id}`,
        AlarmDescription: props.AlarmDescription as string,
        Namespace: props.Namespace as string,
        MetricName: props.MetricName as string,
        Dimensions: props.Dimensions as Dimension[],
        Statistic: props.Statistic as 'Maximum',
        Period: props.Period as number,
        EvaluationPeriods: props.EvaluationPeriods as number,
        Threshold: props.Threshold as number,
        ComparisonOperator: props.ComparisonOperator as 'GreaterThanThreshold',
        TreatMissingData: props.TreatMissingData as string,
      }),
    );
    return `${id} (${type}, PutMetricAlarm)`;
  }
  return `${id} (${type}: not created; no EKS cluster here)`;
}
