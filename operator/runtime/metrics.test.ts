import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WORKLOAD_KINDS } from '../../resources/types.js';
import { Metrics } from './metrics.js';

const sample = (text: string, name: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
};

test('the labelled series the alerts and dashboard read exist at 0 before anything happened', async () => {
  const m = new Metrics();
  const text = await m.registry.metrics();
  for (const kind of WORKLOAD_KINDS) {
    for (const result of ['success', 'failure']) {
      const name = `secrets_rotation_restarts_total{kind="${kind}",result="${result}"}`;
      assert.equal(sample(text, name), 0, name);
    }
  }
  for (const outcome of ['synced', 'timed_out']) {
    const name = `secrets_rotation_external_secret_sync_wait_seconds_count{outcome="${outcome}"}`;
    assert.equal(sample(text, name), 0, name);
  }
  assert.equal(sample(text, 'secrets_rotation_notifications_total{result="failed"}'), 0);
  assert.equal(sample(text, 'secrets_rotation_notifications_dropped_total{reason="gave_up"}'), 0);
});

test('a zero-initialised series counts from 0: the first restart and the first timeout read 1', async () => {
  const m = new Metrics();
  m.restarts.inc({ kind: 'Deployment', result: 'failure' });
  m.externalSecretSyncWait.observe({ outcome: 'timed_out' }, 3);
  const text = await m.registry.metrics();
  assert.equal(sample(text, 'secrets_rotation_restarts_total{kind="Deployment",result="failure"}'), 1);
  assert.equal(
    sample(text, 'secrets_rotation_external_secret_sync_wait_seconds_count{outcome="timed_out"}'),
    1,
  );
  assert.equal(
    sample(text, 'secrets_rotation_external_secret_sync_wait_seconds_bucket{le="2",outcome="timed_out"}'),
    0,
  );
  assert.equal(
    sample(text, 'secrets_rotation_external_secret_sync_wait_seconds_bucket{le="5",outcome="timed_out"}'),
    1,
  );
});
