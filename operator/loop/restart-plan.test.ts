import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WorkloadStatus } from '../../resources/types.js';
import { entryFor, planRestarts, versionStamp, type PlanInput, type Target } from './restart-plan.js';
import { sameStatus, setCondition } from './status.js';

const t = (name: string, extra: Partial<Target> = {}): Target => ({
  kind: 'Deployment',
  name,
  exists: true,
  ...extra,
});
const w = (name: string, versionId: string, restartedAt?: string): WorkloadStatus => ({
  kind: 'Deployment',
  name,
  versionId,
  restartedAt,
});
const NOW = Date.parse('2026-11-29T10:00:00Z');
const input = (over: Partial<PlanInput>): PlanInput => ({
  secretName: 's',
  currentVersionId: 'v2',
  baselineVersionId: 'v1',
  previous: [],
  targets: [],
  now: NOW,
  minRestartIntervalMs: 0,
  suspend: false,
  ...over,
});
const actions = (i: PlanInput): string[] => planRestarts(i).map((p) => `${p.target.name}:${p.action}`);

test('a new mapping adopts the current version as baseline and restarts nothing', () => {
  assert.deepEqual(actions(input({ baselineVersionId: undefined, targets: [t('a'), t('b')] })), [
    'a:adopt',
    'b:adopt',
  ]);
});

test('a new mapping restarts a workload whose stamp names an older version of its secret', () => {
  const targets = [
    t('old', { templateVersion: versionStamp('s', 'v1') }),
    t('same', { templateVersion: versionStamp('s', 'v2') }),
    t('other-secret', { templateVersion: versionStamp('x', 'v1') }),
    t('never'),
  ];
  assert.deepEqual(actions(input({ baselineVersionId: undefined, targets })), [
    'old:restart',
    'same:adopt',
    'other-secret:adopt',
    'never:adopt',
  ]);
  assert.deepEqual(
    actions(input({ baselineVersionId: undefined, targets: targets.slice(0, 1), suspend: true })),
    ['old:suspended'],
  );
});

test('a new version restarts each target whose version differs, once', () => {
  const previous = [w('a', 'v1'), w('b', 'v2'), w('c', 'v1')];
  const targets = [
    t('a'),
    t('b'),
    t('c', { templateVersion: versionStamp('s', 'v2') }),
    t('d'),
    t('e', { exists: false }),
  ];
  assert.deepEqual(actions(input({ previous, targets })), [
    'a:restart',
    'b:current',
    'c:already',
    'd:adopt',
    'e:missing',
  ]);
});

test('the same version again (replay, duplicate event) restarts nothing', () => {
  const previous = [w('a', 'v2', '2026-11-29T09:00:00Z')];
  assert.deepEqual(actions(input({ previous, targets: [t('a')] })), ['a:current']);
});

test('minRestartInterval defers a second restart and says how long', () => {
  const previous = [w('a', 'v1', '2026-11-29T09:59:30Z'), w('b', 'v1', '2026-11-29T09:58:00Z')];
  const plan = planRestarts(input({ previous, targets: [t('a'), t('b')], minRestartIntervalMs: 60_000 }));
  assert.deepEqual(
    plan.map((p) => [p.action, p.waitMs]),
    [
      ['pending', 30_000],
      ['restart', undefined],
    ],
  );
});

test('suspend reports instead of restarting', () => {
  assert.deepEqual(actions(input({ previous: [w('a', 'v1')], targets: [t('a')], suspend: true })), [
    'a:suspended',
  ]);
});

test('status entries tell what happened, blocked workloads included', () => {
  const now = '2026-11-29T10:00:00Z';
  const [paused, ondelete] = planRestarts(
    input({
      previous: [w('p', 'v1'), w('o', 'v1')],
      targets: [t('p', { blocked: 'Paused' }), t('o', { blocked: 'OnDelete' })],
    }),
  );
  assert.deepEqual(entryFor(paused, 'v2', now), {
    kind: 'Deployment',
    name: 'p',
    versionId: 'v2',
    restartedAt: now,
    state: 'Paused',
    message: 'Deployment is paused: it rolls when resumed',
  });
  assert.equal(entryFor(ondelete, 'v2', now).state, 'OnDelete');
  const [pending] = planRestarts(
    input({
      previous: [w('a', 'v1', now)],
      targets: [t('a')],
      minRestartIntervalMs: 60_000,
      now: Date.parse(now),
    }),
  );
  assert.equal(entryFor(pending, 'v2', now).versionId, 'v1', 'a pending workload still runs the old version');
});

test('conditions keep lastTransitionTime while their status holds', () => {
  const c1 = setCondition(
    undefined,
    { type: 'Ready', status: 'True', reason: 'WatchingSecret', message: '' },
    't1',
  );
  const c2 = setCondition(
    c1,
    { type: 'Ready', status: 'True', reason: 'WatchingSecret', message: 'x' },
    't2',
  );
  assert.equal(c2[0].lastTransitionTime, 't1');
  const c3 = setCondition(
    c2,
    { type: 'Ready', status: 'False', reason: 'SecretNotFound', message: '' },
    't3',
  );
  assert.equal(c3[0].lastTransitionTime, 't3');
  const other = setCondition(c3, { type: 'Other', status: 'True', reason: 'R', message: '' }, 't4');
  assert.equal(other.length, 2);
});

test('sameStatus ignores key order and undefined fields', () => {
  assert.equal(
    sameStatus({ a: undefined, secretArn: 'x', matchedWorkloads: 1 } as never, {
      matchedWorkloads: 1,
      secretArn: 'x',
    }),
    true,
  );
  assert.equal(sameStatus({ matchedWorkloads: 1 }, { matchedWorkloads: 2 }), false);
  assert.equal(sameStatus(undefined, {}), true);
});

test('entryFor: a template already stamped for this version records the time of the stamp', async () => {
  const { entryFor } = await import('./restart-plan.js');
  const e = entryFor(
    {
      target: { kind: 'Deployment', name: 'a', exists: true, stampedAt: '2026-01-01T00:00:00Z' },
      action: 'already',
      previous: { kind: 'Deployment', name: 'a', versionId: 'v1', restartedAt: '2025-12-01T00:00:00Z' },
    },
    'v2',
    '2026-01-01T00:00:09Z',
  );
  assert.equal(e.restartedAt, '2026-01-01T00:00:00.000Z');
  assert.equal(e.versionId, 'v2');
  assert.equal(e.state, 'Restarted');
});
