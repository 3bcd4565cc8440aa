import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { loadFixture } from '../operator/aws/fixtures/index.js';
import { awsClientConfig } from './env/aws-setup.js';
import { STACK_NAME } from './env/aws-stack.js';
import type { EnvState } from './env/env.js';
import { envFile as envFilePath, repoRoot } from './env/paths.js';
import { isAlive } from './env/processes.js';
import { awsClients, e2eTest, environment, kc, putEvent, testQueue, waitFor } from './harness.js';

const run = promisify(execFile);

test('the environment is ready: API server, two kwok Nodes (and the real node), moto, the shared queue and its rules', async () => {
  const s = await environment();
  assert.equal((await kc(['get', '--raw', '/readyz'])).trim(), 'ok');
  assert.match(await kc(['version']), /Server Version: v1\.34\.\d+/, 'real version strings, not v0.0.0');
  const nodes = await kc([
    'get',
    'nodes',
    '-l',
    'type=kwok',
    '-o',
    'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}',
  ]);
  assert.deepEqual(nodes.trim().split(' '), ['True', 'True']);
  if (!s.noRealNode) {
    const real = JSON.parse(await kc(['get', 'node', 'real-node', '-o', 'json'])) as {
      spec: { taints?: { key: string; effect: string }[] };
      status: { nodeInfo: { containerRuntimeVersion: string; kubeletVersion: string } };
    };
    assert.match(real.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\//);
    assert.match(real.status.nodeInfo.kubeletVersion, /^v1\.34\./);
    assert.deepEqual(real.spec.taints, [{ key: 'secretsrotation.io/real-node', effect: 'NoSchedule' }]);
  }
  await assert.rejects(
    kc(['auth', 'can-i', 'list', 'secrets', '--as=system:serviceaccount:default:default']),
    (err: { stdout?: string }) => {
      assert.equal(err.stdout?.trim(), 'no', 'RBAC is on: a ServiceAccount may not list Secrets');
      return true;
    },
  );
  const envFile = fs.readFileSync(envFilePath, 'utf8');
  for (const v of [
    'KUBECONFIG',
    'PATH',
    'AWS_ENDPOINT_URL',
    'AWS_REGION',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'SQS_QUEUE_URL',
    'SQS_DLQ_URL',
    'LEADER_ELECTION_NAMESPACE',
  ]) {
    assert.match(envFile, new RegExp(`^export ${v}=`, 'm'));
  }
  const { sqs } = await awsClients();
  await sqs.send(new ReceiveMessageCommand({ QueueUrl: s.queueUrl, WaitTimeSeconds: 0 }));
});

test('the AWS side comes from the template: a CloudFormation stack whose QueueUrl is SQS_QUEUE_URL, its role and rules', async () => {
  const s = await environment();
  const cfg = awsClientConfig(s.awsEndpoint);
  const stack = (
    await new CloudFormationClient(cfg).send(new DescribeStacksCommand({ StackName: STACK_NAME }))
  ).Stacks?.[0];
  assert.equal(stack?.StackStatus, 'CREATE_COMPLETE');
  const out = (k: string): string => stack?.Outputs?.find((o) => o.OutputKey === k)?.OutputValue ?? '';
  assert.equal(
    new URL(out('QueueUrl')).pathname,
    new URL(s.queueUrl).pathname,
    'the environment queue is the stack queue',
  );
  assert.equal(new URL(out('DeadLetterQueueUrl')).pathname, new URL(s.dlqUrl).pathname);
  assert.match(out('RoleArn'), /^arn:aws:iam::\d{12}:role\/secrets-rotation-operator-OperatorRole-/);
  assert.equal(s.roleArn, out('RoleArn'));
  // What the endpoint's CloudFormation did not create was made through its own API, as the template says.
  const { sqs } = await awsClients();
  const policy = (
    await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: s.queueUrl, AttributeNames: ['Policy', 'RedrivePolicy'] }),
    )
  ).Attributes;
  assert.match(policy?.Policy ?? '', /EventBridgeRulesOnly/);
  assert.match(policy?.RedrivePolicy ?? '', /"maxReceiveCount": ?"?3\b/);
  console.log(`created aside: ${(s.createdAside ?? []).join('; ')}`);
  // The stack's rules route a Secrets Manager event to the stack's queue.
  const fixture = JSON.parse(loadFixture('put-secret-value.json')) as { detail: { requestID?: string } };
  const marker = `stack-${Date.now()}`;
  await putEvent('AWS API Call via CloudTrail', { ...fixture.detail, requestID: marker });
  await waitFor('the event in the stack queue', async () => {
    const got = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: s.queueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }),
    );
    const mine = (got.Messages ?? []).find((m) => m.Body?.includes(marker));
    if (mine)
      await sqs.send(new DeleteMessageCommand({ QueueUrl: s.queueUrl, ReceiptHandle: mine.ReceiptHandle }));
    return mine;
  });
});

e2eTest(
  'kwok runs the pods: a 3-replica Deployment becomes available and a rollout restart completes',
  async (scope) => {
    const ns = scope.namespace;
    await kc(['-n', ns, 'create', 'deployment', 'web', '--image=nginx', '--replicas=3']);
    await kc(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=30s']);
    const running = await kc([
      '-n',
      ns,
      'get',
      'pods',
      '-o',
      'jsonpath={range .items[*]}{.status.phase}{" "}{end}',
    ]);
    assert.deepEqual(running.trim().split(' '), ['Running', 'Running', 'Running']);
    await kc(['-n', ns, 'rollout', 'restart', 'deployment/web']);
    await kc(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s']);
    await waitFor(
      'old pods gone',
      async () => (await kc(['-n', ns, 'get', 'pods', '-o', 'name'])).trim().split('\n').length === 3,
    );
  },
);

e2eTest(
  'a Secrets Manager event put on EventBridge arrives in the queue; a message received too often goes to the DLQ',
  async (scope) => {
    const q = await testQueue(scope, { withRules: true, maxReceiveCount: 2 });
    const { sqs } = await awsClients();
    const fixture = JSON.parse(loadFixture('put-secret-value.json')) as { detail: object };
    await putEvent('AWS API Call via CloudTrail', fixture.detail);
    const got = await waitFor(
      'event in the queue',
      async () =>
        (await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.queueUrl, WaitTimeSeconds: 1 })))
          .Messages?.[0],
    );
    assert.equal((JSON.parse(got.Body ?? '{}') as { source?: string }).source, 'aws.secretsmanager');
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: q.queueUrl,
        ReceiptHandle: got.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: q.queueUrl, MessageBody: 'x' }));
    // Receive (and never delete) until the redrive moves them.
    await waitFor('messages in the DLQ', async () => {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: q.queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 0,
          WaitTimeSeconds: 0,
        }),
      );
      const dlq = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: q.dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
      );
      return (out.Messages ?? []).length === 0 && (dlq.Messages ?? []).length === 2;
    });
  },
);

e2eTest('each test gets its own namespace and queue', async (scope) => {
  const other = { ...scope, namespace: `${scope.namespace}-b`, cleanups: scope.cleanups };
  const [a, b] = [await testQueue(scope), await testQueue(other)];
  assert.notEqual(a.queueUrl, b.queueUrl);
  const { sqs } = await awsClients();
  await sqs.send(new SendMessageCommand({ QueueUrl: a.queueUrl, MessageBody: 'only-a' }));
  const inB = await sqs.send(new ReceiveMessageCommand({ QueueUrl: b.queueUrl, WaitTimeSeconds: 1 }));
  assert.equal(inB.Messages, undefined);
  assert.match(await kc(['get', 'namespace', scope.namespace, '-o', 'name']), new RegExp(scope.namespace));
});

test(
  'env:up and env:down in a separate folder: no stray processes, reuse when up, up again after down',
  { timeout: 180_000 },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sro-env-'));
    const cli = (cmd: string): Promise<{ stderr: string }> =>
      run(process.execPath, [path.join(repoRoot, 'dist', 'e2e', 'env', 'cli.js'), cmd], {
        // One real node per machine (its bridge and ports): the second environment runs without one.
        env: { ...process.env, SRO_E2E_DIR: dir, ENV_REAL_NODE: '0' },
      });
    const state = (): EnvState =>
      JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')) as EnvState;
    try {
      await cli('up');
      const first = state();
      assert.deepEqual(first.processes.map((p) => p.name).sort(), [
        'etcd',
        'external-secrets',
        'kube-apiserver',
        'kube-controller-manager',
        'kube-scheduler',
        'kwok',
        'moto',
      ]);
      assert.ok(first.processes.every((p) => isAlive(p.pid)));
      const again = await cli('up');
      assert.match(again.stderr, /already up/);
      assert.deepEqual(
        state().processes.map((p) => p.pid),
        first.processes.map((p) => p.pid),
        'reused, not a second control plane',
      );
      await cli('down');
      assert.ok(
        first.processes.every((p) => !isAlive(p.pid)),
        'every process stopped',
      );
      assert.equal(fs.existsSync(path.join(dir, 'env')), false);
      await cli('up');
      assert.ok(
        state().processes.every((p) => isAlive(p.pid)),
        'up after down works',
      );
    } finally {
      await cli('down').catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
