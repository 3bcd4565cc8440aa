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
import { SecretNotFoundError, TermEndedError } from '../runtime/errors.js';
import { SecretRouter } from './secret-router.js';
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
    router?: SecretRouter;
    describe?: () => Promise<{ arn: string }>;
    describeCalls?: { n: number };
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
      (opts.describeCalls && opts.describeCalls.n++,
      opts.describe ?? (() => Promise.resolve({ arn: ARN })))().then((v) => ({
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
    router: opts.router ?? routerWith({}),
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

/** A router following `mappings` (key → secretId), each resolved to ARN unless said otherwise. */
function routerWith(mappings: Record<string, string>, resolveTo = ARN): SecretRouter {
  const router = new SecretRouter({
    resolve: () => new Promise(() => {}),
    logger: silent,
  });
  for (const [key, id] of Object.entries(mappings)) {
    router.follow(key, id);
    if (resolveTo) router.confirm(key, id, resolveTo);
  }
  return router;
}

test('a rotation for a mapped secret signals the mapping, then deletes the message', async () => {
  const r = await run([msg('a', putSecretValue)], {
    router: routerWith({ 'ns/m': 'eks-controller-test-secret' }),
  });
  assert.deepEqual(r.signalled, ['ns/m']);
  assert.deepEqual(r.deleted, ['a']);
});

test('events that cannot change the value, and secrets no mapping watches, are acknowledged', async () => {
  const describeCalls = { n: 0 };
  const r = await run([msg('pending', pending), msg('unmapped', putSecretValue)], {
    router: routerWith(
      { 'ns/other': 'another-secret' },
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:another-secret-QwErTy',
    ),
    describeCalls,
  });
  assert.deepEqual(r.signalled, []);
  assert.deepEqual(r.deleted.sort(), ['pending', 'unmapped']);
  assert.equal(describeCalls.n, 0, 'a secret no mapping can watch costs no DescribeSecret');
});

test('a secret named like a mapped one but with another ARN (another account) is described, then not routed', async () => {
  const describeCalls = { n: 0 };
  const r = await run([msg('a', putSecretValue)], {
    router: routerWith(
      { 'ns/m': 'eks-controller-test-secret' },
      'arn:aws:secretsmanager:us-east-1:999999999999:secret:eks-controller-test-secret-ZzZzZz',
    ),
    describeCalls,
  });
  assert.equal(describeCalls.n, 1);
  assert.deepEqual(r.signalled, []);
  assert.deepEqual(r.deleted, ['a']);
});

test('malformed: left for the dead-letter queue with a redrive policy, deleted without one', async () => {
  const withRedrive = await run([msg('bad', 'not json')], { redrive: true });
  assert.deepEqual([withRedrive.deleted, withRedrive.released], [[], ['bad']]);
  const without = await run([msg('bad', '{"nested":')]);
  assert.deepEqual([without.deleted, without.released], [['bad'], []]);
});

test('a transient DescribeSecret failure leaves the message; a missing secret acknowledges it', async () => {
  const router = routerWith({ 'ns/m': 'eks-controller-test-secret' });
  const transient = await run([msg('t', putSecretValue)], {
    router,
    describe: () => Promise.reject(new Error('throttled')),
  });
  assert.deepEqual(
    [transient.deleted, transient.released],
    [[], []],
    'left: redelivered after its visibility',
  );
  const missing = await run([msg('m', putSecretValue)], {
    router,
    describe: () => Promise.reject(new SecretNotFoundError('gone')),
  });
  assert.deepEqual(missing.deleted, ['m']);
});

test('a mapping whose secret is not resolved yet is signalled when the event names its secret', async () => {
  const r = await run([msg('early', putSecretValue)], {
    router: routerWith({ 'ns/new': 'eks-controller-test-secret' }, ''),
  });
  assert.deepEqual(r.signalled, ['ns/new'], 'its pass decides');
  assert.deepEqual(r.deleted, ['early']);
});

/** A queue that always has 10 more messages for a mapped secret, and records what became of them. */
function endlessQueue() {
  const asked: number[] = [];
  const released: string[] = [];
  const deleted: string[] = [];
  let n = 0;
  const sqs = {
    send: (cmd: object) => {
      if (cmd instanceof GetQueueAttributesCommand)
        return Promise.resolve({ Attributes: { VisibilityTimeout: '30', RedrivePolicy: '{}' } });
      if (cmd instanceof ReceiveMessageCommand) {
        const max = cmd.input.MaxNumberOfMessages ?? 1;
        asked.push(max);
        return Promise.resolve({
          Messages: Array.from({ length: max }, () => msg(String(n++), putSecretValue)),
        });
      }
      if (cmd instanceof ChangeMessageVisibilityCommand && cmd.input.VisibilityTimeout === 0)
        released.push(cmd.input.ReceiptHandle ?? '');
      if (cmd instanceof DeleteMessageBatchCommand)
        deleted.push(...(cmd.input.Entries ?? []).map((e) => e.ReceiptHandle ?? ''));
      return Promise.resolve({});
    },
  } as unknown as SQSClient;
  return { sqs, asked, released, deleted, received: () => n };
}

function pollerOver(
  sqs: SQSClient,
  signal: () => Promise<void>,
  limits: { maxInFlight?: number; maxHoldMs?: number; receivers?: number },
): SqsPoller {
  const router = routerWith({ 'ns/m': ARN });
  const versions = {
    resolve: () => Promise.resolve({ arn: ARN, name: 'n', currentVersionId: 'v2', fetchedAt: Date.now() }),
  } as unknown as SecretVersions;
  return new SqsPoller({
    sqs,
    queueUrl: 'q',
    versions,
    router,
    signal,
    logger: silent,
    metrics: new Metrics(),
    waitTimeSeconds: 0,
    ...limits,
  });
}

const until = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await new Promise((r) => setTimeout(r, 1));
};

/**
 * A poller over an endless queue whose passes never settle, run until 25 messages (its cap) are held
 * and 30 ms more; `endTerm` ends the term (every signal rejected) and stops it.
 */
async function stalledAtCap(
  receivers?: number,
): Promise<{ q: ReturnType<typeof endlessQueue>; endTerm: () => Promise<void> }> {
  const q = endlessQueue();
  const waiting: ((err: Error) => void)[] = [];
  const poller = pollerOver(q.sqs, () => new Promise((_, reject) => waiting.push(reject)), {
    maxInFlight: 25,
    receivers,
  });
  poller.start();
  await until(() => waiting.length === 25);
  await new Promise((r) => setTimeout(r, 30));
  return {
    q,
    endTerm: async () => {
      poller.stopReceiving();
      for (const reject of waiting) reject(new TermEndedError());
      await poller.stop(1000);
    },
  };
}

test(
  'backpressure: receiving pauses at MAX_MESSAGES_IN_FLIGHT; a term that ends releases what it held at once',
  { timeout: 5000 },
  async () => {
    const { q, endTerm } = await stalledAtCap();
    assert.equal(q.received(), 25, 'no message received past the cap while passes stall');
    assert.deepEqual(q.asked, [10, 10, 5]);
    await endTerm();
    assert.equal(q.released.length, 25, 'every held message visible again at once for the next leader');
    assert.deepEqual(q.deleted, []);
  },
);

test(
  'a message whose signal never settles is released after MESSAGE_MAX_HOLD, not hidden for good',
  { timeout: 5000 },
  async () => {
    const q = endlessQueue();
    const poller = pollerOver(q.sqs, () => new Promise(() => {}), { maxInFlight: 1, maxHoldMs: 20 });
    poller.start();
    await until(() => q.released.length >= 2);
    poller.stopReceiving();
    await poller.stop(1000);
    assert.deepEqual(q.released.slice(0, 2), ['0', '1'], 'released in turn, each after its hold');
    assert.deepEqual(q.deleted, []);
  },
);

test(
  'SQS_RECEIVERS long polls are open at once: a burst is not taken 10 messages per round trip',
  { timeout: 5000 },
  async () => {
    let open = 0;
    let most = 0;
    const answer: (() => void)[] = [];
    const sqs = {
      send: (cmd: object) => {
        if (cmd instanceof GetQueueAttributesCommand) return Promise.resolve({ Attributes: {} });
        if (cmd instanceof ReceiveMessageCommand) {
          most = Math.max(most, ++open);
          return new Promise((r) => answer.push(() => (open--, r({ Messages: [] }))));
        }
        return Promise.resolve({});
      },
    } as unknown as SQSClient;
    const poller = pollerOver(sqs, () => Promise.resolve(), { receivers: 3 });
    poller.start();
    await until(() => answer.length >= 3);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(most, 3, 'three ReceiveMessage calls in flight');
    poller.stopReceiving();
    for (const a of answer.splice(0)) a();
    await poller.stop(1000);
  },
);

test(
  'backpressure holds with several receivers: never more than MAX_MESSAGES_IN_FLIGHT asked for or held',
  { timeout: 5000 },
  async () => {
    const { q, endTerm } = await stalledAtCap(4);
    assert.equal(q.received(), 25, 'no message received past the cap');
    assert.equal(
      q.asked.reduce((a, b) => a + b, 0),
      25,
      `asked for ${q.asked.join(', ')}`,
    );
    await endTerm();
    assert.equal(q.released.length, 25);
  },
);

test('a failed GetQueueAttributes is counted as that call, read again after the backoff, then the polls start', async () => {
  let attributeCalls = 0;
  let receives = 0;
  const sqs = {
    send: (cmd: object) => {
      if (cmd instanceof GetQueueAttributesCommand)
        return attributeCalls++ === 0
          ? Promise.reject(new Error('endpoint down'))
          : Promise.resolve({ Attributes: {} });
      if (cmd instanceof ReceiveMessageCommand) {
        receives++;
        return new Promise((r) => setTimeout(() => r({ Messages: [] }), 5));
      }
      return Promise.resolve({});
    },
  } as unknown as SQSClient;
  const metrics = new Metrics();
  const poller = new SqsPoller({
    sqs,
    queueUrl: 'q',
    versions: {} as SecretVersions,
    router: routerWith({}),
    signal: () => Promise.resolve(),
    logger: silent,
    metrics,
    waitTimeSeconds: 0,
    receivers: 3,
    minBackoffMs: 1,
  });
  poller.start();
  await until(() => receives >= 2);
  poller.stopReceiving();
  await poller.stop(1000);
  const text = await metrics.registry.metrics();
  assert.match(text, /aws_calls_total\{operation="GetQueueAttributes",result="error"\} 1\n/, 'once per call');
  assert.match(text, /aws_calls_total\{operation="GetQueueAttributes",result="success"\} 1\n/);
  assert.doesNotMatch(text, /operation="ReceiveMessage",result="error"/);
  assert.equal(attributeCalls, 2, 'read once more after the failure, not once per receiver');
});
