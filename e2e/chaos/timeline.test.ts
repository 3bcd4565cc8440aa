import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wellFormed } from '../bench/svg-check.js';
import { bin, binFor, buildTimeline } from './timeline.js';
import { chaosTimelineSvg } from './timeline-svg.js';

const T0 = Date.parse('2026-12-06T10:00:00Z');
const at = (s: number): number => T0 + s * 1000;

test('bin: counts per bin from the start; times before it or past the end are dropped', () => {
  assert.deepEqual(bin([at(-1), at(0), at(0.9), at(1), at(2.5), at(3.1)], T0, 3, 1), [2, 1, 1]);
  assert.deepEqual(bin([], T0, 0, 1), [0]);
});

test('binFor: a round width, at most ~150 bins', () => {
  assert.equal(binFor(60), 1);
  assert.equal(binFor(300), 2);
  assert.equal(binFor(1800), 15);
  assert.equal(binFor(36_000), 300);
});

test('buildTimeline: seconds from the start, set-up events at 0, rotations and restarts binned', () => {
  const t = buildTimeline({
    startedAt: T0,
    faultsEndedAt: at(100),
    endedAt: at(150),
    faults: [
      { kind: 'leader-kill', from: at(10), to: at(12.34) },
      { kind: 'aws-freeze', from: at(20), to: at(25), failed: true },
    ],
    replicas: [
      { at: at(-30), replica: 0, event: 'start' },
      { at: at(11), replica: 0, event: 'exit' },
      { at: at(12), replica: 0, event: 'start' },
    ],
    rotationTimes: [0, at(-5), at(1), at(1.5), at(149)],
    restartTimes: [at(2), at(2.2)],
  });
  assert.equal(t.seconds, 150);
  assert.equal(t.faultsEndedAt, 100);
  assert.equal(t.binSeconds, 1);
  assert.deepEqual(t.faults[0], { kind: 'leader-kill', from: 10, to: 12.3 });
  assert.equal(t.faults[1].failed, true);
  assert.deepEqual(
    t.replicas.map((r) => r.at),
    [0, 11, 12],
  );
  assert.equal(t.rotations.length, 150);
  assert.equal(t.rotations[1], 2);
  assert.equal(t.rotations[149], 1);
  assert.equal(
    t.rotations.reduce((a, b) => a + b, 0),
    3,
    'the set-up’s versions are not rotations of the run',
  );
  assert.equal(t.restarts[2], 2);

  const svg = chaosTimelineSvg(t, 'seed 1');
  wellFormed(svg);
  // Two fault lanes, one replica lane, rotations, restarts.
  assert.equal([...svg.matchAll(/<g class="lane">/g)].length, 5);
  assert.equal([...svg.matchAll(/class="span"/g)].length, 1, 'a failed fault is no span');
  assert.match(svg, /not injected/);
  assert.equal(
    [...svg.matchAll(/<title>crash<\/title>|<title>exit<\/title>|<title>start<\/title>/g)].length,
    3,
  );
  assert.match(svg, /faults end/);
});
