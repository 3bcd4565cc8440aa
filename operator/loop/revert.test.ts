import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RevertRecord, StagedRolloutStatus } from '../../resources/types.js';
import type { Planned } from './restart-plan.js';
import { checkMove, decideRevert, heldWhileReverting, revertedStatus, type RevertInput } from './revert.js';

const NOW = '2026-12-06T10:00:00.000Z';
const halted: StagedRolloutStatus = {
  versionId: 'v2',
  stage: 1,
  stages: 3,
  state: 'Halted',
  progress: '1/3 Halted',
  message: 'halted at stage 1: the rollout of Deployment/a failed for version v2',
};
const secret = (current: string, pending: string[] = []) => ({
  currentVersionId: current,
  currentVersionIds: [current],
  pendingVersionIds: pending,
});
const input = (more: Partial<RevertInput> = {}): RevertInput => ({
  onFailure: 'Revert',
  staged: { status: halted, halted: 'Deployment/a' },
  previous: undefined,
  baselineVersionId: 'v1',
  secret: secret('v2'),
  policy: { allowed: true, by: 'p' },
  now: NOW,
  ...more,
});
const record: RevertRecord = { from: 'v2', to: 'v1', workload: 'Deployment/a', requestedAt: NOW };
const previous = (r: Partial<RevertRecord>, state: StagedRolloutStatus['state'] = 'Reverting') => ({
  ...halted,
  state,
  revert: { ...record, ...r },
});

test('the three yeses and a fresh halt: a revert from the failed version to the baseline', () => {
  assert.deepEqual(decideRevert(input()), { kind: 'revert', record });
});

test('each missing yes, or an unsafe moment, leaves a plain halt that says why', () => {
  // The mapping's no is said only where a governing policy would allow this revert.
  const denied = { allowed: false as const, message: 'no policy lists it in revertSecrets' };
  assert.deepEqual(decideRevert(input({ onFailure: 'Halt' })), {
    kind: 'halt',
    why: "the mapping's onFailure is Halt",
  });
  assert.deepEqual(decideRevert(input({ onFailure: undefined })), {
    kind: 'halt',
    why: "the mapping's onFailure is Halt",
  });
  assert.deepEqual(decideRevert(input({ onFailure: 'Halt', policy: denied })), { kind: 'none' });
  assert.deepEqual(decideRevert(input({ onFailure: undefined, policy: undefined })), { kind: 'none' });
  const why = (v: ReturnType<typeof decideRevert>): string => (v.kind === 'halt' ? v.why : v.kind);
  assert.equal(
    why(decideRevert(input({ policy: { allowed: false, message: 'no policy lists it in revertSecrets' } }))),
    'no policy lists it in revertSecrets',
  );
  assert.match(why(decideRevert(input({ policy: undefined }))), /not known yet/);
  assert.match(why(decideRevert(input({ baselineVersionId: undefined }))), /no earlier version/);
  assert.match(why(decideRevert(input({ baselineVersionId: 'v2' }))), /no earlier version/);
  assert.match(why(decideRevert(input({ secret: secret('v2', ['v3']) }))), /rotation is in progress.*v3/);
  // AWSPENDING on the failed version itself, or on AWSCURRENT, is no rotation in progress.
  assert.equal(decideRevert(input({ secret: secret('v2', ['v2']) })).kind, 'revert');
});

test('no fresh halt (a halt already reported, a rollout in progress): nothing is decided', () => {
  assert.deepEqual(decideRevert(input({ staged: { status: halted } })), { kind: 'none' });
});

test('a recorded revert is continued, never decided again, whoever lost which answer', () => {
  // Recorded, AWSCURRENT still on the failed version: the call is made (again).
  assert.deepEqual(decideRevert(input({ previous: previous({}), staged: { status: halted } })), {
    kind: 'revert',
    record,
  });
  // AWSCURRENT found on `to`: the move was made (its answer may have been lost): reverted, said once.
  const moved = decideRevert(input({ previous: previous({}), secret: secret('v1') }));
  assert.deepEqual(moved, { kind: 'reverted', record: { ...record, movedAt: NOW }, fresh: true });
  const again = decideRevert(
    input({ previous: previous({ movedAt: NOW }, 'Reverted'), secret: secret('v1'), now: 'later' }),
  );
  assert.deepEqual(again, { kind: 'reverted', record: { ...record, movedAt: NOW }, fresh: false });
  // A refusal stands for the rotation: no second try.
  const refused = previous({ refused: 'AccessDenied' }, 'Halted');
  assert.deepEqual(decideRevert(input({ previous: refused })), {
    kind: 'refused',
    record: refused.revert,
  });
  // Moved back once, then someone put AWSCURRENT on the failed version again: never a second revert.
  const twice = decideRevert(input({ previous: previous({ movedAt: NOW }, 'Reverted') }));
  assert.deepEqual(twice, { kind: 'halt', why: 'version v2 was reverted once already' });
});

test('a newer rotation forgets the record of an older one', () => {
  const v = decideRevert(
    input({
      previous: previous({ movedAt: NOW }, 'Reverted'),
      secret: secret('v3'),
      baselineVersionId: 'v1',
    }),
  );
  assert.deepEqual(v, { kind: 'revert', record: { ...record, from: 'v3' } });
});

test('checkMove: call, moved already (an answer lost after commit), or refused with why', () => {
  assert.deepEqual(checkMove(record, secret('v2')), { kind: 'call' });
  assert.deepEqual(checkMove(record, secret('v1')), { kind: 'moved' });
  const moved = checkMove(record, secret('v3'));
  assert.equal(moved.kind, 'refused');
  assert.match(moved.kind === 'refused' ? moved.why : '', /moved to v3 meanwhile/);
  const pending = checkMove(record, secret('v2', ['v4']));
  assert.match(pending.kind === 'refused' ? pending.why : '', /in progress \(AWSPENDING on v4\)/);
  // The emulator's two AWSCURRENT labels: not "moved" until `from` lost it.
  assert.deepEqual(checkMove(record, { currentVersionId: 'v1', currentVersionIds: ['v1', 'v2'] }), {
    kind: 'call',
  });
});

/** What a status says, in one line: state, progress, message (or '-'). */
const said = (st: StagedRolloutStatus | undefined): string =>
  [st?.state, st?.progress, st?.message].map((x) => x ?? '-').join(' | ');

test('revertedStatus: Reverting while recorded, Reverted once moved, Halted with why otherwise', () => {
  const reverting = revertedStatus(halted, { kind: 'revert', record });
  assert.match(said(reverting), /^Reverting \| 1\/3 Reverting \| reverting AWSCURRENT from v2 to v1/);
  assert.deepEqual(reverting?.revert, record);
  const complete = {
    ...halted,
    versionId: 'v1',
    stage: 3,
    state: 'Complete' as const,
    progress: '3/3 Complete',
  };
  const done = revertedStatus(complete, { kind: 'reverted', record, fresh: false });
  assert.match(
    said(done),
    /^Reverted \| 3\/3 Reverted \| AWSCURRENT reverted from v2 to v1 .*; restarted back$/,
  );
  // The stage restarted back fails too: the rotation stays Halted.
  const again = revertedStatus({ ...halted, versionId: 'v1' }, { kind: 'reverted', record, fresh: false });
  assert.match(said(again), /^Halted \| 1\/3 Halted \| AWSCURRENT reverted .*; then halted at stage 1/);
  const plain = revertedStatus(halted, { kind: 'halt', why: 'no policy' });
  assert.match(said(plain), /^Halted \| .*; not reverted: no policy$/);
  assert.equal(revertedStatus(halted, { kind: 'none' }), halted);
});

test('a recorded revert not made yet is refused, not made, once the mapping or the policies withdrew their yes', () => {
  const pending = { previous: previous({}), staged: { status: halted, halted: 'Deployment/a' } };
  const withdrawn = decideRevert(
    input({ ...pending, policy: { allowed: false, message: 'no policy lists it in revertSecrets' } }),
  );
  assert.deepEqual(withdrawn, {
    kind: 'refused',
    record: { ...record, refused: 'no policy lists it in revertSecrets' },
  });
  assert.deepEqual(decideRevert(input({ ...pending, onFailure: 'Halt' })), {
    kind: 'refused',
    record: { ...record, refused: "the mapping's onFailure is Halt now" },
  });
  // Policies not listed yet (a new leader starting): the recorded decision stands.
  assert.deepEqual(decideRevert(input({ ...pending, policy: undefined })), { kind: 'revert', record });
  // Made already (AWSCURRENT back): finished, whatever was withdrawn since.
  const moved = decideRevert(input({ ...pending, onFailure: 'Halt', secret: secret('v1') }));
  assert.equal(moved.kind, 'reverted');
});

test('heldWhileReverting: no restart is made in a pass that moves AWSCURRENT back (a retried call finds the next stage started)', () => {
  const p = (name: string, action: Planned['action']): Planned => ({
    target: { kind: 'Deployment', name, exists: true },
    action,
  });
  const plan = [p('a', 'already'), p('b', 'restart'), p('c', 'pending'), p('d', 'held')];
  const held = heldWhileReverting(plan, record);
  assert.deepEqual(
    held.map((x) => x.action),
    ['already', 'held', 'held', 'held'],
  );
  assert.match(held[1].why ?? '', /being moved back from v2 to v1/);
});
