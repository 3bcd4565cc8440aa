import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parseMessage } from '../operator/aws/event-parser.js';
import { fixtureNames, loadFixture } from '../operator/aws/fixtures/index.js';
import { loadTemplate, templatePath } from './env/aws-template.js';
import { awsClients, e2eTest, environment, putEvent, testQueue, waitFor } from './harness.js';

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
