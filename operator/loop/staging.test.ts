import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MappingSpec, RolloutState, StagedRolloutStatus } from '../../resources/types.js';
import type { Action, Planned } from './restart-plan.js';
import { pinnedResume } from '../kube/resume-value.js';
import { stagedOrder, stageRestarts, stageSizeOf, type StagingInput } from './staging.js';

const T0 = Date.parse('2026-12-02T10:00:00Z');
const staged = (more: Partial<NonNullable<MappingSpec['rollout']>> = {}): MappingSpec => ({
  secretId: 's',
  workloads: ['c', 'a', 'b'].map((name) => ({ kind: 'Deployment' as const, name })),
  rollout: { strategy: 'Staged', stageSize: 1, pause: '0s', onFailure: 'Halt', ...more },
});

/** A planned Deployment: `action`, and what the last pass recorded (its version and rollout). */
function planned(
  name: string,
  action: Action,
  last?: { versionId: string; rollout?: RolloutState },
): Planned {
  return {
    target: { kind: 'Deployment', name, exists: true },
    action,
    previous: { kind: 'Deployment', name, versionId: last?.versionId ?? 'v1', rollout: last?.rollout },
  };
}

const input = (plan: Planned[], more: Partial<StagingInput> = {}): StagingInput => ({
  spec: staged(),
  plan,
  currentVersionId: 'v2',
  previous: undefined,
  resume: undefined,
  now: T0,
  // The tests' workloads show the rollout their last pass recorded.
  rolloutNow: (p) => p.previous?.rollout,
  ...more,
});

const actions = (plan: Planned[]): Record<string, string> =>
  Object.fromEntries(plan.map((p) => [p.target.name, p.action]));

const fresh = (): Planned[] => ['a', 'b', 'c'].map((n) => planned(n, 'restart'));

test('AllAtOnce (or no spec.rollout) leaves the plan as it is and writes no rollout status', () => {
  const plan = fresh();
  const out = stageRestarts(input(plan, { spec: { secretId: 's', workloads: [] } }));
  assert.equal(out.plan, plan);
  assert.equal(out.status, undefined);
});

test('a new version restarts the first listed workload only; the others are held', () => {
  const out = stageRestarts(input(fresh()));
  assert.deepEqual(actions(out.plan), { a: 'held', b: 'held', c: 'restart' });
  assert.equal(out.status?.progress, '1/3 Progressing');
  assert.match(out.plan[0].why ?? '', /waits for stage 1 of 3/);
});

test('the next stage starts only when the previous one rolled out', () => {
  const rolling = [
    planned('a', 'restart'),
    planned('b', 'restart'),
    planned('c', 'current', { versionId: 'v2', rollout: 'InProgress' }),
  ];
  assert.deepEqual(actions(stageRestarts(input(rolling)).plan), { a: 'held', b: 'held', c: 'current' });
  const done = [
    planned('a', 'restart'),
    planned('b', 'restart'),
    planned('c', 'current', { versionId: 'v2', rollout: 'Complete' }),
  ];
  const out = stageRestarts(input(done));
  assert.deepEqual(actions(out.plan), { a: 'restart', b: 'held', c: 'current' });
  assert.deepEqual(
    [out.status?.progress, out.status?.completedStage, out.status?.completedAt],
    ['2/3 Progressing', 1, new Date(T0).toISOString()],
  );
});

test('pause: the next stage waits the pause after the previous one completed, counted from when it was seen complete', () => {
  const spec = staged({ pause: '30s' });
  const plan = [
    planned('a', 'restart'),
    planned('b', 'restart'),
    planned('c', 'current', { versionId: 'v2', rollout: 'Complete' }),
  ];
  const first = stageRestarts(input(plan, { spec }));
  assert.equal(first.status?.state, 'Paused');
  assert.equal(first.waitMs, 30_000);
  assert.equal(actions(first.plan).a, 'held');
  const later = stageRestarts(input(plan, { spec, previous: first.status, now: T0 + 10_000 }));
  assert.equal(later.waitMs, 20_000, 'the pause counts from the first sight, not from each pass');
  const after = stageRestarts(input(plan, { spec, previous: first.status, now: T0 + 30_001 }));
  assert.equal(actions(after.plan).a, 'restart');
  assert.equal(after.waitMs, undefined);
});

test('a failed rollout halts the rotation: the rest held, the halt reported once', () => {
  const plan = [
    planned('a', 'restart'),
    planned('b', 'restart'),
    planned('c', 'current', { versionId: 'v2', rollout: 'Failed' }),
  ];
  const out = stageRestarts(input(plan));
  assert.deepEqual(actions(out.plan), { a: 'held', b: 'held', c: 'current' });
  assert.equal(out.status?.progress, '1/3 Halted');
  assert.equal(out.halted, 'Deployment/c');
  assert.match(out.status?.message ?? '', /Deployment\/c failed for version v2/);
  const again = stageRestarts(input(plan, { previous: out.status }));
  assert.equal(again.status?.state, 'Halted');
  assert.equal(again.halted, undefined, 'no second RotationHalted for the same halt');
});

test('onFailure Continue goes on past a failed rollout', () => {
  const plan = [
    planned('a', 'restart'),
    planned('b', 'restart'),
    planned('c', 'current', { versionId: 'v2', rollout: 'Failed' }),
  ];
  const out = stageRestarts(input(plan, { spec: staged({ onFailure: 'Continue' }) }));
  assert.equal(actions(out.plan).a, 'restart');
});

test('the resume annotation continues a halted rotation when its value changes, and only then', () => {
  const plan = [
    planned('a', 'restart'),
    planned('b', 'restart'),
    planned('c', 'current', { versionId: 'v2', rollout: 'Failed' }),
  ];
  // Set before the halt (an earlier resume): the halt records it and is not resumed by it.
  const halted = stageRestarts(input(plan, { resume: 'old' }));
  assert.equal(halted.status?.haltedWith, 'old');
  assert.equal(
    stageRestarts(input(plan, { previous: halted.status, resume: 'old' })).status?.state,
    'Halted',
  );
  const resumed = stageRestarts(input(plan, { previous: halted.status, resume: 'go' }));
  assert.equal(actions(resumed.plan).a, 'restart');
  assert.equal(resumed.status?.resumedStage, 1);
  const next = stageRestarts(input(plan, { previous: resumed.status, resume: 'go' }));
  assert.equal(actions(next.plan).a, 'restart', 'the accepted stage stays accepted');
});

test('a resume value naming another halt (a newer version halted since the user looked) is refused and said', () => {
  const plan = [
    planned('a', 'restart'),
    planned('b', 'restart'),
    planned('c', 'current', { versionId: 'v2', rollout: 'Failed' }),
  ];
  const halted = stageRestarts(input(plan, { resume: 'old' }));
  // Written for v1's halt (what the user saw); v2 halted at the same stage meanwhile.
  const forV1 = 'version=v1,stage=1,at=2026-12-02T10:00:00.000Z';
  const refused = stageRestarts(input(plan, { previous: halted.status, resume: forV1 }));
  assert.equal(refused.status?.state, 'Halted');
  assert.equal(actions(refused.plan).a, 'held');
  assert.match(
    refused.status?.message ?? '',
    /names the halt of version v1 at stage 1, not this one: not resumed/,
  );
  assert.equal(refused.halted, undefined, 'the same halt: not announced again');
  // Another stage of the right version is another halt too.
  const otherStage = 'version=v2,stage=2,at=2026-12-02T10:00:00.000Z';
  assert.equal(
    stageRestarts(input(plan, { previous: halted.status, resume: otherStage })).status?.state,
    'Halted',
  );
  // The value naming this halt resumes it.
  const forV2 = 'version=v2,stage=1,at=2026-12-02T10:00:01.000Z';
  const resumed = stageRestarts(input(plan, { previous: halted.status, resume: forV2 }));
  assert.equal(actions(resumed.plan).a, 'restart');
  assert.equal(resumed.status?.resumedStage, 1);
});

test('a resume accepts the failures its halt named: one of the same stage failing after it halts again', () => {
  // Found by staging.property.test.ts (seeds 3101 and 3102, PROPERTY_RUNS=30): the stage's resumedStage
  // also accepted a rollout that was still in progress when the user resumed, and failed after.
  const spec = staged({ stageSize: 2 }); // stage 1: c and a; stage 2: b
  const a = (rollout: RolloutState): Planned => planned('a', 'current', { versionId: 'v2', rollout });
  const c = planned('c', 'current', { versionId: 'v2', rollout: 'Failed' });
  const first = stageRestarts(input([a('InProgress'), planned('b', 'restart'), c], { spec }));
  assert.equal(first.halted, 'Deployment/c');
  const resumed = stageRestarts(
    input([a('InProgress'), planned('b', 'restart'), c], { spec, previous: first.status, resume: 'go' }),
  );
  assert.equal(resumed.status?.state, 'Progressing', 'a is still rolling');
  // a's rollout fails now (its last record said InProgress): the resume given before did not accept it.
  const failing = { spec, previous: resumed.status, resume: 'go', rolloutNow: () => 'Failed' as const };
  const again = stageRestarts(input([a('InProgress'), planned('b', 'restart'), c], failing));
  assert.deepEqual(actions(again.plan), { a: 'current', b: 'held', c: 'current' });
  assert.equal(again.status?.state, 'Halted');
  assert.equal(again.halted, 'Deployment/a', 'the new failure is reported');
  const still = { spec, previous: again.status, resume: 'go' };
  assert.equal(
    stageRestarts(input([a('Failed'), planned('b', 'restart'), c], still)).status?.state,
    'Halted',
  );
  const next = { spec, previous: again.status, resume: 'go on' };
  assert.equal(
    actions(stageRestarts(input([a('Failed'), planned('b', 'restart'), c], next)).plan).b,
    'restart',
  );
});

test('a newer version starts over from the first stage, whatever the last one left', () => {
  const previous: StagedRolloutStatus = {
    versionId: 'v2',
    stage: 1,
    stages: 3,
    state: 'Halted',
    progress: '1/3 Halted',
  };
  const plan = [
    planned('a', 'restart'),
    planned('b', 'restart'),
    planned('c', 'restart', { versionId: 'v2', rollout: 'Failed' }),
  ];
  const out = stageRestarts(input(plan, { currentVersionId: 'v3', previous }));
  assert.deepEqual(actions(out.plan), { a: 'held', b: 'held', c: 'restart' });
  assert.equal(out.status?.versionId, 'v3');
});

test('every stage rolled out: Complete, nothing held', () => {
  const plan = ['a', 'b', 'c'].map((n) => planned(n, 'current', { versionId: 'v2', rollout: 'Complete' }));
  const out = stageRestarts(input(plan));
  assert.equal(out.status?.progress, '3/3 Complete');
  assert.ok(out.plan.every((p) => p.action === 'current'));
});

test('order: the listed workloads first, in order; then by the stage annotation, absent last; then kind/name', () => {
  const spec: MappingSpec = { secretId: 's', workloads: [{ kind: 'Deployment', name: 'w' }] };
  const target = (name: string, stage?: number): Planned => ({
    target: { kind: 'Deployment', name, exists: true, stage },
    action: 'restart',
  });
  const order = stagedOrder(spec, [target('z'), target('x', 2), target('w', 0), target('y', 1), target('b')]);
  assert.deepEqual(
    order.map((p) => p.target.name),
    ['w', 'y', 'x', 'b', 'z'],
  );
});

test('stage size: an integer, or a percentage rounded up, at least one workload', () => {
  assert.equal(stageSizeOf(2, 5), 2);
  assert.equal(stageSizeOf('25%', 10), 3);
  assert.equal(stageSizeOf('1%', 10), 1);
  assert.equal(stageSizeOf('100%', 3), 3);
  assert.equal(stageSizeOf(undefined, 3), 1);
});

test('two per stage: both of a stage restart together, the next pair waits for both', () => {
  const plan = ['a', 'b', 'c'].map((n) => planned(n, 'restart'));
  const out = stageRestarts(input(plan, { spec: staged({ stageSize: 2 }) }));
  assert.deepEqual(actions(out.plan), { a: 'restart', b: 'held', c: 'restart' });
  assert.equal(out.status?.progress, '1/2 Progressing');
});

test('suspended: the rotation stays at its first stage, not Complete', () => {
  const plan = ['a', 'b', 'c'].map((n) => planned(n, 'suspended'));
  const out = stageRestarts(input(plan));
  assert.equal(out.status?.progress, '1/3 Progressing');
  assert.ok(
    out.plan.every((p) => p.action === 'suspended'),
    'suspend decides, staging holds nothing more',
  );
});

test('a stage whose restart was made but whose status write was lost (the stamp names the version) is followed, not counted done', () => {
  // c was patched for v2 by a pass whose status write was lost: the next pass plans 'already'.
  const lost = (rollout: RolloutState): Planned => ({
    ...planned('c', 'already'),
    target: { kind: 'Deployment', name: 'c', exists: true, rollout },
  });
  const follow = {
    rolloutNow: (p: Planned) => (p.action === 'already' ? p.target.rollout : p.previous?.rollout),
  };
  const rolling = stageRestarts(
    input([planned('a', 'restart'), planned('b', 'restart'), lost('InProgress')], follow),
  );
  assert.deepEqual(actions(rolling.plan), { a: 'held', b: 'held', c: 'already' }, 'stage 2 waits for c');
  assert.equal(rolling.status?.progress, '1/3 Progressing');
  const failed = stageRestarts(
    input([planned('a', 'restart'), planned('b', 'restart'), lost('Failed')], follow),
  );
  assert.equal(failed.status?.state, 'Halted', 'a failing rollout halts the rotation');
  assert.equal(failed.halted, 'Deployment/c');
  const done = stageRestarts(
    input([planned('a', 'restart'), planned('b', 'restart'), lost('Complete')], follow),
  );
  assert.deepEqual(actions(done.plan), { a: 'restart', b: 'held', c: 'already' });
});

test('fromVersionId: the baseline a rotation began from, kept after status.currentVersionId moved on (last stage)', () => {
  // One stage holds every target: the pass that restarts it moves status.currentVersionId to v2.
  const first = stageRestarts(input(fresh(), { spec: staged({ stageSize: 3 }), baselineVersionId: 'v1' }));
  assert.equal(first.status?.fromVersionId, 'v1');
  const failed = ['a', 'b', 'c'].map((n) =>
    planned(n, 'already', { versionId: 'v2', rollout: n === 'a' ? 'Failed' : 'Complete' }),
  );
  const halted = stageRestarts(
    input(failed, { spec: staged({ stageSize: 3 }), baselineVersionId: 'v2', previous: first.status }),
  );
  assert.equal(halted.status?.state, 'Halted');
  assert.equal(halted.status?.fromVersionId, 'v1', 'still the version the workloads ran before');
  // A new mapping (its baseline is the current version) records none.
  const adopted = stageRestarts(input(fresh(), { baselineVersionId: 'v2' }));
  assert.equal(adopted.status && 'fromVersionId' in adopted.status, false);
});

test('a pinned resume names one halt: a second halt of the same stage is not resumed by a value for the first', () => {
  const spec = staged({ stageSize: 2 }); // stage 1: c and a; stage 2: b
  const a = (rollout: RolloutState): Planned => planned('a', 'current', { versionId: 'v2', rollout });
  const c = planned('c', 'current', { versionId: 'v2', rollout: 'Failed' });
  const plan = (ra: RolloutState): Planned[] => [a(ra), planned('b', 'restart'), c];
  const first = stageRestarts(input(plan('InProgress'), { spec }));
  assert.equal(first.status?.state, 'Halted');
  // Two users looked at the first halt; one resumes it.
  const forFirst = (at: string): string => pinnedResume(first.status!, at);
  const resume = forFirst('2026-12-02T10:00:01.000Z');
  const resumed = stageRestarts(input(plan('InProgress'), { spec, previous: first.status, resume }));
  assert.equal(resumed.status?.state, 'Progressing');
  // a fails after the resume: a second halt at stage 1 of v2.
  const failing = { spec, previous: resumed.status, resume, rolloutNow: () => 'Failed' as const };
  const second = stageRestarts(input(plan('InProgress'), failing));
  assert.equal(second.halted, 'Deployment/a');
  // The other user's resume, written for the first halt, arrives now: not for this one.
  const stale = forFirst('2026-12-02T10:00:02.000Z');
  const refused = stageRestarts(input(plan('Failed'), { spec, previous: second.status, resume: stale }));
  assert.equal(refused.status?.state, 'Halted');
  assert.equal(actions(refused.plan).b, 'held');
  assert.match(refused.status?.message ?? '', /names an earlier halt of version v2 at stage 1/);
  // A value pinned to the second halt resumes it.
  const forSecond = pinnedResume(second.status!, '2026-12-02T10:00:03.000Z');
  const next = stageRestarts(input(plan('Failed'), { spec, previous: second.status, resume: forSecond }));
  assert.equal(actions(next.plan).b, 'restart');
});
