import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PendingSignals, type RotationSignal } from './signals.js';
import { currentVersionOf } from '../aws/secret-versions.js';
import { MappingIndex } from '../aws/mapping-index.js';

const sig = (observedAt: number): RotationSignal => ({
  secretArn: 'arn',
  versionId: 'v',
  observedAt,
  reason: 'test',
});

test('a signal settles only when a pass saw information at least as recent', async () => {
  const p = new PendingSignals();
  const settled: number[] = [];
  void p.add('ns/a', sig(100)).then(() => settled.push(100));
  void p.add('ns/a', sig(200)).then(() => settled.push(200));
  void p.add('ns/b', sig(50)).then(() => settled.push(50));
  assert.equal(p.settle('ns/a', 150), 1);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(settled, [100]);
  assert.equal(p.size, 2);
  p.forget('ns/a');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(settled, [100, 200]);
  assert.equal(p.size, 1, 'other keys untouched');
});

test('currentVersionOf picks the version labelled AWSCURRENT', () => {
  assert.equal(currentVersionOf({ a: ['AWSPREVIOUS'], b: ['AWSCURRENT', 'x'], c: ['AWSPENDING'] }), 'b');
  assert.equal(currentVersionOf({ a: ['AWSPENDING'] }), undefined);
  assert.equal(currentVersionOf(undefined), undefined);
});

test('the mapping index matches by ARN only', () => {
  const i = new MappingIndex();
  i.set('ns/a', 'arn:1');
  i.set('ns/b', 'arn:1');
  i.set('ns/c', 'arn:2');
  assert.deepEqual(i.keysFor('arn:1').sort(), ['ns/a', 'ns/b']);
  i.delete('ns/a');
  assert.deepEqual(i.keysFor('arn:1'), ['ns/b']);
  assert.deepEqual(i.keysFor('name-not-arn'), []);
});
