import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outcomeUnknown, UnansweredRestarts } from './unanswered-restarts.js';

test('an unanswered restart is recognised once, by its exact stamp and restartedAt', () => {
  const u = new UnansweredRestarts();
  u.record('ns/Deployment/a', 's@v2', '2026-12-06T06:00:00.000Z');
  assert.equal(u.landed('ns/Deployment/b', 's@v2', '2026-12-06T06:00:00.000Z'), false, 'another workload');
  assert.equal(u.landed('ns/Deployment/a', 's@v2', '2026-12-06T06:00:00.000Z'), true);
  assert.equal(u.landed('ns/Deployment/a', 's@v2', '2026-12-06T06:00:00.000Z'), false, 'reported once');
});

test('a template stamped by someone else, or not at all, is not the unanswered restart; one look settles it', () => {
  const u = new UnansweredRestarts();
  u.record('ns/Deployment/a', 's@v2', '2026-12-06T06:00:00.000Z');
  assert.equal(u.landed('ns/Deployment/a', 's@v2', '2026-12-06T06:00:01.000Z'), false, 'another restartedAt');
  u.record('ns/Deployment/a', 's@v2', '2026-12-06T06:00:00.000Z');
  assert.equal(u.landed('ns/Deployment/a', 's@v3', '2026-12-06T06:00:00.000Z'), false, 'another version');
  assert.equal(
    u.landed('ns/Deployment/a', 's@v2', '2026-12-06T06:00:00.000Z'),
    false,
    'forgotten after a look',
  );
  u.record('ns/Deployment/a', 's@v2', '2026-12-06T06:00:00.000Z');
  u.forget('ns/Deployment/a');
  assert.equal(
    u.landed('ns/Deployment/a', 's@v2', '2026-12-06T06:00:00.000Z'),
    false,
    'a later answered patch',
  );
});

test('outcome unknown: no HTTP answer or a 5xx; a 4xx is a refusal', () => {
  assert.equal(outcomeUnknown(new Error('socket hang up')), true);
  assert.equal(outcomeUnknown(Object.assign(new Error('x'), { code: 503 })), true);
  assert.equal(outcomeUnknown(Object.assign(new Error('x'), { code: 500 })), true);
  assert.equal(outcomeUnknown(Object.assign(new Error('x'), { code: 403 })), false);
  assert.equal(outcomeUnknown(Object.assign(new Error('x'), { code: 429 })), false);
});
