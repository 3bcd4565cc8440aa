import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExternalSecretInfo } from '../kube/consumption.js';
import { syncGate, syncedSince } from './sync-gate.js';

const es = (name: string, over: Partial<ExternalSecretInfo> = {}): ExternalSecretInfo => ({
  key: `ns/${name}`,
  namespace: 'ns',
  name,
  target: name,
  keys: ['db'],
  ready: true,
  refreshTime: '2026-11-29T10:00:00Z',
  ...over,
});

const detected = Date.parse('2026-11-29T10:05:00.400Z');
const detectedSecond = Math.floor(detected / 1000);
const previous = { versionId: 'v2', requestedAt: new Date(detected).toISOString() };
const base = {
  versionId: 'v2',
  previous: undefined,
  now: detected,
  timeoutMs: 120_000,
  onTimeout: 'Wait' as const,
};

test('a sync counts only from the second after the request, and only with Ready True', () => {
  assert.ok(syncedSince(es('a', { refreshTime: '2026-11-29T10:05:01Z' }), detected));
  // The request's own second: that sync may have read AWS just before the change.
  assert.ok(!syncedSince(es('a', { refreshTime: '2026-11-29T10:05:00Z' }), detected));
  assert.ok(!syncedSince(es('a', { refreshTime: '2026-11-29T10:04:59Z' }), detected));
  assert.ok(!syncedSince(es('a', { refreshTime: '2026-11-29T10:06:00Z', ready: false }), detected));
  assert.ok(!syncedSince(es('a', { refreshTime: undefined }), detected));
});

test('the first look records the request and waits for the next second before asking', () => {
  const g = syncGate({ ...base, externalSecrets: [es('a'), es('b')] });
  assert.deepEqual(g.request, previous);
  assert.deepEqual(g.annotate, []);
  assert.deepEqual(g.unsynced, ['a', 'b']);
  assert.equal(g.restart, false);
  assert.equal(g.timedOut, false);
  assert.equal(g.waitMs, 600, 'looks again at the next second');
});

test('from the next second on, every stale ExternalSecret is asked to sync, once', () => {
  const now = detected + 700;
  const g = syncGate({ ...base, previous, now, externalSecrets: [es('a'), es('b', { forceSync: '1' })] });
  assert.equal(g.request, previous, 'the request time is kept across passes');
  assert.deepEqual(g.annotate, ['a', 'b']);
  assert.equal(g.forceSyncValue, detectedSecond + 1);
  assert.equal(g.waitMs, 120_000 - 700, 'then waits for the sync or the timeout');
  const asked = String(detectedSecond + 1);
  const again = syncGate({
    ...base,
    previous,
    now: now + 5000,
    externalSecrets: [es('a', { forceSync: asked })],
  });
  assert.deepEqual(again.annotate, [], 'not asked twice');
});

test('once every ExternalSecret has synced since the request, the restart goes', () => {
  const g = syncGate({
    ...base,
    previous,
    now: detected + 2000,
    externalSecrets: [
      es('a', { refreshTime: '2026-11-29T10:05:01Z' }),
      es('b', { refreshTime: '2026-11-29T10:05:02Z' }),
    ],
  });
  assert.equal(g.restart, true);
  assert.deepEqual(g.unsynced, []);
  assert.deepEqual(g.annotate, []);
  assert.equal(g.waitMs, undefined);
});

test('a request for an older version does not count: a new one is made', () => {
  const old = { versionId: 'v1', requestedAt: '2026-11-29T09:00:00.000Z' };
  const g = syncGate({
    ...base,
    previous: old,
    externalSecrets: [es('a', { refreshTime: '2026-11-29T09:00:05Z' })],
  });
  assert.deepEqual(g.request, previous);
  assert.equal(g.restart, false);
});

test('past the timeout: Wait keeps waiting, Restart restarts; both say it timed out', () => {
  const late = { ...base, previous, now: detected + 120_000, externalSecrets: [es('a')] };
  const waiting = syncGate(late);
  assert.equal(waiting.timedOut, true);
  assert.equal(waiting.restart, false);
  assert.equal(waiting.waitMs, undefined);
  const restarting = syncGate({ ...late, onTimeout: 'Restart' });
  assert.equal(restarting.timedOut, true);
  assert.equal(restarting.restart, true);
});

test('a user force-sync set after the request second is left alone', () => {
  const g = syncGate({
    ...base,
    previous,
    now: detected + 3000,
    externalSecrets: [es('a', { forceSync: String(detectedSecond + 2) })],
  });
  assert.deepEqual(g.annotate, []);
  assert.deepEqual(g.unsynced, ['a']);
});
