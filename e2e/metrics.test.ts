import { SendMessageCommand } from '@aws-sdk/client-sqs';
import assert from 'node:assert/strict';
import http from 'node:http';
import { loadFixture } from '../operator/aws/fixtures/index.js';
import {
  awsClients,
  createSecret,
  e2eTest,
  installCrd,
  kc,
  operatorKubeconfig,
  putSecretValueEvent,
  drained,
  rotate,
  startOperator,
  testQueue,
  uniqueName,
  waitFor,
} from './harness.js';
import { applyMapping, waitReason } from './mapping-helpers.js';
import { createWorkload } from './workloads-fixtures.js';

const readyz = (port: number): Promise<{ status: number; body: string }> =>
  new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path: '/readyz' }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', () => resolve({ status: 0, body: '' }));
  });

/** The value of one sample line, e.g. metric('secrets_rotation_restarts_total{kind="Deployment",result="success"}'). */
const value = (text: string, sample: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : Number.NaN;
};

e2eTest(
  '/readyz is not ready before the watch is established; /metrics families have the right values after a scenario',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const name = uniqueName('metrics');
    const secret = await createSecret(name);
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'a' }, { app: 'm' });
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'b' }, { app: 'm' });
    await applyMapping(ns, 'm', { secretId: name, selector: { matchLabels: { app: 'm' } } });
    const queue = await testQueue(scope, { redrive: false });
    const kubeconfig = await operatorKubeconfig(scope);
    // Without its ClusterRoleBinding the operator cannot list mappings: its watch is not established.
    await kc(['delete', 'clusterrolebinding', `sro-${ns}`.slice(0, 63)]);
    const op = await startOperator(scope, { kubeconfig, queueUrl: queue.queueUrl, waitReady: false });
    const before = await waitFor('health server up', async () => {
      const r = await readyz(op.metricsPort);
      return r.status ? r : undefined;
    });
    assert.equal(before.status, 503);
    assert.match(before.body, /watch synced: false/);
    await kc([
      'create',
      'clusterrolebinding',
      `sro-${ns}`.slice(0, 63),
      '--clusterrole=secrets-rotation-operator',
      `--serviceaccount=${ns}:secrets-rotation-operator`,
    ]);
    await waitFor(
      'ready once the watch is established',
      async () => (await readyz(op.metricsPort)).status === 200,
      60_000,
    );
    await waitReason(ns, 'm', 'WatchingSecret');

    const { sqs } = await awsClients();
    const v2 = await rotate(name, secret.arn, { sendEvent: false });
    const send = (body: string): Promise<unknown> =>
      sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: body }));
    await send(
      JSON.stringify({
        source: 'aws.secretsmanager',
        'detail-type': 'AWS API Call via CloudTrail',
        detail: putSecretValueEvent(name, secret.arn, v2),
      }),
    );
    await send(loadFixture('tag-resource.json'));
    await send('not json at all');
    await drained(queue.queueUrl);
    const text = await waitFor('restarts counted', async () => {
      const t = await op.metrics();
      return value(t, 'secrets_rotation_restarts_total{kind="Deployment",result="success"}') === 2
        ? t
        : undefined;
    });
    const expected: Record<string, number> = {
      secrets_rotation_messages_received_total: 3,
      secrets_rotation_messages_acknowledged_total: 3,
      secrets_rotation_messages_malformed_total: 1,
      secrets_rotation_messages_dead_lettered_total: 0,
      'secrets_rotation_signals_total{event="PutSecretValue",outcome="candidate"}': 1,
      'secrets_rotation_signals_total{event="TagResource",outcome="ignored"}': 1,
      'secrets_rotation_restarts_total{kind="Deployment",result="success"}': 2,
      secrets_rotation_reconcile_errors_total: 0,
      secrets_rotation_leader: 1,
      secrets_rotation_queue_depth: 0,
      secrets_rotation_event_to_restart_seconds_count: 1,
    };
    for (const [sample, v] of Object.entries(expected)) assert.equal(value(text, sample), v, sample);
    const passes = ['success', 'requeue'].map(
      (r) => value(text, `secrets_rotation_reconcile_duration_seconds_count{result="${r}"}`) || 0,
    );
    assert.ok(passes[0] + passes[1] >= 2, `reconcile passes recorded: ${passes.join(', ')}`);
    assert.ok(
      value(text, 'secrets_rotation_aws_calls_total{operation="DescribeSecret",result="success"}') >= 1,
    );
    assert.ok(
      value(text, 'secrets_rotation_aws_calls_total{operation="ReceiveMessage",result="success"}') >= 1,
    );
    assert.ok(value(text, 'secrets_rotation_process_resident_memory_bytes') > 0);
  },
);
