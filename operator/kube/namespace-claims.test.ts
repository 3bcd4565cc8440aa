import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NamespaceClaims } from './namespace-claims.js';

test('a namespace watches the union of its claims: a kind goes with the last mapping needing it', () => {
  const c = new NamespaceClaims<'D' | 'S' | 'R'>();
  assert.deepEqual(c.set('x/a', 'x', ['D']), ['D']);
  assert.deepEqual(c.set('x/b', 'x', ['S', 'D'])?.sort(), ['D', 'S']);
  assert.deepEqual(c.set('y/a', 'y', ['R']), ['R']);
  assert.equal(c.namespaces, 2);
  // b goes: StatefulSets are no longer needed in x, Deployments still are (a).
  assert.deepEqual(c.set('x/b', 'x', undefined), ['D']);
  // a changes its kinds: the old ones are counted out.
  assert.deepEqual(c.set('x/a', 'x', ['S']), ['S']);
  assert.equal(c.holds('x/a'), true);
  assert.equal(c.set('x/a', 'x', undefined), undefined, 'no claim left: release the namespace');
  assert.equal(c.holds('x/a'), false);
  assert.equal(c.namespaces, 1);
  assert.deepEqual(c.kindsOf('y'), ['R']);
});

test('a claim with no kind still holds the namespace (its consumers); a repeated claim counts once', () => {
  const c = new NamespaceClaims<'D'>();
  assert.deepEqual(c.set('x/a', 'x', []), []);
  assert.deepEqual(c.set('x/b', 'x', ['D', 'D']), ['D']);
  assert.deepEqual(c.set('x/b', 'x', ['D']), ['D'], 'set again: replaced, not added');
  assert.deepEqual(c.set('x/b', 'x', undefined), []);
  assert.equal(c.set('x/a', 'x', undefined), undefined);
  assert.equal(c.set('x/never', 'x', undefined), undefined, 'forgetting an unknown key changes nothing');
  assert.equal(c.namespaces, 0);
});
