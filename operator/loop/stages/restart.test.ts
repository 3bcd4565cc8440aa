import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Action, Planned } from '../restart-plan.js';
import { versionBefore } from './restart.js';

const planned = (name: string, action: Action, versionId?: string): Planned => ({
  target: { kind: 'Deployment', name, exists: true },
  action,
  previous: versionId ? { kind: 'Deployment', name, versionId } : undefined,
});

test('versionBefore: the baseline when AWSCURRENT moved off it', () => {
  assert.equal(versionBefore('v1', [planned('a', 'restart', 'v1')], 'v2'), 'v1');
});

test('versionBefore: moved back by a revert onto the baseline, the version the restarted workloads ran', () => {
  const plan = [planned('a', 'restart', 'v2'), planned('b', 'already', 'v1'), planned('c', 'held', 'v3')];
  assert.equal(versionBefore('v1', plan, 'v1'), 'v2');
});

test('versionBefore: nothing else known, the baseline or unknown', () => {
  assert.equal(versionBefore('v1', [planned('a', 'restart')], 'v1'), 'v1');
  assert.equal(versionBefore(undefined, [], 'v1'), 'unknown');
});
