import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import { GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parseMessage } from '../operator/aws/event-parser.js';
import { fixtureNames, loadFixture } from '../operator/aws/fixtures/index.js';
import { awsClientConfig, localAws } from './env/aws-setup.js';
import { loadTemplate, templatePath } from './env/aws-template.js';
import { awsClients, e2eTest, environment, putEvent, testQueue, uniqueName, waitFor } from './harness.js';

test('the CloudFormation template passes cfn-lint with no errors', async () => {
  const s = await environment();
  const cfnLint = path.join(s.cacheDir, 'venv', 'bin', 'cfn-lint');
  const out = await promisify(execFile)(cfnLint, ['--format', 'parseable', templatePath]).catch(
    (err: { stdout?: string; code?: number }) => err,
  );
  assert.equal((out as { code?: number }).code ?? 0, 0, out.stdout);
});

test('least privilege in the template: no GetSecretValue, queue policy conditioned on the rules, SSE and a DLQ', () => {
  const t = loadTemplate();
  const text = JSON.stringify(t);
  assert.doesNotMatch(text, /GetSecretValue/);
  assert.match(text, /"secretsmanager:DescribeSecret"/);
  assert.match(JSON.stringify(t.Resources.RotationQueuePolicy), /aws:SourceArn/);
  assert.equal(t.Resources.RotationQueue.Properties.SqsManagedSseEnabled, true);
  assert.ok(t.Resources.RotationQueue.Properties.RedrivePolicy);
  assert.doesNotMatch(JSON.stringify(t.Resources.OperatorRole), /"Resource":"\*"/);
});

test('the template guards the queues: TLS only, an alarm on the dead-letter queue, a trust policy bound to the cluster', () => {
  const t = loadTemplate();
  for (const [policy, queue] of [
    ['RotationQueuePolicy', 'RotationQueue'],
    ['DeadLetterQueuePolicy', 'DeadLetterQueue'],
  ]) {
    const statements = (
      t.Resources[policy].Properties.PolicyDocument as {
        Statement: { Effect: string; Resource: unknown; Condition?: unknown }[];
      }
    ).Statement;
    const deny = statements.find((st) => st.Effect === 'Deny');
    assert.deepEqual(deny?.Condition, { Bool: { 'aws:SecureTransport': 'false' } }, policy);
    assert.deepEqual(deny?.Resource, { 'Fn::GetAtt': `${queue}.Arn` }, policy);
  }
  const alarm = t.Resources.DeadLetterQueueAlarm.Properties;
  assert.equal(alarm.MetricName, 'ApproximateNumberOfMessagesVisible');
  assert.deepEqual(alarm.Dimensions, [
    { Name: 'QueueName', Value: { 'Fn::GetAtt': 'DeadLetterQueue.QueueName' } },
  ]);
  assert.equal(alarm.ComparisonOperator, 'GreaterThanThreshold');
  assert.equal(alarm.Threshold, 0);
  assert.match(
    JSON.stringify(t.Resources.OperatorRole.Properties.AssumeRolePolicyDocument),
    /"aws:RequestTag\/eks-cluster-name":\{"Ref":"ClusterName"\}/,
  );
});

e2eTest(
  'every event the operator acts on matches the template’s EventBridge rules (delivered by moto)',
  async (scope) => {
    const q = await testQueue(scope, { withRules: true });
    const acted = fixtureNames().filter(
      (f) => !f.startsWith('sns-') && parseMessage(loadFixture(f)).kind === 'candidate',
    );
    assert.ok(acted.length >= 6, `fixtures the operator acts on: ${acted.join(', ')}`);
    for (const name of acted) {
      const event = JSON.parse(loadFixture(name)) as {
        'detail-type': string;
        detail: Record<string, unknown>;
        resources?: string[];
      };
      await putEvent(event['detail-type'], { ...event.detail, fixture: name }, event.resources ?? []);
    }
    const { sqs } = await awsClients();
    const seen = new Set<string>();
    await waitFor('every acted-on fixture delivered', async () => {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: q.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const m of out.Messages ?? [])
        seen.add(String((JSON.parse(m.Body ?? '{}') as { detail?: { fixture?: string } }).detail?.fixture));
      return acted.every((f) => seen.has(f));
    });
  },
);

test('the template narrows its defaults: SecretArnPattern is its own account and region, undelivered events are dead-lettered', () => {
  const t = loadTemplate() as ReturnType<typeof loadTemplate> & {
    Parameters: Record<string, { Default?: unknown }>;
  };
  // Empty means "every secret of the stack's account and region", not every secret anywhere.
  assert.equal(t.Parameters.SecretArnPattern.Default, '');
  const statements = (
    t.Resources.OperatorRole.Properties.Policies as {
      PolicyDocument: { Statement: { Sid: string; Resource: unknown }[] };
    }[]
  )[0].PolicyDocument.Statement;
  assert.deepEqual(statements.find((st) => st.Sid === 'DescribeSecretsOnly')?.Resource, {
    'Fn::If': [
      'HasSecretArnPattern',
      { Ref: 'SecretArnPattern' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:*' },
    ],
  });
  // The only write, opt-in: without RevertSecretArnPattern the role has no write permission at all.
  assert.equal(t.Parameters.RevertSecretArnPattern.Default, '');
  assert.doesNotMatch(
    JSON.stringify(statements),
    /UpdateSecretVersionStage|PutSecretValue|secretsmanager:\*/,
  );
  const revert = t.Resources.RevertPolicy as unknown as {
    Condition: string;
    Properties: Record<string, unknown>;
  };
  assert.equal(revert.Condition, 'HasRevertSecretArnPattern');
  assert.deepEqual(revert.Properties.RoleName, { Ref: 'OperatorRole' });
  assert.deepEqual(revert.Properties.PolicyDocument, {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'RevertCurrentVersion',
        Effect: 'Allow',
        Action: 'secretsmanager:UpdateSecretVersionStage',
        Resource: { Ref: 'RevertSecretArnPattern' },
      },
    ],
  });
  const rules = Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::Events::Rule');
  assert.equal(rules.length, 2);
  for (const [id, rule] of rules) {
    for (const target of rule.Properties.Targets as Record<string, unknown>[]) {
      assert.deepEqual(target.DeadLetterConfig, { Arn: { 'Fn::GetAtt': 'DeadLetterQueue.Arn' } }, id);
      assert.deepEqual(
        target.RetryPolicy,
        { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
        id,
      );
    }
  }
  // EventBridge may put what it could not deliver into the dead-letter queue, from these rules only.
  const dlq = t.Resources.DeadLetterQueuePolicy.Properties.PolicyDocument as {
    Statement: { Effect: string; Principal: unknown; Action: unknown; Condition?: unknown }[];
  };
  assert.deepEqual(
    dlq.Statement.find((st) => st.Effect === 'Allow'),
    {
      Sid: 'EventBridgeRulesDeadLetters',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: { 'Fn::GetAtt': 'DeadLetterQueue.Arn' },
      Condition: {
        ArnEquals: {
          'aws:SourceArn': rules.map(([id]) => ({ 'Fn::GetAtt': `${id}.Arn` })),
        },
      },
    },
  );
});

e2eTest(
  "moto's CloudFormation takes the template with its defaults: the role's DescribeSecret is this account and region, the rules' targets dead-letter",
  async (scope) => {
    const s = await environment();
    const cfg = awsClientConfig(s.awsEndpoint);
    const cf = new CloudFormationClient(cfg);
    const StackName = uniqueName('sro-defaults');
    scope.cleanups.push(() => cf.send(new DeleteStackCommand({ StackName })));
    await cf.send(
      new CreateStackCommand({
        StackName,
        TemplateBody: fs.readFileSync(templatePath, 'utf8'),
        Capabilities: ['CAPABILITY_IAM'],
        Parameters: [{ ParameterKey: 'ClusterName', ParameterValue: scope.namespace }],
      }),
    );
    const stack = await waitFor('the stack created', async () => {
      const st = (await cf.send(new DescribeStacksCommand({ StackName }))).Stacks?.[0];
      return st?.StackStatus?.endsWith('_IN_PROGRESS') ? undefined : st;
    });
    assert.equal(stack.StackStatus, 'CREATE_COMPLETE', stack.StackStatusReason);
    const resources =
      (await cf.send(new ListStackResourcesCommand({ StackName }))).StackResourceSummaries ?? [];
    const physical = (id: string): string =>
      resources.find((r) => r.LogicalResourceId === id)?.PhysicalResourceId ?? '';
    // Outputs in AWS's form: the role's name, and the queue's URL on the local endpoint.
    const output = (key: string): string =>
      stack.Outputs?.find((o) => o.OutputKey === key)?.OutputValue ?? '';

    const iam = new IAMClient(cfg);
    const policy = await iam.send(
      new GetRolePolicyCommand({
        RoleName: output('RoleArn').split('/').pop(),
        PolicyName: 'secrets-rotation-operator',
      }),
    );
    // moto 5.2.5 answers a CloudFormation-made role's inline policy as Python's repr of its dict
    // (single quotes; no quote inside this policy's strings), AWS as URL-encoded JSON.
    const text = decodeURIComponent(policy.PolicyDocument ?? '{}').replace(/'/g, '"');
    const doc = JSON.parse(text) as {
      Statement: { Sid: string; Resource: unknown }[];
    };
    assert.equal(
      doc.Statement.find((st) => st.Sid === 'DescribeSecretsOnly')?.Resource,
      `arn:aws:secretsmanager:${localAws.region}:${localAws.accountId}:secret:*`,
    );

    const { sqs, events } = await awsClients();
    const dlqArn = (
      await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: `${s.awsEndpoint.replace(/\/$/, '')}${new URL(output('DeadLetterQueueUrl')).pathname}`,
          AttributeNames: ['QueueArn'],
        }),
      )
    ).Attributes?.QueueArn;
    for (const rule of ['SecretLabelUpdatedRule', 'SecretValueChangedRule']) {
      const targets =
        (await events.send(new ListTargetsByRuleCommand({ Rule: physical(rule) }))).Targets ?? [];
      assert.equal(targets.length, 1, rule);
      assert.equal(targets[0].DeadLetterConfig?.Arn, dlqArn, rule);
      assert.deepEqual(
        targets[0].RetryPolicy,
        { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
        rule,
      );
    }
  },
);
