import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countsOf, failed, recordedDurations, summary, type FileResult } from './shard-report.js';

const SPEC_TAIL = `✔ a test (12.5ms)
ℹ tests 3
ℹ suites 0
ℹ pass 1
ℹ fail 1
ℹ cancelled 0
ℹ skipped 1
ℹ todo 0
ℹ duration_ms 1234.5
`;

const result = (file: string, seconds: number, over: Partial<FileResult> = {}): FileResult => ({
  file,
  shard: 1,
  seconds,
  code: 0,
  counts: { tests: 1, pass: 1, fail: 0, skipped: 0, cancelled: 0 },
  ...over,
});

test('counts come from the spec reporter’s closing lines; a test’s own “ℹ” output does not count', () => {
  assert.deepEqual(countsOf(`ℹ tests 99 in a log line\n${SPEC_TAIL}`), {
    tests: 3,
    pass: 1,
    fail: 1,
    skipped: 1,
    cancelled: 0,
  });
  assert.deepEqual(countsOf('node: bad option'), { tests: 0, pass: 0, fail: 0, skipped: 0, cancelled: 0 });
});

test('a file failed by its exit code even when it printed no failure (a crash, a kill)', () => {
  assert.equal(failed(result('a.test.js', 1)), false);
  assert.equal(failed(result('a.test.js', 1, { code: 1 })), true);
  assert.equal(failed(result('a.test.js', 1, { code: null })), true);
  assert.equal(failed(result('a.test.js', 1, { counts: { ...result('', 0).counts, cancelled: 1 } })), true);
});

test('the summary totals the files, each environment’s share, the slowest, what failed and never ran', () => {
  const lines = summary(
    [result('a.test.js', 100), result('b.test.js', 50, { shard: 2, code: 1 })],
    ['c.test.js'],
    130,
    [
      { shard: 1, upSeconds: 5 },
      { shard: 2, upSeconds: 20 },
    ],
  );
  assert.match(lines[0] ?? '', /2 files on 2 environment\(s\) in 130 s: 2 tests, 2 passed, 0 failed/);
  assert.match(lines[1] ?? '', /shard 1: up in 5 s, 1 files, 100 s of tests/);
  assert.match(lines[2] ?? '', /shard 2: up in 20 s, 1 files, 50 s of tests/);
  assert.match(lines[3] ?? '', /slowest: a.test.js 100 s, b.test.js 50 s/);
  assert.ok(lines.includes('[e2e] FAILED: b.test.js'));
  assert.ok(lines.includes('[e2e] NOT RUN: c.test.js'));
});

test('recorded durations: this run’s whole seconds (at least 1) over the old table, keys sorted', () => {
  const next = recordedDurations({ 'z.test.js': 7, 'b.test.js': 9 }, [
    result('b.test.js', 41.6),
    result('a.test.js', 0.2),
  ]);
  assert.deepEqual(Object.entries(next), [
    ['a.test.js', 1],
    ['b.test.js', 42],
    ['z.test.js', 7],
  ]);
});

test('recorded durations: a failed file keeps its old time (it may have stopped early or hung)', () => {
  const failing = { tests: 1, pass: 0, fail: 1, skipped: 0, cancelled: 0 };
  const next = recordedDurations({ 'b.test.js': 9 }, [
    result('b.test.js', 600, { code: 1, counts: failing }),
    result('c.test.js', 3, { code: 1, counts: failing }),
  ]);
  assert.deepEqual(next, { 'b.test.js': 9 });
});
