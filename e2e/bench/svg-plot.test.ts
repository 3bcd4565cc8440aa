import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cdfPoints, esc, grid, lineChart, linearTicks, logTicks } from './svg-plot.js';
import { timeline } from './svg-timeline.js';
import { wellFormed } from './svg-check.js';

const count = (svg: string, re: RegExp): number => [...svg.matchAll(re)].length;

test('lineChart: one polyline per series, a legend entry each, markers, escaped text, numbers only', () => {
  const svg = lineChart({
    title: 'RSS <over> "a run" & more',
    x: { label: 'seconds' },
    y: { label: 'MiB', min: 0 },
    series: [
      {
        name: 'ours',
        points: [
          [0, 10],
          [1, 12],
          [2, 11],
        ],
      },
      {
        name: 'floor',
        dashed: true,
        points: [
          [0, 8],
          [2, 9],
        ],
      },
    ],
    markers: [{ x: 1, label: '10/s' }],
  });
  const elements = wellFormed(svg);
  assert.equal(elements[0], 'svg');
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="640" height="360"/);
  assert.equal(count(svg, /<polyline class="series"/g), 2);
  assert.equal(count(svg, /<g class="legend">/g), 2);
  assert.equal(count(svg, /<g class="marker">/g), 1);
  assert.match(svg, /RSS &lt;over&gt; &quot;a run&quot; &amp; more/);
  assert.match(svg, /stroke-dasharray="5,3" points=/, 'the dashed series is dashed');
  // The first series' three points, all inside the plot frame.
  const points = /<polyline[^>]*points="([^"]+)"/.exec(svg)?.[1].split(' ') ?? [];
  assert.equal(points.length, 3);
  for (const p of points) {
    const [x, y] = p.split(',').map(Number);
    assert.ok(x >= 58 && x <= 624 && y >= 0 && y <= 318, `${p} inside the frame`);
  }
});

test('lineChart: a log axis drops values ≤ 0; an empty series draws nothing and breaks nothing', () => {
  const svg = lineChart({
    title: 't',
    x: { label: 'ms', log: true },
    y: { label: 'q' },
    series: [
      {
        name: 'a',
        points: [
          [0, 0.1],
          [10, 0.5],
          [1000, 1],
        ],
      },
      { name: 'empty', points: [] },
    ],
  });
  wellFormed(svg);
  assert.equal(count(svg, /<polyline/g), 1);
  assert.equal(/<polyline[^>]*points="([^"]+)"/.exec(svg)?.[1].split(' ').length, 2);
  assert.match(svg, />10</);
  assert.match(svg, />1000</);
});

test('step series are staircases: each value holds until the next x', () => {
  const svg = lineChart({
    title: 'cdf',
    x: { label: 'x', min: 0, max: 2 },
    y: { label: 'y', min: 0, max: 1 },
    series: [
      {
        name: 's',
        step: true,
        points: [
          [0, 0.5],
          [1, 0.9],
          [2, 1],
        ],
      },
    ],
  });
  const pts = (/points="([^"]+)"/.exec(svg)?.[1] ?? '').split(' ').map((p) => p.split(',').map(Number));
  assert.equal(pts.length, 5);
  assert.equal(pts[1][1], pts[0][1], 'flat first');
  assert.equal(pts[2][0], pts[1][0], 'then up');
});

test('ticks: round steps covering the range; log ticks at 1-2-5 per decade', () => {
  assert.deepEqual(linearTicks(0, 100, 5), [0, 20, 40, 60, 80, 100]);
  assert.deepEqual(linearTicks(0.1, 0.95, 4), [0.2, 0.4, 0.6, 0.8]);
  assert.deepEqual(linearTicks(3, 3), [3]);
  assert.deepEqual(logTicks(10, 1000), [10, 20, 50, 100, 200, 500, 1000]);
  assert.deepEqual(logTicks(18, 45), [20, 30, 40]);
  assert.deepEqual(logTicks(1, 1e6), [1, 10, 100, 1000, 10000, 100000, 1000000]);
});

test('cdfPoints: from samples (sorted, fraction at each) or from kept quantiles', () => {
  assert.deepEqual(cdfPoints({ samples: [30, 10, 20, 40] }), [
    [10, 0.25],
    [20, 0.5],
    [30, 0.75],
    [40, 1],
  ]);
  assert.deepEqual(
    cdfPoints({
      quantiles: [
        [0.99, 50],
        [0.5, 20],
      ],
    }),
    [
      [20, 0.5],
      [50, 0.99],
    ],
  );
});

test('grid: charts placed in rows of `columns`, the document as large as the cells', () => {
  const chart = lineChart({
    title: 'c',
    x: { label: 'x' },
    y: { label: 'y' },
    series: [],
    width: 300,
    height: 200,
  });
  const svg = grid([chart, chart, chart], 2);
  wellFormed(svg);
  assert.match(svg, /^<svg [^>]*width="600" height="400"/);
  assert.equal(count(svg, /<svg /g), 4);
  assert.match(svg, /<svg x="300" y="0" /);
  assert.match(svg, /<svg x="0" y="200" /);
});

test('timeline: a bar per span, a symbol per mark, density bins scaled to the largest, markers', () => {
  const svg = timeline({
    title: 'chaos',
    seconds: 120,
    lanes: [
      {
        name: 'leader-kill',
        spans: [
          [10, 12],
          [60, 61],
        ],
      },
      { name: 'replica 0', marks: [{ at: 11, symbol: 'cross' }, { at: 12, symbol: 'triangle' }, { at: 70 }] },
      { name: 'rotations', density: { binSeconds: 10, counts: [5, 0, 10, 2] } },
    ],
    markers: [{ at: 100, label: 'faults end' }],
    note: 'what the symbols mean',
  });
  wellFormed(svg);
  assert.equal(count(svg, /class="span"/g), 2);
  assert.equal(count(svg, /class="mark"/g), 3);
  assert.equal(count(svg, /class="bin"/g), 3, 'empty bins draw nothing');
  const heights = [...svg.matchAll(/class="bin"[^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.equal(Math.max(...heights), heights[1], 'the fullest bin is the tallest');
  assert.match(svg, /max 10\/10 s/);
  assert.equal(count(svg, /<g class="marker">/g), 1);
  assert.match(svg, /seconds from the start of the run/);
  assert.match(timeline({ title: 't', seconds: 1800, lanes: [] }), /minutes from the start/);
});

test('esc: the five XML specials', () => {
  assert.equal(esc(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});
