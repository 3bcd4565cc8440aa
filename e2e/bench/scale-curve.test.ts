import assert from 'node:assert/strict';
import test from 'node:test';
import type { ScaleResult } from './scale.js';
import { scaleCurve } from './scale-curve.js';
import { scaleCurveSvg } from './svg-figures.js';

/** A scale phase's result with only what the curve reads filled in. */
const run = (mappings: number, coldReadyMs: number, limited: boolean): ScaleResult =>
  ({
    mappings,
    coldReadyMs,
    floor: { ms: coldReadyMs / 1.2 },
    leaderChangeMs: mappings / 2,
    coldRssMiB: 100 + mappings / 100,
    followerRssMiB: 80 + mappings / 100,
    idle: { rssMiB: 85 + mappings / 100 },
    coldCgroup: limited ? { limitMiB: 256, peakMiB: 90 + mappings / 100 } : undefined,
  }) as ScaleResult;

test('scaleCurve: a point per run in mapping order, times in Ms and memory in MiB', () => {
  const curve = scaleCurve([run(5000, 60_000, true), run(1000, 12_000, false)]);
  assert.deepEqual(curve, [
    {
      mappings: 1000,
      coldReadyMs: 12_000,
      writeFloorMs: 10_000,
      leaderChangeMs: 500,
      coldRssMiB: 110,
      idleRssMiB: 95,
      followerRssMiB: 90,
    },
    {
      mappings: 5000,
      coldReadyMs: 60_000,
      writeFloorMs: 50_000,
      leaderChangeMs: 2500,
      coldRssMiB: 150,
      idleRssMiB: 135,
      followerRssMiB: 130,
      coldCgroupPeakMiB: 140,
      memoryLimitMiB: 256,
    },
  ]);
  const svg = scaleCurveSvg(curve);
  for (const name of [
    'cold ready',
    'write floor',
    'leader change',
    'cold rss',
    'idle rss',
    'cold cgroup peak',
    'memory limit',
  ])
    assert.match(svg, new RegExp(`>${name}<`));
});
