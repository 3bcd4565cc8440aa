import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rolloutState } from '../kube/workload-kinds.js';
import type { Target } from '../kube/target.js';
import type { WorkloadStatus } from '../../resources/types.js';
import { completedSince, nextRollout, rolloutCondition } from './rollout.js';
import type { Planned } from './restart-plan.js';

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

test('a Deployment deadline exceeded before our restart is not the failure of our rollout', () => {
  // Kubernetes keeps a ProgressDeadlineExceeded condition (and its time) on the new generation when its
  // status write after creating the new ReplicaSet conflicted: a restart made just after a rollout
  // timed out is reported timed out at once. Only a condition written after our stamp is ours.
  const stamped = '2026-12-06T11:19:39.243Z';
  const timedOut = (lastUpdateTime?: string): object => ({
    metadata: { generation: 3 },
    spec: { replicas: 1 },
    status: {
      observedGeneration: 3,
      updatedReplicas: 0,
      replicas: 1,
      availableReplicas: 1,
      conditions: [
        { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', lastUpdateTime },
      ],
    },
  });
  // Condition times are whole seconds: 11:19:39 was written before a stamp at 11:19:39.243.
  assert.equal(rolloutState('Deployment', timedOut('2026-12-06T11:19:39Z'), stamped), 'InProgress');
  assert.equal(rolloutState('Deployment', timedOut('2026-12-06T11:19:40Z'), stamped), 'Failed');
  assert.equal(rolloutState('Deployment', timedOut(undefined), stamped), 'Failed', 'no time: failed');
  assert.equal(rolloutState('Deployment', timedOut('2026-12-06T11:19:39Z')), 'Failed', 'no stamp: failed');
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
  // A partition: the ordinals at or above it updated is the whole rollout (kubectl's rule); the
  // controller never moves currentRevision then.
  const parted = {
    metadata: { generation: 2 },
    spec: { replicas: 3, partition: 2 },
    status: {
      observedGeneration: 2,
      currentRevision: 'a',
      updateRevision: 'b',
      readyReplicas: 3,
      updatedReplicas: 0,
    },
  };
  assert.equal(rolloutState('StatefulSet', parted), 'InProgress');
  assert.equal(
    rolloutState('StatefulSet', { ...parted, status: { ...parted.status, updatedReplicas: 1 } }),
    'Complete',
  );
  assert.equal(
    rolloutState('StatefulSet', {
      ...parted,
      status: { ...parted.status, updatedReplicas: 1, readyReplicas: 2 },
    }),
    'InProgress',
    'every replica ready, the old ordinals too',
  );
  assert.equal(
    rolloutState('StatefulSet', { ...parted, spec: { replicas: 3, partition: 3 } }),
    'InProgress',
    'a partition at the replica count rolls no pod: never complete',
  );
  // minReadySeconds: a pod counts once available, not once ready.
  const slow = {
    metadata: { generation: 2 },
    spec: { replicas: 2, minReadySeconds: 30 },
    status: {
      observedGeneration: 2,
      currentRevision: 'b',
      updateRevision: 'b',
      readyReplicas: 2,
      availableReplicas: 1,
    },
  };
  assert.equal(rolloutState('StatefulSet', slow), 'InProgress');
  assert.equal(
    rolloutState('StatefulSet', { ...slow, status: { ...slow.status, availableReplicas: 2 } }),
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
  const at = { ms: 600_000, now: Date.parse('2026-01-01T00:05:00Z') };
  const target = { kind: 'Deployment' as const, name: 'a', exists: true, rollout: 'Complete' as const };
  const entry = { kind: 'Deployment' as const, name: 'a' };
  assert.deepEqual(nextRollout({ target, action: 'restart' }, { ...entry, state: 'Restarted' }, at), {
    rollout: 'InProgress',
  });
  assert.deepEqual(
    nextRollout({ target, action: 'restart' }, { ...entry, state: 'Pending' }, at),
    { rollout: undefined },
    'held back: nothing started',
  );
  const following = {
    target,
    action: 'current' as const,
    previous: { ...entry, rollout: 'InProgress' as const },
  };
  assert.deepEqual(nextRollout(following, entry, at), { rollout: 'Complete', ended: 'Complete' });
  assert.deepEqual(nextRollout({ ...following, target: { ...target, rollout: 'InProgress' } }, entry, at), {
    rollout: 'InProgress',
  });
  assert.deepEqual(
    nextRollout({ target, action: 'current', previous: { ...entry, rollout: 'Failed' } }, entry, at),
    { rollout: 'Failed' },
  );
});

test('nextRollout: what does not roll by itself, or is gone, holds no rollout', async () => {
  const { nextRollout } = await import('./rollout.js');
  const at = { ms: 600_000, now: Date.now() };
  const target = { kind: 'StatefulSet' as const, name: 's', exists: true, rollout: 'InProgress' as const };
  const entry = { kind: 'StatefulSet' as const, name: 's' };
  for (const state of ['Paused', 'OnDelete', 'Missing'] as const)
    assert.deepEqual(nextRollout({ target, action: 'restart' }, { ...entry, state }, at), {}, state);
  const previous = { ...entry, rollout: 'InProgress' as const };
  assert.deepEqual(
    nextRollout({ target: { ...target, exists: false }, action: 'missing', previous }, entry, at),
    {},
    'deleted mid-rollout',
  );
});

test('nextRollout: every kind past ROLLOUT_DEADLINE has failed, a Deployment too (the earlier of its own deadline and ours)', async () => {
  const { nextRollout, untilDeadline } = await import('./rollout.js');
  const restartedAt = '2026-01-01T00:00:00Z';
  const at = { ms: 600_000, now: Date.parse('2026-01-01T00:10:01Z') };
  const early = { ...at, now: Date.parse('2026-01-01T00:09:00Z') };
  // A tenant's Deployment with progressDeadlineSeconds: 2147483647 never reports
  // ProgressDeadlineExceeded: only our deadline frees the slot its rollout holds.
  for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout'] as const) {
    const p = {
      target: { kind, name: 'x', exists: true, rollout: 'InProgress' as const },
      action: 'current' as const,
      previous: { kind, name: 'x', restartedAt, rollout: 'InProgress' as const },
    };
    assert.deepEqual(
      nextRollout(p, p.previous, at),
      {
        rollout: 'Failed',
        ended: 'Failed',
        why: 'not rolled out within 10m',
      },
      kind,
    );
    assert.deepEqual(nextRollout(p, p.previous, early), { rollout: 'InProgress' }, kind);
    assert.equal(untilDeadline(p.previous, early), 60_000, kind);
  }
  const d = {
    target: { kind: 'Deployment' as const, name: 'd', exists: true, rollout: 'Failed' as const },
    action: 'current' as const,
    previous: { kind: 'Deployment' as const, name: 'd', restartedAt, rollout: 'InProgress' as const },
  };
  assert.deepEqual(
    nextRollout(d, d.previous, early),
    {
      rollout: 'Failed',
      ended: 'Failed',
      why: 'progress deadline exceeded',
    },
    'its own progressDeadlineSeconds, when earlier, still rules',
  );
});

test('Argo Rollouts: a restart is in progress until status.restartedAt reaches spec.restartAt; Degraded has failed', () => {
  const r = (restartAt: string | undefined, status: object): object => ({ spec: { restartAt }, status });
  assert.equal(rolloutState('Rollout', r(undefined, { phase: 'Healthy' })), 'Complete', 'never restarted');
  assert.equal(rolloutState('Rollout', r('2026-11-29T10:00:01Z', { phase: 'Healthy' })), 'InProgress');
  assert.equal(
    rolloutState('Rollout', r('2026-11-29T10:00:01Z', { restartedAt: '2026-11-29T09:00:00Z' })),
    'InProgress',
    'an older restart finished',
  );
  assert.equal(
    rolloutState(
      'Rollout',
      r('2026-11-29T10:00:01Z', { restartedAt: '2026-11-29T10:00:01Z', phase: 'Healthy' }),
    ),
    'Complete',
  );
  assert.equal(rolloutState('Rollout', r('2026-11-29T10:00:01Z', { phase: 'Degraded' })), 'Failed');
  const stamp = '2026-11-29T10:00:01.500Z';
  const degraded = (at: string, restartedAt?: string): object =>
    r('2026-11-29T10:00:02Z', {
      phase: 'Degraded',
      restartedAt,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'RolloutAborted', lastUpdateTime: at }],
    });
  assert.equal(
    rolloutState('Rollout', degraded('2026-11-29T10:00:05Z'), stamp),
    'Failed',
    'degraded after our restart',
  );
  assert.equal(
    rolloutState('Rollout', degraded('2026-11-29T09:00:00Z'), stamp),
    'InProgress',
    'degraded before our restart: not ours (ROLLOUT_DEADLINE ends it if it never completes)',
  );
  assert.equal(
    rolloutState('Rollout', degraded('2026-11-29T09:00:00Z', '2026-11-29T10:00:02Z'), stamp),
    'Complete',
    'Argo finished our restart: complete, whatever the phase says of the rest',
  );
  // Argo's observedGeneration is a hash, not a number: it must not hold the rollout in progress.
  assert.equal(
    rolloutState('Rollout', {
      metadata: { generation: 5 },
      spec: { restartAt: '2026-11-29T10:00:01Z' },
      status: { observedGeneration: 'abc123', restartedAt: '2026-11-29T10:00:01Z' },
    } as object),
    'Complete',
  );
});

test('nextRollout and rolloutNow: a template stamped for this version whose status write was lost is our rollout, followed from its stamp', async () => {
  const { nextRollout, rolloutNow } = await import('./rollout.js');
  const stampedAt = '2026-01-01T00:00:00Z';
  const at = { ms: 600_000, now: Date.parse('2026-01-01T00:05:00Z') };
  const late = { ...at, now: Date.parse('2026-01-01T00:10:01Z') };
  const p = (rollout: 'InProgress' | 'Complete' | 'Failed') => ({
    target: { kind: 'Deployment' as const, name: 'a', exists: true, rollout, stampedAt },
    action: 'already' as const,
    previous: { kind: 'Deployment' as const, name: 'a', versionId: 'v1', rollout: 'Complete' as const },
  });
  const entry = {
    kind: 'Deployment' as const,
    name: 'a',
    state: 'Restarted' as const,
    restartedAt: stampedAt,
  };
  assert.deepEqual(nextRollout(p('InProgress'), entry, at), { rollout: 'InProgress' });
  assert.equal(rolloutNow(p('InProgress'), at), 'InProgress');
  assert.deepEqual(nextRollout(p('Failed'), entry, at), {
    rollout: 'Failed',
    ended: 'Failed',
    why: 'progress deadline exceeded',
  });
  assert.equal(rolloutNow(p('Failed'), at), 'Failed');
  assert.deepEqual(nextRollout(p('Complete'), entry, at), { rollout: 'Complete', ended: 'Complete' });
  assert.deepEqual(
    nextRollout(p('InProgress'), entry, late),
    { rollout: 'Failed', ended: 'Failed', why: 'not rolled out within 10m' },
    'the deadline counts from the stamp',
  );
});

test('a stamp time a tenant wrote in the future (or not a time) counts from now: its rollout still reaches the deadline', async () => {
  const { nextRollout } = await import('./rollout.js');
  const { entryFor } = await import('./restart-plan.js');
  const now = Date.parse('2026-01-01T00:05:00Z');
  for (const stampedAt of ['2099-01-01T00:00:00Z', 'soon', undefined]) {
    const found = {
      target: {
        kind: 'Deployment' as const,
        name: 'a',
        exists: true,
        rollout: 'InProgress' as const,
        stampedAt,
      },
      action: 'already' as const,
      previous: { kind: 'Deployment' as const, name: 'a', versionId: 'v1' },
    };
    const entry = entryFor(found, 'v2', new Date(now).toISOString());
    assert.equal(entry.restartedAt, new Date(now).toISOString(), String(stampedAt));
    const first = nextRollout(found, entry, { ms: 600_000, now });
    assert.deepEqual(first, { rollout: 'InProgress' }, String(stampedAt));
    // The next pass follows what the status recorded: the deadline counts from the first look.
    const next = { ...found, action: 'current' as const, previous: { ...entry, rollout: first.rollout } };
    assert.deepEqual(
      nextRollout(next, entry, { ms: 600_000, now: now + 600_001 }),
      { rollout: 'Failed', ended: 'Failed', why: 'not rolled out within 10m' },
      String(stampedAt),
    );
  }
});

test('a restart followed in its own pass: ended there only when the workload read again shows exactly that restart Complete', () => {
  const at = '2026-12-06T16:00:00.000Z';
  const stamp = 's@v2';
  const before: Target = {
    kind: 'Deployment',
    name: 'a',
    exists: true,
    templateVersion: 's@v1',
    rollout: 'Complete',
  };
  const p: Planned = {
    target: before,
    action: 'restart',
    previous: { kind: 'Deployment', name: 'a', versionId: 'v1' },
  };
  const entry: WorkloadStatus = {
    kind: 'Deployment',
    name: 'a',
    versionId: 'v2',
    restartedAt: at,
    state: 'Restarted',
  };
  const fresh = (over: Partial<Target>): Target => ({
    ...before,
    templateVersion: stamp,
    stampedAt: at,
    ...over,
  });
  const deadline = { ms: 600_000, now: Date.parse(at) + 1000 };
  const followed = completedSince(p, entry, fresh({ rollout: 'Complete' }), stamp);
  assert.deepEqual(nextRollout(followed, entry, deadline), { rollout: 'Complete', ended: 'Complete' });
  assert.equal(followed.target.stampedAt, at, 'the Event key is the restart the next pass would name');
  const unchanged: [string, Target | undefined][] = [
    ['not read again', undefined],
    ['still rolling', fresh({ rollout: 'InProgress' })],
    ['failed: the next pass says so (staging must see it new)', fresh({ rollout: 'Failed' })],
    ['another version stamped since', fresh({ rollout: 'Complete', templateVersion: 's@v3' })],
    [
      'another restart of this version since',
      fresh({ rollout: 'Complete', stampedAt: '2026-12-06T16:00:05.000Z' }),
    ],
    ['paused since', fresh({ rollout: 'Complete', blocked: 'Paused' })],
    ['deleted since', fresh({ rollout: 'Complete', exists: false })],
  ];
  for (const [why, f] of unchanged) {
    assert.equal(completedSince(p, entry, f, stamp), p, why);
    assert.deepEqual(
      nextRollout(completedSince(p, entry, f, stamp), entry, deadline),
      { rollout: 'InProgress' },
      why,
    );
  }
  const notRestarted = { ...p, action: 'current' as const };
  assert.equal(completedSince(notRestarted, entry, fresh({ rollout: 'Complete' }), stamp), notRestarted);
});
