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
  assert.deepEqual(v, { expected: 2, made: 2, missing: ['ns/Deployment/b'], duplicated: [], outOfOrder: 0 });
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
