import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAULT_KINDS } from './chaos/faults.js';
import { failures, formatReport, runChaos } from './chaos/run.js';

// The short fixed-seed chaos run (`npm run chaos` runs longer ones): every fault kind at least once,
// then every invariant of the ledgers checked (report.ts).
test(
  'chaos, seed 1: every fault kind once, every invariant of the ledgers holds',
  { timeout: 600_000 },
  async () => {
    const report = await runChaos({
      seed: 1,
      durationMs: 60_000,
      secrets: 3,
      rotateEveryMs: 1000,
      faultEveryMs: 4000,
    });
    console.log(formatReport(report));
    for (const kind of FAULT_KINDS) assert.ok((report.faults[kind] ?? 0) >= 1, `fault ${kind} injected`);
    assert.ok(report.rotations >= 30, `${report.rotations} rotations`);
    assert.ok(report.restarts.made >= report.restarts.expected);
    assert.deepEqual(failures(report), []);
  },
);
