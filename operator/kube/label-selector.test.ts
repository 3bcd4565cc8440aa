import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEmptySelector, matchesSelector, selectorProblems, selectorToString } from './label-selector.js';
import { parseDuration } from '../runtime/duration.js';

test('selectorToString renders every operator the API knows', () => {
  assert.equal(
    selectorToString({
      matchLabels: { app: 'web', tier: 'front' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['a', 'b'] },
        { key: 'x', operator: 'NotIn', values: ['c'] },
        { key: 'y', operator: 'Exists' },
        { key: 'z', operator: 'DoesNotExist' },
      ],
    }),
    'app=web,tier=front,env in (a,b),x notin (c),y,!z',
  );
});

test('an absent or requirement-free selector is empty', () => {
  assert.equal(isEmptySelector(undefined), true);
  assert.equal(isEmptySelector({}), true);
  assert.equal(isEmptySelector({ matchLabels: {}, matchExpressions: [] }), true);
  assert.equal(isEmptySelector({ matchLabels: { a: 'b' } }), false);
});

test('selectorProblems names keys and values the API server would reject', () => {
  assert.deepEqual(selectorProblems({ matchLabels: { 'example.com/app': 'web-1' } }), []);
  assert.deepEqual(selectorProblems({ matchLabels: { 'bad key': 'v' } }), ['invalid label key "bad key"']);
  assert.deepEqual(selectorProblems({ matchLabels: { k: '-v' } }), ['invalid label value "-v" for key "k"']);
  assert.deepEqual(
    selectorProblems({ matchExpressions: [{ key: 'Bad_Prefix.com/a', operator: 'Exists' }] }),
    ['invalid label key "Bad_Prefix.com/a"'],
  );
});

test('parseDuration reads Go-style durations and refuses the rest', () => {
  assert.equal(parseDuration('0s'), 0);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('90s'), 90_000);
  assert.throws(() => parseDuration('5'), /invalid duration "5"/);
  assert.throws(() => parseDuration('1.5s'), /invalid duration/);
  assert.throws(() => parseDuration(''), /invalid duration/);
});

test('matchesSelector follows the API server for every operator', () => {
  const labels = { app: 'web', env: 'prod' };
  const cases: [Parameters<typeof matchesSelector>[0], boolean][] = [
    [{ matchLabels: { app: 'web' } }, true],
    [{ matchLabels: { app: 'db' } }, false],
    [{ matchLabels: { app: 'web', tier: 'x' } }, false],
    [{ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }] }, true],
    [{ matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] }, false],
    [{ matchExpressions: [{ key: 'missing', operator: 'In', values: ['x'] }] }, false],
    [{ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] }, true],
    [{ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, false],
    [{ matchExpressions: [{ key: 'missing', operator: 'NotIn', values: ['x'] }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    [{ matchExpressions: [{ key: 'missing', operator: 'Exists' }] }, false],
    [{ matchExpressions: [{ key: 'missing', operator: 'DoesNotExist' }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    [{ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'Exists' }] }, true],
  ];
  for (const [selector, want] of cases)
    assert.equal(matchesSelector(selector, labels), want, JSON.stringify(selector));
});

test('a label key with two slashes is invalid, as the API server says', () => {
  assert.deepEqual(selectorProblems({ matchLabels: { 'a/b/c': 'x' } }), ['invalid label key "a/b/c"']);
  assert.deepEqual(selectorProblems({ matchExpressions: [{ key: 'ex.io/a/b', operator: 'Exists' }] }), [
    'invalid label key "ex.io/a/b"',
  ]);
  assert.deepEqual(selectorProblems({ matchLabels: { 'example.com/app': 'x' } }), []);
});
