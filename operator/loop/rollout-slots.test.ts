import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RolloutSlots } from './rollout-slots.js';

test('RolloutSlots: one namespace never takes every slot; the others still get theirs', () => {
  const slots = new RolloutSlots(4, () => {}, 2);
  assert.equal(slots.acquire('tenant/Deployment/a', 'tenant/m1'), true);
  assert.equal(slots.acquire('tenant/Deployment/b', 'tenant/m2'), true);
  assert.equal(slots.acquire('tenant/Deployment/c', 'tenant/m3'), false, 'past its namespace share');
  assert.equal(slots.acquire('tenant/Deployment/a', 'tenant/m1'), true, 'a held slot stays held');
  assert.equal(slots.acquire('other/Deployment/x', 'other/m'), true);
  assert.equal(slots.acquire('third/Deployment/y', 'third/m'), true);
  assert.equal(slots.acquire('fourth/Deployment/z', 'fourth/m'), false, 'the global cap still holds');
});

test('RolloutSlots: a namespace refused its share is woken when one of its own slots frees', () => {
  const woken: string[][] = [];
  const slots = new RolloutSlots(10, (m) => woken.push(m), 1);
  assert.equal(slots.acquire('t/Deployment/a', 't/m1'), true);
  assert.equal(slots.acquire('t/Deployment/b', 't/m2'), false);
  slots.release('t/Deployment/a');
  assert.deepEqual(woken, [['t/m2']]);
  assert.equal(slots.acquire('t/Deployment/b', 't/m2'), true);
});

test('RolloutSlots: seeded search — no namespace ever holds more than its share through acquire', () => {
  let seed = 29;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let run = 0; run < 200; run++) {
    const max = 1 + rnd(8);
    const share = 1 + rnd(max);
    const slots = new RolloutSlots(max, () => {}, share);
    const held = new Map<string, string>();
    for (let step = 0; step < 100; step++) {
      const ns = `ns${rnd(3)}`;
      const w = `${ns}/Deployment/w${rnd(5)}`;
      if (rnd(3) === 0) {
        slots.release(w);
        held.delete(w);
      } else if (slots.acquire(w, `${ns}/m`)) held.set(w, ns);
      const per = new Map<string, number>();
      for (const n of held.values()) per.set(n, (per.get(n) ?? 0) + 1);
      for (const [n, c] of per) assert.ok(c <= share, `run ${run} step ${step}: ${n} holds ${c} > ${share}`);
      assert.ok(held.size <= max, `run ${run}: ${held.size} > ${max}`);
      assert.equal(slots.size, held.size, `run ${run} step ${step}`);
    }
  }
});

test('RolloutSlots: rollouts a pass found (not started through acquire) take a slot only within the caps', () => {
  const slots = new RolloutSlots(3, () => {}, 2);
  // A tenant stamps its own templates for the current version: the passes follow those rollouts…
  slots.holdOnly('t/m', new Set(['t/Deployment/a', 't/Deployment/b', 't/Deployment/c', 't/Deployment/d']), {
    capped: true,
  });
  // …but they hold no more than the namespace's share, and leave the rest of the cluster its slots.
  assert.equal(slots.size, 2);
  assert.equal(slots.acquire('other/Deployment/x', 'other/m'), true);
  // At term start the rollouts status records are restored whatever the caps (they are running).
  const restored = new RolloutSlots(1, () => {}, 1);
  restored.holdOnly('t/m', new Set(['t/Deployment/a', 't/Deployment/b']));
  assert.equal(restored.size, 2);
});
