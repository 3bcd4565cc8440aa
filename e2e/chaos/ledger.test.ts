import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ledger } from './ledger.js';

test("chaos ledger: a workload on its secret's current version is not missing; one left behind is", () => {
  const l = new Ledger();
  l.rotated('s', 'v1');
  l.rotated('s', 'v2');
  l.rotated('s', 'v3');
  l.saw('ns/Deployment/a', 's@v3', 't1');
  l.saw('ns/Deployment/b', 's@v2', 't1');
  const v = l.verdict(
    new Map([
      ['ns/Deployment/a', 's'],
      ['ns/Deployment/b', 's'],
    ]),
    new Map([
      ['ns/Deployment/a', 's@v3'],
      ['ns/Deployment/b', 's@v2'],
    ]),
  );
  assert.deepEqual(v, {
    expected: 2,
    made: 2,
    missing: ['ns/Deployment/b'],
    duplicated: [],
    outOfOrder: 0,
    stale: [],
  });
});

test('chaos ledger: the same version applied twice is a duplicate; seeing one restart twice is not', () => {
  const l = new Ledger();
  l.rotated('s', 'v1');
  l.rotated('s', 'v2');
  l.saw('w', 's@v2', 't1');
  l.saw('w', 's@v2', 't1');
  assert.deepEqual(l.verdict(new Map(), new Map()).duplicated, []);
  l.saw('w', 's@v2', 't2');
  assert.deepEqual(l.verdict(new Map(), new Map()).duplicated, ['w s@v2 ×2']);
});

test('chaos ledger: a restart back to an older version is counted; a secret that never rotated expects nothing', () => {
  const l = new Ledger();
  l.rotated('s', 'v1');
  l.rotated('s', 'v2');
  l.rotated('s', 'v3');
  l.rotated('quiet', 'q1');
  l.saw('w', 's@v3', 't1');
  l.saw('w', 's@v2', 't2');
  const v = l.verdict(new Map([['x', 'quiet']]), new Map([['x', undefined]]));
  assert.equal(v.outOfOrder, 1);
  assert.equal(v.expected, 0);
  assert.deepEqual(v.missing, []);
});

test('chaos ledger: a restart for a version long replaced, or never current, is stale; one racing a rotation is not', () => {
  const l = new Ledger(15_000);
  l.rotated('s', 'v1', 1000, 1100);
  l.rotated('s', 'v2', 60_000, 60_100);
  const iso = (ms: number): string => new Date(ms).toISOString();
  l.saw('a', 's@v1', iso(2000));
  l.saw('b', 's@v1', iso(70_000)); // a pass that read v1 just before v2: a race, not a defect
  l.saw('c', 's@v1', iso(80_000)); // 20 s after v2 replaced it
  l.saw('d', 's@v9', iso(3000));
  l.saw('e', 's@v2', iso(50_000)); // before v2 was written
  l.saw('f', 'other@x', iso(3000)); // a secret the run does not rotate
  const stale = l.verdict(new Map(), new Map()).stale;
  assert.equal(stale.length, 3, stale.join('\n'));
  assert.match(stale[0], /^c s@v1 .*20 s after v2/);
  assert.match(stale[1], /^d s@v9 .*never AWSCURRENT/);
  assert.match(stale[2], /^e s@v2 .*before it became AWSCURRENT/);
});
