import assert from 'node:assert/strict';
import { test } from 'node:test';
import { argoRestartAt, rolloutRestartPatch } from './restart-patches.js';

test("a Rollout's restartAt is in whole seconds, rounded up, and later than the one before", () => {
  assert.equal(argoRestartAt('2026-11-29T10:00:00.000Z'), '2026-11-29T10:00:00Z');
  assert.equal(argoRestartAt('2026-11-29T10:00:00.001Z'), '2026-11-29T10:00:01Z');
  // A second rotation within the same second must still change spec.restartAt.
  assert.equal(argoRestartAt('2026-11-29T10:00:00.300Z', '2026-11-29T10:00:01Z'), '2026-11-29T10:00:02Z');
  assert.equal(argoRestartAt('2026-11-29T10:00:05.300Z', '2026-11-29T10:00:01Z'), '2026-11-29T10:00:06Z');
});

test('a Rollout restart swaps the stamp on its own metadata and sets spec.restartAt, never its template', () => {
  const first = rolloutRestartPatch('2026-11-29T10:00:00.300Z', 's@v1', { resourceVersion: '42' });
  assert.equal(first.json, false);
  assert.deepEqual(first.body, {
    metadata: {
      resourceVersion: '42',
      annotations: {
        'secretsrotation.io/restartedAt': '2026-11-29T10:00:00.300Z',
        'secretsrotation.io/secret-version': 's@v1',
      },
    },
    spec: { restartAt: '2026-11-29T10:00:01Z' },
  });
  const next = rolloutRestartPatch('2026-11-29T11:00:00.000Z', 's@v2', {
    stamp: 's@v1',
    resourceVersion: '50',
    restartAt: '2026-11-29T10:00:01Z',
  });
  assert.equal(next.json, true);
  assert.deepEqual(next.body, [
    { op: 'test', path: '/metadata/annotations/secretsrotation.io~1secret-version', value: 's@v1' },
    {
      op: 'add',
      path: '/metadata/annotations/secretsrotation.io~1restartedAt',
      value: '2026-11-29T11:00:00.000Z',
    },
    { op: 'add', path: '/metadata/annotations/secretsrotation.io~1secret-version', value: 's@v2' },
    { op: 'add', path: '/spec/restartAt', value: '2026-11-29T11:00:00Z' },
  ]);
});
