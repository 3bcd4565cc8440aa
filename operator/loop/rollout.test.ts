import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rolloutCondition, rolloutState } from './rollout.js';

test('Deployment rollouts: in progress until every replica is new and available; failed past the deadline', () => {
  const d = (status: object, generation = 2): object => ({
    metadata: { generation },
    spec: { replicas: 3 },
    status,
  });
  assert.equal(
    rolloutState(
      'Deployment',
      d({ observedGeneration: 1, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }),
    ),
    'InProgress',
    'controller has not seen the new template',
  );
  assert.equal(
    rolloutState(
      'Deployment',
      d({ observedGeneration: 2, updatedReplicas: 2, replicas: 4, availableReplicas: 3 }),
    ),
    'InProgress',
  );
  assert.equal(
    rolloutState(
      'Deployment',
      d({ observedGeneration: 2, updatedReplicas: 3, replicas: 4, availableReplicas: 3 }),
    ),
    'InProgress',
    'an old pod is left',
  );
  assert.equal(
    rolloutState(
      'Deployment',
      d({ observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }),
    ),
    'Complete',
  );
  assert.equal(
    rolloutState(
      'Deployment',
      d({
        observedGeneration: 2,
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
      }),
    ),
    'Failed',
  );
});

test('StatefulSet and DaemonSet rollouts', () => {
  const sts = {
    metadata: { generation: 2 },
    spec: { replicas: 2 },
    status: { observedGeneration: 2, currentRevision: 'a', updateRevision: 'b', readyReplicas: 2 },
  };
  assert.equal(rolloutState('StatefulSet', sts), 'InProgress');
  assert.equal(
    rolloutState('StatefulSet', { ...sts, status: { ...sts.status, currentRevision: 'b' } }),
    'Complete',
  );
  const ds = {
    metadata: { generation: 3 },
    status: {
      observedGeneration: 3,
      desiredNumberScheduled: 2,
      updatedNumberScheduled: 1,
      numberAvailable: 2,
    },
  };
  assert.equal(rolloutState('DaemonSet', ds), 'InProgress');
  assert.equal(
    rolloutState('DaemonSet', { ...ds, status: { ...ds.status, updatedNumberScheduled: 2 } }),
    'Complete',
  );
});

test('the mapping condition: failed wins, then in progress, then complete; none without tracked rollouts', () => {
  const w = (name: string, rollout?: 'InProgress' | 'Complete' | 'Failed') => ({
    kind: 'Deployment' as const,
    name,
    rollout,
  });
  assert.equal(rolloutCondition([w('a')]), undefined);
  assert.equal(rolloutCondition([w('a', 'Complete'), w('b', 'InProgress')])?.reason, 'RolloutInProgress');
  assert.deepEqual(rolloutCondition([w('a', 'Failed'), w('b', 'InProgress')]), {
    status: 'False',
    reason: 'RolloutFailed',
    message: 'rollout failed: Deployment/a',
  });
  assert.equal(rolloutCondition([w('a', 'Complete')])?.status, 'True');
});

test('nextRollout: a fresh restart starts a rollout, one in progress follows the workload, others stay', async () => {
  const { nextRollout } = await import('./rollout.js');
  const target = { kind: 'Deployment' as const, name: 'a', exists: true, rollout: 'Complete' as const };
  const entry = { kind: 'Deployment' as const, name: 'a' };
  assert.deepEqual(nextRollout({ target, action: 'restart' }, { ...entry, state: 'Restarted' }), {
    rollout: 'InProgress',
  });
  assert.deepEqual(
    nextRollout({ target, action: 'restart' }, { ...entry, state: 'Pending' }),
    { rollout: undefined },
    'held back: nothing started',
  );
  const following = {
    target,
    action: 'current' as const,
    previous: { ...entry, rollout: 'InProgress' as const },
  };
  assert.deepEqual(nextRollout(following, entry), { rollout: 'Complete', ended: 'Complete' });
  assert.deepEqual(nextRollout({ ...following, target: { ...target, rollout: 'InProgress' } }, entry), {
    rollout: 'InProgress',
    ended: undefined,
  });
  assert.deepEqual(
    nextRollout({ target, action: 'current', previous: { ...entry, rollout: 'Failed' } }, entry),
    { rollout: 'Failed' },
  );
});
