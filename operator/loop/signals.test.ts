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

test('a signal whose message was released (held past MESSAGE_MAX_HOLD) is withdrawn: no longer pending, never settled', async () => {
  const p = new PendingSignals();
  const withdrawn = new AbortController();
  const outcomes: string[] = [];
  const held = { observedAt: 100, withdrawn: withdrawn.signal };
  void p.add('ns/a', held).then(
    () => outcomes.push('settled'),
    () => outcomes.push('rejected'),
  );
  void p.add('ns/a', sig(100)).then(() => outcomes.push('other settled'));
  withdrawn.abort();
  assert.equal(p.size, 1, 'the withdrawn signal is dropped at once, not at the end of the term');
  p.settle('ns/a', 200);
  p.rejectAll(new Error('term ended'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(outcomes, ['other settled']);
  const late = new AbortController();
  late.abort();
  void p.add('ns/b', { observedAt: 1, withdrawn: late.signal });
  assert.equal(p.size, 0, 'already withdrawn: never added');
});
