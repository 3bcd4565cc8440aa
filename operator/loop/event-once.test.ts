import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventName } from '../kube/events.js';
import { detectedOnce, haltOnce, restartedOnce, rolloutEndOnce } from './event-once.js';

const halt = {
  versionId: 'v2',
  fromVersionId: 'v1',
  stage: 1,
  stages: 3,
  state: 'Halted' as const,
  progress: '',
};

test('a halt retried from the same read has one key; another halt, rotation or resume has another', () => {
  const key = haltOnce(halt, 'Deployment/a');
  assert.equal(haltOnce({ ...halt, message: 'said again' }, 'Deployment/a'), key);
  const others = [
    haltOnce({ ...halt, versionId: 'v3' }, 'Deployment/a'),
    haltOnce({ ...halt, fromVersionId: 'v3' }, 'Deployment/a'),
    haltOnce({ ...halt, stage: 2 }, 'Deployment/a'),
    haltOnce(halt, 'Deployment/b'),
    haltOnce({ ...halt, haltedWith: 'r1' }, 'Deployment/a'),
  ];
  assert.equal(new Set([key, ...others]).size, 6);
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
