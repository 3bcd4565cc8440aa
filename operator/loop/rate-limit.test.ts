import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucket } from './rate-limit.js';

test('the bucket lets a burst through, then one token per 1/rate seconds', () => {
  let now = 0;
  const b = new TokenBucket(5, 5, () => now);
  assert.deepEqual(
    [1, 2, 3, 4, 5].map(() => b.take()),
    [0, 0, 0, 0, 0],
  );
  assert.equal(b.take(), 200, 'empty: next token in 200 ms');
  now += 100;
  assert.equal(b.take(), 100);
  now += 100;
  assert.equal(b.take(), 0);
  now += 10_000;
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map(() => b.take() === 0),
    [true, true, true, true, true, false],
    'never more than the burst',
  );
});

test('rollout slots cap rollouts in progress and are released per workload or per mapping', async () => {
  const { RolloutSlots } = await import('./rollout-slots.js');
  const s = new RolloutSlots(2);
  assert.equal(s.acquire('ns/Deployment/a', 'ns/m1'), true);
  assert.equal(s.acquire('ns/Deployment/b', 'ns/m1'), true);
  assert.equal(s.acquire('ns/Deployment/c', 'ns/m2'), false, 'cap reached');
  assert.equal(s.acquire('ns/Deployment/a', 'ns/m1'), true, 'a holder keeps its slot');
  s.release('ns/Deployment/a');
  assert.equal(s.acquire('ns/Deployment/c', 'ns/m2'), true);
  s.releaseMapping('ns/m1');
  assert.equal(s.size, 1);
});

test('rollout slots after a pass: held for exactly the rollouts the mapping follows; a freed one wakes waiters', async () => {
  const { RolloutSlots } = await import('./rollout-slots.js');
  const woken: string[][] = [];
  const s = new RolloutSlots(1, (m) => woken.push(m));
  assert.equal(s.acquire('ns/StatefulSet/a', 'ns/m1'), true);
  assert.equal(s.acquire('ns/Deployment/b', 'ns/m2'), false);
  s.holdOnly('ns/m1', new Set(['ns/StatefulSet/a']));
  assert.deepEqual(woken, [], 'still rolling: nothing freed');
  s.holdOnly('ns/m1', new Set());
  assert.deepEqual(woken, [['ns/m2']], 'rollout ended or workload gone: the waiting mapping is woken');
  assert.equal(s.acquire('ns/Deployment/b', 'ns/m2'), true);
  s.holdOnly('ns/m1', new Set(['ns/StatefulSet/a']));
  assert.equal(s.size, 2, 'a rollout found in progress is recorded past the cap');
});
