import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metrics } from '../runtime/metrics.js';
import { SecretNotFoundError } from '../runtime/errors.js';
import { MappingIndex } from './mapping-index.js';
import type { SecretVersions } from './secret-versions.js';
import { SqsPoller } from './sqs-poller.js';
import { loadFixture } from './fixtures/index.js';

// The poller's per-message decisions, with SQS and Secrets Manager played by fakes; the same paths
// run against moto in e2e/rotation-events.test.ts.

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:eks-controller-test-secret-AbCdEf';
const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent } as never;

interface Run {
  deleted: string[];
  released: string[];
  signalled: string[];
}

/** Runs the poller over `messages` (one receive), then stops it; returns what happened to each. */
async function run(
  messages: Message[],
  opts: {
    redrive?: boolean;
    index?: MappingIndex;
    describe?: () => Promise<{ arn: string }>;
  } = {},
): Promise<Run> {
  const out: Run = { deleted: [], released: [], signalled: [] };
  let receives = 0;
  const sqs = {
    send: (cmd: object) => {
      if (cmd instanceof GetQueueAttributesCommand)
        return Promise.resolve({
          Attributes: { VisibilityTimeout: '30', ...(opts.redrive ? { RedrivePolicy: '{}' } : {}) },
        });
      if (cmd instanceof ReceiveMessageCommand)
        return receives++ === 0
          ? Promise.resolve({ Messages: messages })
          : new Promise((r) => setTimeout(() => r({ Messages: [] }), 5));
      if (cmd instanceof DeleteMessageBatchCommand) {
        out.deleted.push(...(cmd.input.Entries ?? []).map((e) => e.ReceiptHandle ?? ''));
        return Promise.resolve({ Successful: cmd.input.Entries });
      }
      if (cmd instanceof ChangeMessageVisibilityCommand) out.released.push(cmd.input.ReceiptHandle ?? '');
      return Promise.resolve({});
    },
  } as unknown as SQSClient;
  const versions = {
    resolve: () =>
      (opts.describe ?? (() => Promise.resolve({ arn: ARN })))().then((v) => ({
        ...v,
        name: 'eks-controller-test-secret',
        currentVersionId: 'v2',
        fetchedAt: Date.now(),
      })),
  } as unknown as SecretVersions;
  const poller = new SqsPoller({
    sqs,
    queueUrl: 'q',
    versions,
    index: opts.index ?? new MappingIndex(),
    signal: (key) => {
      out.signalled.push(key);
      return Promise.resolve();
    },
    logger: silent,
    metrics: new Metrics(),
    waitTimeSeconds: 0,
  });
  poller.start();
  while (receives < 2) await new Promise((r) => setTimeout(r, 1));
  await poller.stop();
  await poller.closed;
  return out;
}

const msg = (id: string, body: string): Message => ({ MessageId: id, ReceiptHandle: id, Body: body });
const putSecretValue = loadFixture('put-secret-value.json');
const pending = loadFixture('put-secret-value-pending.json');

test('a rotation for a mapped secret signals the mapping, then deletes the message', async () => {
  const index = new MappingIndex();
  index.set('ns/m', ARN);
  const r = await run([msg('a', putSecretValue)], { index });
  assert.deepEqual(r.signalled, ['ns/m']);
  assert.deepEqual(r.deleted, ['a']);
});

test('events that cannot change the value, and secrets no mapping watches, are acknowledged', async () => {
  const r = await run([msg('pending', pending), msg('unmapped', putSecretValue)]);
  assert.deepEqual(r.signalled, []);
  assert.deepEqual(r.deleted.sort(), ['pending', 'unmapped']);
});

test('malformed: left for the dead-letter queue with a redrive policy, deleted without one', async () => {
  const withRedrive = await run([msg('bad', 'not json')], { redrive: true });
  assert.deepEqual([withRedrive.deleted, withRedrive.released], [[], ['bad']]);
  const without = await run([msg('bad', '{"nested":')]);
  assert.deepEqual([without.deleted, without.released], [['bad'], []]);
});

test('a transient DescribeSecret failure leaves the message; a missing secret acknowledges it', async () => {
  const transient = await run([msg('t', putSecretValue)], {
    describe: () => Promise.reject(new Error('throttled')),
  });
  assert.deepEqual(
    [transient.deleted, transient.released],
    [[], []],
    'left: redelivered after its visibility',
  );
  const missing = await run([msg('m', putSecretValue)], {
    describe: () => Promise.reject(new SecretNotFoundError('gone')),
  });
  assert.deepEqual(missing.deleted, ['m']);
});

test('while a mapping still resolves its secret, a message for an unknown secret is not acknowledged', async () => {
  const index = new MappingIndex();
  index.resolving('ns/new');
  const waiting = run([msg('early', putSecretValue)], { index });
  await new Promise((r) => setTimeout(r, 20));
  index.set('ns/new', ARN);
  const r = await waiting;
  assert.deepEqual(r.signalled, ['ns/new'], 'routed once the mapping resolved');
  assert.deepEqual(r.deleted, ['early']);
});
