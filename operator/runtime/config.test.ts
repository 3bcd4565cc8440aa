import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from './config.js';

const base = { SQS_QUEUE_URL: 'http://127.0.0.1:5000/123456789012/q' };

test('defaults', () => {
  const c = loadConfig(base);
  assert.equal(c.watchNamespace, undefined);
  assert.equal(c.resyncIntervalMs, 300_000);
  assert.equal(c.secretCacheTtlMs, 5000);
  assert.equal(c.logLevel, 'info');
  assert.equal(c.metricsPort, 8080);
  assert.equal(c.sqsWaitTimeSeconds, 20);
  assert.equal(c.sqsReceivers, 3);
  assert.equal(c.defaultSecretPolicy, 'allow', 'a namespace no policy governs is unrestricted');
  assert.equal(loadConfig({ ...base, DEFAULT_SECRET_POLICY: 'deny' }).defaultSecretPolicy, 'deny');
  assert.deepEqual(
    [
      c.leaderElection?.namespace,
      c.leaderElection?.leaseDurationMs,
      c.leaderElection?.renewDeadlineMs,
      c.leaderElection?.retryPeriodMs,
    ],
    ['secrets-rotation-operator', 15_000, 10_000, 2000],
    "client-go's defaults",
  );
  assert.equal(loadConfig({ ...base, LEADER_ELECT: 'false' }).leaderElection, undefined);
  assert.equal(loadConfig({ ...base, POD_NAMESPACE: 'ops' }).leaderElection?.namespace, 'ops');
});

test('values are parsed and RESYNC_INTERVAL=0s disables the resync', () => {
  const c = loadConfig({ ...base, WATCH_NAMESPACE: 'team-a', RESYNC_INTERVAL: '0s', LOG_LEVEL: 'DEBUG' });
  assert.equal(c.watchNamespace, 'team-a');
  assert.equal(c.resyncIntervalMs, 0);
  assert.equal(c.logLevel, 'debug');
});

test('a bad value is an error naming the variable, never a silently disabled feature', () => {
  assert.throws(() => loadConfig({}), /SQS_QUEUE_URL is required/);
  assert.throws(() => loadConfig({ SQS_QUEUE_URL: 'not a url' }), /SQS_QUEUE_URL="not a url"/);
  assert.throws(() => loadConfig({ ...base, RESYNC_INTERVAL: '5' }), /RESYNC_INTERVAL: invalid duration/);
  assert.throws(() => loadConfig({ ...base, LOG_LEVEL: 'loud' }), /LOG_LEVEL="loud"/);
  assert.throws(() => loadConfig({ ...base, WATCH_NAMESPACE: 'Bad_NS' }), /WATCH_NAMESPACE/);
  assert.throws(() => loadConfig({ ...base, MAX_CONCURRENT_RECONCILES: '0' }), /MAX_CONCURRENT_RECONCILES/);
  assert.throws(() => loadConfig({ ...base, AWS_ENDPOINT_URL: '::' }), /AWS_ENDPOINT_URL/);
  assert.throws(() => loadConfig({ ...base, LEADER_ELECT: 'yes' }), /LEADER_ELECT="yes"/);
  assert.throws(
    () => loadConfig({ ...base, DEFAULT_SECRET_POLICY: 'Deny' }),
    /DEFAULT_SECRET_POLICY="Deny" must be allow or deny/,
  );
  assert.throws(
    () => loadConfig({ ...base, LEASE_DURATION: '5s', RENEW_DEADLINE: '10s' }),
    /LEASE_DURATION > RENEW_DEADLINE/,
  );
});

test('a duration longer than a timer can wait is refused, naming the variable', () => {
  assert.throws(
    () => loadConfig({ SQS_QUEUE_URL: 'http://q', RESYNC_INTERVAL: '600h' }),
    /RESYNC_INTERVAL="600h" is longer than the 24 days a timer can wait/,
  );
});

test('failure-semantics settings: defaults, and a zero timeout or deadline is refused', () => {
  const c = loadConfig(base);
  assert.deepEqual(
    [c.rolloutDeadlineMs, c.maxMessagesInFlight, c.messageMaxHoldMs, c.kubeRequestTimeoutMs],
    [600_000, 100, 900_000, 30_000],
  );
  for (const name of ['ROLLOUT_DEADLINE', 'MESSAGE_MAX_HOLD', 'KUBE_REQUEST_TIMEOUT'])
    assert.throws(() => loadConfig({ ...base, [name]: '0s' }), new RegExp(`${name} must be longer than 0s`));
  assert.throws(() => loadConfig({ ...base, MAX_MESSAGES_IN_FLIGHT: '0' }), /MAX_MESSAGES_IN_FLIGHT/);
});
