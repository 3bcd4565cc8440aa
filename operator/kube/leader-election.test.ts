import assert from 'node:assert/strict';
import { test } from 'node:test';
import { claim, mayTake, observe } from './leader-election.js';

const T = 1_000_000;

test('observe stamps our clock only when the holder or its renewTime changed', () => {
  const first = observe(undefined, { holderIdentity: 'a', renewTime: new Date(5) }, T);
  assert.equal(first.at, T);
  assert.equal(observe(first, { holderIdentity: 'a', renewTime: new Date(5) }, T + 9000), first, 'unchanged');
  assert.equal(
    observe(first, { holderIdentity: 'a', renewTime: new Date(6) }, T + 9000).at,
    T + 9000,
    'renewed',
  );
  assert.equal(
    observe(first, { holderIdentity: 'b', renewTime: new Date(5) }, T + 9000).at,
    T + 9000,
    'new holder',
  );
});

test('mayTake: free or ours at once; another holder only after leaseDuration on our clock', () => {
  const spec = { holderIdentity: 'other', leaseDurationSeconds: 15 };
  const seen = { holder: 'other', renewTime: 'x', at: T };
  assert.equal(mayTake({}, seen, 'me', T), true, 'free');
  assert.equal(mayTake({ holderIdentity: 'me', leaseDurationSeconds: 15 }, seen, 'me', T), true, 'ours');
  assert.equal(mayTake(spec, seen, 'me', T + 14_999), false, 'holder still within its lease');
  assert.equal(mayTake(spec, seen, 'me', T + 15_000), true, 'holder silent for leaseDuration');
});

test('claim: a renewal keeps acquireTime and transitions, a takeover counts one', () => {
  const held = { holderIdentity: 'me', acquireTime: new Date(1), leaseTransitions: 3 };
  const renewed = claim(held, 'me', T, 15);
  assert.equal(renewed.leaseTransitions, 3);
  assert.equal(renewed.acquireTime, held.acquireTime);
  assert.equal(new Date(renewed.renewTime ?? 0).getTime(), T);
  const taken = claim({ ...held, holderIdentity: 'other' }, 'me', T, 15);
  assert.equal(taken.holderIdentity, 'me');
  assert.equal(taken.leaseTransitions, 4);
  assert.equal(new Date(taken.acquireTime ?? 0).getTime(), T);
  assert.equal(taken.leaseDurationSeconds, 15);
});
