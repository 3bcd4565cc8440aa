import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ARN, mapping, readyCondition } from './fixtures.js';
import { isReady, standingOf, statusText } from './status.js';

const NOW = Date.parse('2026-01-05T10:00:00Z');

test('a Ready mapping: Ready, nothing in flight, nothing waiting', () => {
  const s = standingOf(
    mapping(
      'a',
      'db',
      {},
      {
        observedGeneration: 1,
        secretArn: ARN,
        currentVersionId: 'v2',
        matchedWorkloads: 1,
        workloads: [
          { kind: 'Deployment', name: 'web', versionId: 'v2', state: 'Restarted', rollout: 'Complete' },
        ],
        conditions: [readyCondition('True', 'WatchingSecret')],
      },
    ),
    NOW,
  );
  assert.ok(isReady(s));
  assert.equal(s.observed, true);
  assert.deepEqual(
    [s.inFlight, s.held, s.halted, s.waitingForWindow, s.waitingForSync],
    [[], [], undefined, undefined, undefined],
  );
});

test('no status yet is not Ready (Unknown); a Ready=False names its reason', () => {
  const fresh = standingOf(mapping('a', 'new'), NOW);
  assert.equal(fresh.ready.status, 'Unknown');
  assert.equal(isReady(fresh), false);
  const missing = standingOf(
    mapping('a', 'x', {}, { conditions: [readyCondition('False', 'SecretNotFound', 'no such secret')] }),
    NOW,
  );
  assert.equal(isReady(missing), false);
  assert.match(statusText([missing], NOW), /a\/x is not Ready: no such secret/);
});

test('a halted staged rotation: its stage, the held workloads, the in-flight rollouts and the resume hint', () => {
  const s = standingOf(
    mapping(
      'team',
      'db',
      { rollout: { strategy: 'Staged', stageSize: 1 } },
      {
        currentVersionId: 'v1',
        workloads: [
          { kind: 'Deployment', name: 'a', versionId: 'v2', state: 'Restarted', rollout: 'Failed' },
          { kind: 'Deployment', name: 'b', versionId: 'v1', state: 'Held' },
          { kind: 'Deployment', name: 'c', versionId: 'v1', state: 'Held', rollout: 'InProgress' },
        ],
        rollout: {
          versionId: 'v2',
          stage: 1,
          stages: 3,
          state: 'Halted',
          progress: '1/3 Halted',
          message:
            'halted at stage 1: the rollout of Deployment/a failed for version v2; set the annotation secretsrotation.io/resume to a new value to continue',
        },
        conditions: [readyCondition('True', 'WatchingSecret')],
      },
    ),
    NOW,
  );
  assert.deepEqual(s.halted?.stage, 1);
  assert.deepEqual(s.held, ['Deployment/b', 'Deployment/c']);
  assert.deepEqual(s.inFlight, ['Deployment/c'], 'a rollout of the current version still rolling');
  const text = statusText([s], NOW);
  assert.match(text, /\s1\/3 Halted\s/);
  assert.match(
    text,
    /team\/db halted at stage 1: the rollout of Deployment\/a failed for version v2: kubectl secretsrotation resume -n team db/,
  );
});

test("waiting for a window says when it opens (the operator's own window decision); waiting for ESO counts the workloads", () => {
  const s = standingOf(
    mapping(
      'a',
      'db',
      { restartWindows: [{ schedule: '0 22 * * *', duration: '1h', timeZone: 'UTC' }] },
      {
        workloads: [
          {
            kind: 'Deployment',
            name: 'w',
            state: 'Pending',
            message: 'waits for the next restart window, opening at 2026-01-05T22:00:00.000Z',
          },
          { kind: 'Deployment', name: 'e', state: 'WaitingForSync' },
          { kind: 'StatefulSet', name: 't', state: 'SyncTimedOut' },
          { kind: 'Deployment', name: 'p', state: 'Pending', message: 'restarts after minRestartInterval' },
        ],
        conditions: [readyCondition('False', 'SyncTimedOut', 'waiting past the sync timeout')],
      },
    ),
    NOW,
  );
  assert.deepEqual(s.waitingForWindow, { workloads: ['Deployment/w'], opensAt: '2026-01-05T22:00:00.000Z' });
  assert.deepEqual(s.waitingForSync, {
    workloads: ['Deployment/e', 'StatefulSet/t'],
    timedOut: ['StatefulSet/t'],
  });
  const text = statusText([s], NOW);
  assert.match(text, /window 2026-01-05T22:00:00.000Z, ESO sync \(2\)/);
  assert.match(text, /waits past the sync timeout for StatefulSet\/t/);
});

test('an empty list says so', () => {
  assert.equal(statusText([], NOW), 'No SecretsRotationMappings found.');
});
