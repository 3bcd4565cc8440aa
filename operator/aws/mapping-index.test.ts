import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MappingIndex } from './mapping-index.js';

test('the mapping index matches by ARN only', () => {
  const i = new MappingIndex();
  i.set('ns/a', 'arn:1');
  i.set('ns/b', 'arn:1');
  i.set('ns/c', 'arn:2');
  assert.deepEqual(i.keysFor('arn:1').sort(), ['ns/a', 'ns/b']);
  i.delete('ns/a');
  assert.deepEqual(i.keysFor('arn:1'), ['ns/b']);
  assert.deepEqual(i.keysFor('name-not-arn'), []);
  i.set('ns/b', 'arn:2');
  assert.deepEqual(i.keysFor('arn:1'), [], 'a mapping moved to another secret leaves the old one');
  assert.deepEqual([...i.arns()], ['arn:2']);
});

test('mappings still resolving their secret are counted until resolved or deleted', async () => {
  const i = new MappingIndex();
  assert.equal(await i.resolved(10), true, 'nothing pending');
  i.resolving('ns/a');
  i.resolving('ns/b');
  assert.equal(i.unresolved, 2);
  assert.equal(await i.resolved(10), false, 'times out while pending');
  const waiting = i.resolved(5000);
  i.set('ns/a', 'arn:1');
  i.delete('ns/b');
  assert.equal(await waiting, true, 'woken when the last one settles');
  assert.equal(i.unresolved, 0);
  assert.deepEqual(i.keysFor('arn:1'), ['ns/a']);
});
