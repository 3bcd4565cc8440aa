import assert from 'node:assert/strict';
import { test } from 'node:test';
import { latencyVerdict, rssVerdict } from './health.js';

const samples = (ms: number[], from = 0): { start: number; end: number }[] =>
  ms.map((d, i) => ({ start: from + i * 10_000, end: from + i * 10_000 + d }));

test('chaos health: p99 within a second of the floor passes; past it, or a restart never seen, fails', () => {
  const floor = samples([20, 25, 30, 40]);
  assert.equal(latencyVerdict(samples([30, 40, 50, 1000]), floor, []).ok, true);
  const slow = latencyVerdict(samples([30, 40, 50, 1100]), floor, []);
  assert.equal(slow.ok, false);
  assert.equal(slow.overMs, 1060);
  const lost = samples([30, 40, 50]).concat([{ start: 30_000, end: Infinity }]);
  assert.equal(latencyVerdict(lost, floor, []).ok, false);
  // The same slow sample during an API server restart is not the healthy tenant's to answer for.
  const v = latencyVerdict(samples([30, 40, 50, 5000]), floor, [{ from: 29_000, to: 31_000 }]);
  assert.equal(v.ok, true);
  assert.deepEqual([v.healthy.kept, v.healthy.taken], [3, 4]);
  assert.equal(latencyVerdict([], floor, []).ok, false, 'no sample proves nothing');
});

test('chaos health: RSS at the end more than 10 % over warm-up fails; a short-lived process is not judged', () => {
  const run = (end: number, until = 130_000): [number, number][] =>
    Array.from({ length: until / 500 }, (_, i) => [i * 500, i * 500 < 100_000 ? 100 : end]);
  const v = rssVerdict([
    { label: 'flat', samples: run(105) },
    { label: 'leaky', samples: run(115) },
    { label: 'young', samples: run(300, 85_000) },
  ]);
  assert.equal(v.checked, 2);
  assert.deepEqual(v.grown, ['leaky: 100.0 → 115.0 MiB']);
  assert.ok(Math.abs(v.worstGrowth - 0.15) < 1e-9);
});
