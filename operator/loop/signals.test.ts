import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PendingSignals, type RotationSignal } from './signals.js';

const sig = (observedAt: number): RotationSignal => ({ observedAt });

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
