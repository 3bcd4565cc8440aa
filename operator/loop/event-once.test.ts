import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventName } from '../kube/events.js';
import {
  detectedOnce,
  endedRestart,
  haltOnce,
  restartOf,
  restartedOnce,
  rolloutEndOnce,
} from './event-once.js';
import { entryFor } from './restart-plan.js';
import type { Planned } from './restart-plan.js';

const halt = {
  versionId: 'v2',
  fromVersionId: 'v1',
  stage: 1,
  stages: 3,
  state: 'Halted' as const,
  progress: '',
};

test('a halt retried from the same read has one key; another halt, rotation or resume has another', () => {
  const t = '2026-01-01T00:00:00.000Z';
  const key = haltOnce(halt, 'Deployment/a', t);
  assert.equal(haltOnce({ ...halt, message: 'said again' }, 'Deployment/a', t), key);
  const others = [
    haltOnce({ ...halt, versionId: 'v3' }, 'Deployment/a', t),
    haltOnce({ ...halt, fromVersionId: 'v3' }, 'Deployment/a', t),
    haltOnce({ ...halt, stage: 2 }, 'Deployment/a', t),
    haltOnce(halt, 'Deployment/b', t),
    haltOnce({ ...halt, haltedWith: 'r1' }, 'Deployment/a', t),
  ];
  assert.equal(new Set([key, ...others]).size, 6);
});

test('v1 → v2 halts on W, v1 comes back, v2 again fails on W: another halt, another key', () => {
  const plan = (stampedAt: string, restartedAt?: string): Planned[] => [
    { target: { kind: 'Deployment', name: 'b', exists: true, stampedAt: 'other' }, action: 'held' },
    {
      target: { kind: 'Deployment', name: 'w', exists: true, stampedAt },
      action: 'already',
      previous: { kind: 'Deployment', name: 'w', versionId: 'v2', restartedAt },
    },
  ];
  const first = plan('2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
  const again = plan('2026-01-01T00:09:00.000Z', '2026-01-01T00:09:00.000Z');
  // A retry whose status write was lost reads the old entry, but the same stamp on the workload.
  const retried = plan('2026-01-01T00:09:00.000Z', '2026-01-01T00:00:00.000Z');
  const key = (p: Planned[]): string => haltOnce(halt, 'Deployment/w', restartOf(p, 'Deployment/w'));
  assert.notEqual(key(first), key(again));
  assert.equal(key(retried), key(again));
  // No stamp (not expected for a failed rollout of ours): the status entry's time.
  const unstamped: Planned[] = [{ ...first[1], target: { kind: 'Deployment', name: 'w', exists: true } }];
  assert.equal(restartOf(unstamped, 'Deployment/w'), '2026-01-01T00:00:00.000Z');
});

test('a rollout end of a workload stamped without a valid time has one key on every retry', () => {
  const found = (stampedAt: string): Planned => ({
    target: { kind: 'Deployment', name: 'a', exists: true, templateVersion: 's@v2', stampedAt },
    action: 'already',
    previous: { kind: 'Deployment', name: 'a', versionId: 'v1' },
  });
  const key = (p: Planned, now: string): string => {
    const entry = entryFor(p, 'v2', now);
    return rolloutEndOnce('Complete', 'Deployment/a', entry.versionId, endedRestart(p, entry));
  };
  // Two passes (the first one's status write lost): the entry says "restarted now" each time.
  assert.equal(
    key(found('not a time'), '2026-01-01T00:00:00.000Z'),
    key(found('not a time'), '2026-01-01T00:01:00.000Z'),
  );
  // Another restart (another stamp) is another end.
  assert.notEqual(
    key(found('not a time'), '2026-01-01T00:00:00.000Z'),
    key(found('2026-01-01T00:00:30.000Z'), '2026-01-01T00:01:00.000Z'),
  );
});

test('the other once keys tell occurrences apart by what changes between them', () => {
  assert.notEqual(detectedOnce('v1', 'v2', '10'), detectedOnce('v1', 'v2', '11'));
  assert.notEqual(detectedOnce('v1', 'v2', '10'), detectedOnce('v2', 'v1', '10'));
  const at = '2026-01-01T00:00:00Z';
  assert.notEqual(restartedOnce('Deployment/a', 's@v2', at), restartedOnce('Deployment/a', 's@v2', 'later'));
  assert.notEqual(restartedOnce('Deployment/a', 's@v2', at), restartedOnce('Deployment/b', 's@v2', at));
  assert.notEqual(
    rolloutEndOnce('Failed', 'Deployment/a', 'v2', at),
    rolloutEndOnce('Complete', 'Deployment/a', 'v2', at),
  );
  assert.notEqual(
    rolloutEndOnce('Failed', 'Deployment/a', 'v2', at),
    rolloutEndOnce('Failed', 'Deployment/a', 'v2', 'later'),
  );
});

test('an Event’s name fits a DNS subdomain, whatever the mapping’s name', () => {
  assert.equal(eventName('m', 'abc'), 'm.abc');
  const long = eventName(`${'a'.repeat(230)}.b-${'c'.repeat(30)}`, '0123456789abcdef');
  assert.equal(long.length <= 253, true, `${long.length}`);
  assert.match(long, /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\.0123456789abcdef$/);
  // Cut where a dot or dash would end a label: those are dropped.
  assert.equal(eventName(`${'a'.repeat(235)}-x`, '0123456789abcdef'), `${'a'.repeat(235)}.0123456789abcdef`);
});
