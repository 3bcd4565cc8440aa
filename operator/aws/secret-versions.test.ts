import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SecretNotFoundError } from '../runtime/errors.js';
import { SecretVersions, currentVersionsOf } from './secret-versions.js';

test('currentVersionsOf lists the versions labelled AWSCURRENT', () => {
  assert.deepEqual(currentVersionsOf({ a: ['AWSPREVIOUS'], b: ['AWSCURRENT', 'x'], c: ['AWSPENDING'] }), [
    'b',
  ]);
  assert.deepEqual(currentVersionsOf({ a: ['AWSPENDING'] }), []);
  assert.deepEqual(currentVersionsOf(undefined), []);
});

/** A DescribeSecret stand-in whose AWSCURRENT version the test moves; counts calls. */
function fakeClient(state: { current: string; calls: number; deleted?: boolean }): SecretsManagerClient {
  return {
    send: (cmd: DescribeSecretCommand) => {
      state.calls++;
      const id = cmd.input.SecretId ?? '';
      return Promise.resolve({
        ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:db-AbCdEf',
        Name: 'db',
        VersionIdsToStages: { [state.current]: ['AWSCURRENT'], old: ['AWSPREVIOUS'] },
        DeletedDate: state.deleted ? new Date() : undefined,
        id,
      });
    },
  } as unknown as SecretsManagerClient;
}

test('answers are reused within the TTL, by name and by ARN alike', async () => {
  const state = { current: 'v1', calls: 0 };
  const sv = new SecretVersions(fakeClient(state), 60_000);
  const a = await sv.resolve('db');
  assert.equal(a.currentVersionId, 'v1');
  await sv.resolve('db');
  await sv.resolve('arn:aws:secretsmanager:us-east-1:1:secret:db-AbCdEf');
  assert.equal(state.calls, 1, 'one call for the name, the ARN shares it');
});

test('notBefore refuses an answer older than the event; concurrent lookups share one call', async () => {
  const state = { current: 'v1', calls: 0 };
  const sv = new SecretVersions(fakeClient(state), 60_000);
  await sv.resolve('db');
  state.current = 'v2';
  const event = Date.now() + 5;
  while (Date.now() < event) await new Promise((r) => setTimeout(r, 1));
  const [x, y] = await Promise.all([
    sv.resolve('db', { notBefore: event }),
    sv.resolve('db', { notBefore: event }),
  ]);
  assert.equal(x.currentVersionId, 'v2');
  assert.equal(y.currentVersionId, 'v2');
  assert.equal(state.calls, 2, 'the refresh was shared');
});

test('a cached answer already naming the expected version needs no call, however old the event', async () => {
  const state = { current: 'v2', calls: 0 };
  const sv = new SecretVersions(fakeClient(state), 60_000);
  await sv.resolve('db');
  const again = await sv.resolve('db', { notBefore: Date.now() + 10_000, expectedVersionId: 'v2' });
  assert.equal(again.currentVersionId, 'v2');
  assert.equal(state.calls, 1);
});

test('a secret scheduled for deletion is not found', async () => {
  const sv = new SecretVersions(fakeClient({ current: 'v1', calls: 0, deleted: true }), 60_000);
  await assert.rejects(sv.resolve('db'), SecretNotFoundError);
});

test('level lookups share a few slots; an event-driven lookup never waits behind them', async () => {
  let inFlight = 0;
  let peak = 0;
  const release: (() => void)[] = [];
  const client = {
    send: (cmd: DescribeSecretCommand) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      const id = cmd.input.SecretId ?? '';
      return new Promise((resolve) =>
        release.push(() => {
          inFlight--;
          resolve({ ARN: `arn:${id}`, Name: id, VersionIdsToStages: { v1: ['AWSCURRENT'] } });
        }),
      );
    },
  } as unknown as SecretsManagerClient;
  const sv = new SecretVersions(client, 60_000);
  const level = Array.from({ length: 10 }, (_, i) => sv.resolve(`s${i}`));
  await new Promise((r) => setImmediate(r));
  assert.equal(inFlight, 4, 'level passes: four calls at once');
  const urgent = sv.resolve('s9', { notBefore: Date.now() - 1000 });
  await new Promise((r) => setImmediate(r));
  assert.equal(inFlight, 5, 'the event-driven lookup started at once, not behind the queued one for s9');
  while (release.length) {
    release.shift()?.();
    await new Promise((r) => setImmediate(r));
  }
  assert.equal((await urgent).name, 's9');
  assert.equal((await Promise.all(level)).length, 10);
  assert.equal(peak, 5);
});

test('a recent cached answer that contradicts the event is not trusted: a fresh call decides', async () => {
  const state = { current: 'v1', calls: 0 };
  const sv = new SecretVersions(fakeClient(state), 60_000);
  await sv.resolve('db');
  state.current = 'v2';
  // The event's time lies before our cached answer (clock skew), yet it names v2 as current.
  const v = await sv.resolve('db', { notBefore: Date.now() - 5000, expectedVersionId: 'v2' });
  assert.equal(v.currentVersionId, 'v2');
  assert.equal(state.calls, 2);
  const older = await sv.resolve('db', { notBefore: Date.now() - 5000, expectedVersionId: 'v0' });
  assert.equal(older.currentVersionId, 'v2', 'an event for an older version accepts the fresh answer');
  assert.equal(state.calls, 3);
});

test('AWSCURRENT on two versions: the one the event names wins, for later passes too, and is reported', async () => {
  const anomalies: string[][] = [];
  const client = {
    send: () =>
      Promise.resolve({
        ARN: 'arn:db',
        Name: 'db',
        VersionIdsToStages: { v1: ['AWSCURRENT'], v2: ['AWSCURRENT'] },
      }),
  } as unknown as SecretsManagerClient;
  const sv = new SecretVersions(client, 60_000, { onAnomaly: (_id, ids) => anomalies.push(ids) });
  assert.equal(
    (await sv.resolve('db', { notBefore: Date.now(), expectedVersionId: 'v2' })).currentVersionId,
    'v2',
  );
  assert.equal((await sv.resolve('db')).currentVersionId, 'v2', 'a pass reading the cache sees the same');
  assert.deepEqual(anomalies, [['v1', 'v2']]);
});

test('answers older than the TTL are dropped as new ones arrive, without a resync (followers, RESYNC_INTERVAL=0s)', async (t) => {
  t.mock.timers.enable({ apis: ['Date'] });
  let n = 0;
  const client = {
    send: (cmd: DescribeSecretCommand) => {
      const id = cmd.input.SecretId ?? '';
      n++;
      return Promise.resolve({
        ARN: `arn:aws:secretsmanager:us-east-1:1:secret:${id}-AbCdEf`,
        Name: id,
        VersionIdsToStages: { [`v${n}`]: ['AWSCURRENT'] },
      });
    },
  } as unknown as SecretsManagerClient;
  const sv = new SecretVersions(client, 1000);
  for (let i = 0; i < 50; i++) await sv.resolve(`s${i}`);
  assert.equal(sv.size, 50);
  t.mock.timers.tick(5000);
  await sv.resolve('fresh');
  assert.equal(sv.size, 1, 'only the fresh answer is kept');
});

test('a secret deleted and created again under its name: the old ARN answer is dropped once the new one is seen', async () => {
  const state = { arn: 'arn:aws:secretsmanager:us-east-1:1:secret:db-AbCdEf', current: 'v1', calls: 0 };
  const client = {
    send: () => {
      state.calls++;
      return Promise.resolve({
        ARN: state.arn,
        Name: 'db',
        VersionIdsToStages: { [state.current]: ['AWSCURRENT'] },
      });
    },
  } as unknown as SecretsManagerClient;
  const sv = new SecretVersions(client, 60_000);
  assert.equal((await sv.resolve('db')).arn, state.arn);
  state.arn = 'arn:aws:secretsmanager:us-east-1:1:secret:db-NeWnEw';
  state.current = 'c1';
  // An event carries only the new ARN: the poller describes it.
  await sv.resolve(state.arn, { notBefore: Date.now() });
  const byName = await sv.resolve('db');
  assert.equal(byName.arn, state.arn, 'a pass naming the secret by name sees the new secret at once');
  assert.equal(byName.currentVersionId, 'c1');
  assert.equal(state.calls, 3);
  assert.equal(sv.size, 1, "the old ARN's answer is dropped");
});

test('two answers race across a recreation: the caller given the stale one (the old ARN) gets the newer one', async () => {
  const OLD = 'arn:aws:secretsmanager:us-east-1:1:secret:db-AbCdEf';
  const NEW = 'arn:aws:secretsmanager:us-east-1:1:secret:db-NeWnEw';
  let arn = OLD;
  let hold: (() => void) | undefined;
  let calls = 0;
  const client = {
    send: async () => {
      calls++;
      // The first call's answer (the old ARN) is seen by AWS at once but reaches us last.
      const answer = {
        ARN: arn,
        Name: 'db',
        VersionIdsToStages: { [arn === OLD ? 'v1' : 'c1']: ['AWSCURRENT'] },
      };
      if (calls === 1) await new Promise<void>((r) => (hold = r));
      return answer;
    },
  } as unknown as SecretsManagerClient;
  const sv = new SecretVersions(client, 60_000);
  const slow = sv.resolve('db', { notBefore: Date.now() });
  await new Promise((r) => setTimeout(r, 5));
  arn = NEW;
  assert.equal((await sv.resolve(NEW, { notBefore: Date.now() })).arn, NEW);
  hold?.();
  const late = await slow;
  assert.equal(late.arn, NEW, 'the pass naming db by name must not confirm the deleted ARN');
  assert.equal(late.currentVersionId, 'c1');
  assert.equal((await sv.resolve('db')).arn, NEW, 'the cache agrees');
});
