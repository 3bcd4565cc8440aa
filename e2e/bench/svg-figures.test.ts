import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LatencyResult } from './latency.js';
import { wellFormed } from './svg-check.js';
import { latencySvg, memorySvg, scaleCurveSvg } from './svg-figures.js';

const p = (p50: number, n = 100): LatencyResult['rates'][number]['operator'] => ({
  n,
  p50,
  p95: p50 * 2,
  p99: p50 * 3,
  max: p50 * 4,
});

const latency = (withQuantiles: boolean): LatencyResult => ({
  rates: [1, 10, 10].map((rate) => ({
    rate,
    operator: p(20),
    floor: p(18),
    floorParts: { wake: 1, describe: 5, patch: 10 },
    missed: { operator: 0, floor: 0 },
    superseded: 0,
    ...(withQuantiles
      ? {
          quantiles: {
            operator: Array.from({ length: 101 }, (_, i) => 10 + i),
            floor: Array.from({ length: 101 }, (_, i) => 9 + i),
          },
        }
      : {}),
  })),
  patchCost: { adminMs: 5, serviceAccountMs: 6, n: 10 },
  restartRateLimit: 10000,
  idleRssMiB: 90,
  peakRssMiB: 110,
  mappings: 50,
});

const polylines = (svg: string): string[][] =>
  [...svg.matchAll(/<polyline[^>]*points="([^"]+)"/g)].map((m) => m[1].split(' '));

test('latencySvg: a panel per rate run, ours and the floor in each; repeated rates numbered', () => {
  const svg = latencySvg(latency(false));
  wellFormed(svg);
  assert.equal([...svg.matchAll(/<svg x=/g)].length, 3);
  assert.equal(polylines(svg).length, 6);
  assert.match(svg, /10 rotations\/s, run 2: p99 60 vs 54 ms/);
  assert.match(svg, />ours \(n=100\)</);
  // p50, p95, p99, max as a staircase: 4 points, 7 vertices.
  assert.equal(polylines(svg)[0].length, 7);
  const full = latencySvg(latency(true));
  assert.equal(polylines(full)[0].length, 201, 'every percentile when the run kept them');
});

test('memorySvg: the series and a marker per phase', () => {
  const svg = memorySvg({
    everyMs: 1000,
    samples: [
      [0, 40],
      [1, 80],
      [2, 95],
    ],
    marks: [
      { seconds: 1, label: '1/s' },
      { seconds: 2, label: '50/s' },
    ],
  });
  wellFormed(svg);
  assert.equal(polylines(svg).length, 1);
  assert.equal([...svg.matchAll(/<g class="marker">/g)].length, 2);
  assert.match(svg, /sampled every 1 s/);
});

test('scaleCurveSvg: …Ms fields as seconds, …MiB fields as memory, against the mapping count', () => {
  const svg = scaleCurveSvg([
    { mappings: 5000, coldReadyMs: 30_000, leaderChangeMs: 2000, coldRssMiB: 150 },
    { mappings: 1000, coldReadyMs: 6000, leaderChangeMs: 900, coldRssMiB: 100 },
    { mappings: 20000, coldReadyMs: 120_000, coldRssMiB: 300 },
  ]);
  wellFormed(svg);
  assert.match(svg, />cold ready</);
  assert.match(svg, />leader change</);
  assert.match(svg, />cold rss</);
  const lines = polylines(svg);
  assert.deepEqual(
    lines.map((l) => l.length),
    [3, 2, 3],
    'a point per mapping count that measured it',
  );
  const xs = lines[0].map((pt) => Number(pt.split(',')[0]));
  assert.deepEqual(
    [...xs].sort((a, b) => a - b),
    xs,
    'in mapping order',
  );
});
