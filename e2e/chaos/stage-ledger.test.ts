import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StageLedger } from './stage-ledger.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const staged = (): StageLedger => {
  const l = new StageLedger();
  l.track('h/m', {
    secret: 's',
    workloads: ['h/D/a', 'h/D/b', 'h/D/c', 'h/D/d'],
    stageSize: 2,
    pauseMs: 2000,
  });
  return l;
};

test('stage ledger: stage 2 after stage 1 Complete plus its pause passes; before the pause ends it is early', () => {
  const l = staged();
  l.saw('h/D/a', 's@v1', iso(1000));
  l.saw('h/D/b', 's@v1', iso(1000));
  l.status(
    'h/m',
    {
      versionId: 'v1',
      stage: 2,
      stages: 2,
      state: 'Paused',
      progress: '1/2',
      completedStage: 1,
      completedAt: iso(5000),
    },
    5100,
  );
  l.saw('h/D/c', 's@v1', iso(7000));
  assert.deepEqual(l.verdict().early, []);
  l.saw('h/D/d', 's@v1', iso(6500));
  const v = l.verdict();
  assert.equal(v.restarts, 4);
  assert.deepEqual(v.early, ['h/D/d (stage 2) for v1 500 ms early']);
});

test('stage ledger: a stage started with the previous one never Complete, or after a halt, is reported', () => {
  const l = staged();
  l.saw('h/D/c', 's@v2', iso(1000));
  assert.match(l.verdict().early[0], /stage 1 never Complete/);
  const h = staged();
  h.saw('h/D/a', 's@v3', iso(1000));
  h.status('h/m', { versionId: 'v3', stage: 1, stages: 2, state: 'Halted', progress: '1/2 Halted' }, 2000);
  h.status(
    'h/m',
    {
      versionId: 'v3',
      stage: 2,
      stages: 2,
      state: 'Progressing',
      progress: '2/2',
      completedStage: 1,
      completedAt: iso(500),
    },
    2500,
  );
  h.saw('h/D/c', 's@v3', iso(3000));
  // Another secret's stamp on a listed workload is not this mapping's.
  h.saw('h/D/d', 'other@v3', iso(3000));
  const v = h.verdict();
  assert.equal(v.halts, 1);
  assert.deepEqual(v.afterHalt, ['h/D/c (stage 2) for v3 after the halt at stage 1']);
  assert.deepEqual(v.early, []);
});
