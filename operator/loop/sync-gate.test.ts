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
const base = {
  versionId: 'v2',
  previous: undefined,
  now: detected,
  timeoutMs: 120_000,
  onTimeout: 'Wait' as const,
};

test('a sync counts from the request second on, and only with Ready True', () => {
  assert.ok(syncedSince(es('a', { refreshTime: '2026-11-29T10:05:00Z' }), detected));
  assert.ok(syncedSince(es('a', { refreshTime: '2026-11-29T10:05:01Z' }), detected));
  assert.ok(!syncedSince(es('a', { refreshTime: '2026-11-29T10:04:59Z' }), detected));
  assert.ok(!syncedSince(es('a', { refreshTime: '2026-11-29T10:06:00Z', ready: false }), detected));
  assert.ok(!syncedSince(es('a', { refreshTime: undefined }), detected));
});

test('the first look at a due restart requests a sync of every stale ExternalSecret and waits', () => {
  const g = syncGate({ ...base, externalSecrets: [es('a'), es('b', { forceSync: '1' })] });
  assert.deepEqual(g.request, { versionId: 'v2', requestedAt: '2026-11-29T10:05:00.400Z' });
  assert.deepEqual(g.annotate, ['a', 'b']);
  assert.equal(g.forceSyncValue, Math.floor(detected / 1000));
  assert.deepEqual(g.unsynced, ['a', 'b']);
  assert.equal(g.restart, false);
  assert.equal(g.timedOut, false);
  assert.equal(g.waitMs, 120_000);
});

test('a request already annotated is not annotated again; the request time is kept across passes', () => {
  const previous = { versionId: 'v2', requestedAt: new Date(detected).toISOString() };
  const asked = String(Math.floor(detected / 1000));
  const g = syncGate({
    ...base,
    previous,
    now: detected + 30_000,
    externalSecrets: [es('a', { forceSync: asked })],
  });
  assert.deepEqual(g.annotate, []);
  assert.equal(g.request, previous);
  assert.equal(g.waitMs, 90_000);
});

test('once every ExternalSecret has synced since the request, the restart goes', () => {
  const previous = { versionId: 'v2', requestedAt: new Date(detected).toISOString() };
  const g = syncGate({
    ...base,
    previous,
    now: detected + 2000,
    externalSecrets: [
      es('a', { refreshTime: '2026-11-29T10:05:01Z' }),
      es('b', { refreshTime: '2026-11-29T10:05:00Z' }),
    ],
  });
  assert.equal(g.restart, true);
  assert.deepEqual(g.unsynced, []);
  assert.deepEqual(g.annotate, []);
});

test('a request for an older version does not count: a new one is made', () => {
  const previous = { versionId: 'v1', requestedAt: '2026-11-29T09:00:00.000Z' };
  const g = syncGate({
    ...base,
    previous,
    externalSecrets: [es('a', { refreshTime: '2026-11-29T09:00:05Z' })],
  });
  assert.equal(g.request.versionId, 'v2');
  assert.equal(g.request.requestedAt, new Date(detected).toISOString());
  assert.equal(g.restart, false);
});

test('past the timeout: Wait keeps waiting, Restart restarts; both say it timed out', () => {
  const previous = { versionId: 'v2', requestedAt: new Date(detected).toISOString() };
  const late = { ...base, previous, now: detected + 120_000, externalSecrets: [es('a')] };
  const waiting = syncGate(late);
  assert.equal(waiting.timedOut, true);
  assert.equal(waiting.restart, false);
  assert.equal(waiting.waitMs, undefined);
  const restarting = syncGate({ ...late, onTimeout: 'Restart' });
  assert.equal(restarting.timedOut, true);
  assert.equal(restarting.restart, true);
});

test('a user force-sync newer than the request is left alone', () => {
  const g = syncGate({
    ...base,
    externalSecrets: [es('a', { forceSync: String(Math.floor(detected / 1000) + 5) })],
  });
  assert.deepEqual(g.annotate, []);
  assert.deepEqual(g.unsynced, ['a']);
});
