import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metricEventLabel, parseMessage } from './event-parser.js';
import { fixtureNames, loadFixture } from './fixtures/index.js';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:eks-controller-test-secret-AbCdEf';

/** fixture → [kind, secretId, eventKind]; every fixture file must appear here. */
const table: Record<string, [string, string | undefined, string]> = {
  'label-updated-current.json': ['candidate', ARN, 'SecretLabelUpdated'],
  'label-updated-no-account.json': ['candidate', ARN, 'SecretLabelUpdated'],
  'label-updated-pending.json': ['ignored', ARN, 'SecretLabelUpdated'],
  'put-secret-value.json': ['candidate', 'eks-controller-test-secret', 'PutSecretValue'],
  'put-secret-value-old-arn.json': ['candidate', ARN, 'PutSecretValue'],
  'put-secret-value-pending.json': ['ignored', ARN, 'PutSecretValue'],
  'put-secret-value-denied.json': ['ignored', ARN, 'PutSecretValue'],
  'update-secret.json': ['candidate', 'eks-controller-test-secret', 'UpdateSecret'],
  'update-version-stage-current.json': ['candidate', ARN, 'UpdateSecretVersionStage'],
  'update-version-stage-pending.json': ['ignored', ARN, 'UpdateSecretVersionStage'],
  'rotate-secret.json': ['ignored', ARN, 'RotateSecret'],
  'delete-secret.json': ['ignored', ARN, 'DeleteSecret'],
  'create-secret.json': ['candidate', ARN, 'CreateSecret'],
  'restore-secret.json': ['candidate', ARN, 'RestoreSecret'],
  'tag-resource.json': ['ignored', ARN, 'TagResource'],
  'put-resource-policy.json': ['ignored', ARN, 'PutResourcePolicy'],
  'rotation-succeeded.json': ['candidate', ARN, 'RotationSucceeded'],
  'rotation-failed.json': ['ignored', ARN, 'RotationFailed'],
  'sns-put-secret-value.json': ['candidate', 'eks-controller-test-secret', 'PutSecretValue'],
};

test('every fixture is in the table', () => {
  assert.deepEqual(fixtureNames(), Object.keys(table).sort());
});

for (const [name, [kind, secretId, eventKind]] of Object.entries(table)) {
  test(`fixture ${name} → ${kind}`, () => {
    const parsed = parseMessage(loadFixture(name));
    assert.equal(parsed.kind, kind, JSON.stringify(parsed));
    assert.ok(parsed.kind !== 'malformed');
    assert.equal(parsed.secretId, secretId);
    assert.equal(parsed.eventKind, eventKind);
  });
}

const event = (detail: object, extra: object = {}): string =>
  JSON.stringify({
    source: 'aws.secretsmanager',
    'detail-type': 'AWS API Call via CloudTrail',
    detail,
    ...extra,
  });

const malformed: Record<string, string> = {
  'not JSON': '{"source": "aws.secretsmanager",',
  empty: '',
  'a JSON array': '[1,2,3]',
  'a JSON string': '"hello"',
  'JSON of the wrong shape': JSON.stringify({ hello: 'world' }),
  'unknown source': JSON.stringify({ source: 'aws.s3', 'detail-type': 'Object Created', detail: {} }),
  'CloudTrail event without eventName': event({ eventSource: 'secretsmanager.amazonaws.com' }),
  'PutSecretValue without any secret id': event({ eventName: 'PutSecretValue', requestParameters: {} }),
  'SNS envelope around garbage': JSON.stringify({ Type: 'Notification', Message: 'not json' }),
  'near the 256 KB limit': JSON.stringify({ padding: 'x'.repeat(256 * 1024 - 100) }),
};

for (const [what, body] of Object.entries(malformed)) {
  test(`malformed: ${what}`, () => {
    const parsed = parseMessage(body);
    assert.equal(parsed.kind, 'malformed');
    assert.ok(parsed.kind === 'malformed' && parsed.reason.length > 0);
  });
}

test('a candidate carries when the event occurred (EventBridge time), for DescribeSecret reuse', async () => {
  const parsed = parseMessage(loadFixture('put-secret-value.json'));
  assert.equal(parsed.kind === 'candidate' && parsed.occurredAt, Date.parse('2026-11-29T10:00:00Z'));
  assert.equal(
    parsed.kind === 'candidate' && parsed.versionId,
    'EXAMPLE1-90ab-cdef-fedc-ba987SECRET1',
    'the version it made current',
  );
  const moved = parseMessage(loadFixture('update-version-stage-current.json'));
  assert.equal(moved.kind === 'candidate' && moved.versionId, 'EXAMPLE1-90ab-cdef-fedc-ba987SECRET1');
  const { freshAfter } = await import('./event-parser.js');
  const occurred = Date.parse('2026-11-29T10:00:00Z');
  assert.equal(
    freshAfter({ occurredAt: occurred }, occurred + 60_000),
    occurred + 2000,
    'an old event: an answer fetched after it is enough',
  );
  assert.equal(
    freshAfter({ occurredAt: occurred }, occurred + 500),
    occurred + 500,
    'never later than receipt',
  );
  assert.equal(freshAfter({}, occurred), occurred, 'no event time: fetched after receipt');
});

test('a valid event near the 256 KB limit is still parsed', () => {
  const body = event({
    eventName: 'PutSecretValue',
    eventSource: 'secretsmanager.amazonaws.com',
    requestParameters: { secretId: 'big' },
    padding: 'x'.repeat(250 * 1024),
  });
  assert.ok(body.length > 250 * 1024);
  assert.deepEqual(parseMessage(body), {
    kind: 'candidate',
    secretId: 'big',
    eventKind: 'PutSecretValue',
    reason: 'new value stored as AWSCURRENT',
  });
});

test('the metric label of an event is a known name or "other", never message text', () => {
  const hostile = parseMessage(
    JSON.stringify({
      source: 'aws.secretsmanager',
      'detail-type': 'AWS API Call via CloudTrail',
      detail: { eventSource: 'secretsmanager.amazonaws.com', eventName: `X${'y'.repeat(500)}` },
    }),
  );
  assert.equal(hostile.kind, 'ignored');
  if (hostile.kind === 'ignored') assert.equal(metricEventLabel(hostile.eventKind), 'other');
  for (const name of fixtureNames()) {
    const parsed = parseMessage(loadFixture(name));
    if (parsed.kind !== 'malformed') assert.notEqual(metricEventLabel(parsed.eventKind), 'other', name);
  }
});

test('a secret created or restored under a name is a candidate: the name may stand for another secret now', () => {
  const created = parseMessage(loadFixture('create-secret.json'));
  assert.deepEqual(created.kind === 'candidate' && [created.aliases, created.versionId], [
    ['eks-controller-test-secret'],
    'EXAMPLE1-90ab-cdef-fedc-ba987SECRET1',
  ]);
  assert.equal(
    parseMessage(loadFixture('delete-secret.json')).kind,
    'ignored',
    'nothing current to restart for',
  );
});

test('an empty string in resources is no secret id and no alias', () => {
  // Found by event-parser.property.test.ts (seed 3203, PROPERTY_RUNS=30): resources [" ", ""] gave the
  // alias "", and resources ["", <arn>] made the event malformed instead of naming <arn>.
  const event = JSON.parse(loadFixture('label-updated-current.json')) as { resources: string[] };
  const parsed = parseMessage(JSON.stringify({ ...event, resources: ['', ARN] }));
  assert.deepEqual(parsed.kind === 'candidate' && [parsed.secretId, parsed.aliases], [
    ARN,
    ['eks-controller-test-secret'],
  ]);
});
