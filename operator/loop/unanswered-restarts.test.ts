import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outcomeUnknown, UnansweredRestarts } from './unanswered-restarts.js';

const A = 'ns/m|ns/Deployment/a';
const AT = '2026-12-06T06:00:00.000Z';

test('an unanswered restart is recognised once, by its exact stamp and restartedAt', () => {
  const u = new UnansweredRestarts();
  u.record(A, 's@v2', AT);
  assert.equal(u.settle('ns/m|ns/Deployment/b', 's@v2', AT), undefined, 'another workload');
  assert.equal(u.settle('ns/other|ns/Deployment/a', 's@v2', AT), undefined, 'another mapping');
  assert.equal(u.settle(A, 's@v2', AT), 'landed');
  assert.equal(u.settle(A, 's@v2', AT), undefined, 'settled once');
});

test('a template stamped by someone else, or not at all, means the patch never applied; one look settles it', () => {
  const u = new UnansweredRestarts();
  u.record(A, 's@v2', AT);
  assert.equal(u.settle(A, 's@v2', '2026-12-06T06:00:01.000Z'), 'lost', 'another restartedAt');
  u.record(A, 's@v2', AT);
  assert.equal(u.settle(A, 's@v3', AT), 'lost', 'another version');
  u.record(A, 's@v2', AT);
  assert.equal(u.settle(A, 's@v2', undefined), 'lost', 'not stamped');
  assert.equal(u.settle(A, 's@v2', AT), undefined, 'forgotten after a look');
  u.record(A, 's@v2', AT);
  u.forget(A);
  assert.equal(u.settle(A, 's@v2', AT), undefined, 'a later answered patch');
});

test('outcome unknown: no HTTP answer or a 5xx; a 4xx is a refusal', () => {
  assert.equal(outcomeUnknown(new Error('socket hang up')), true);
  assert.equal(outcomeUnknown(Object.assign(new Error('reset'), { code: 'ECONNRESET' })), true);
  assert.equal(outcomeUnknown(Object.assign(new Error('x'), { code: 503 })), true);
  assert.equal(outcomeUnknown(Object.assign(new Error('x'), { code: 500 })), true);
  assert.equal(outcomeUnknown(Object.assign(new Error('x'), { code: 403 })), false);
  assert.equal(outcomeUnknown(Object.assign(new Error('x'), { code: 429 })), false);
});
