import assert from 'node:assert/strict';
import { FaultRelay } from './kit/fault-relay.js';
import type { FaultClass, RequestLine } from './kit/wire-faults.js';
import { e2eTest, environment, FAST_LEASE, kc, leads, rotate, waitFor, type Scope } from './harness.js';
import { applyMapping, getMapping, waitReason } from './mapping-helpers.js';
import {
  conditionOf,
  currentOf,
  eventsOf,
  restartedBack,
  revertOf,
  revertSetup,
  rolloutState,
  type RevertSetup,
} from './revert-fixtures.js';
import { createWorkload, templateState } from './workloads-fixtures.js';

/** The operator's UpdateSecretVersionStage call (the revert's compare-and-swap), on the AWS wire. */
const moveCall = (r: RequestLine): boolean => r.target?.endsWith('.UpdateSecretVersionStage') ?? false;

/** A fault relay in front of the AWS endpoint, closed with the scope. */
async function awsRelay(scope: Scope, seed: number): Promise<FaultRelay> {
  const relay = await FaultRelay.aws((await environment()).awsEndpoint, seed);
  scope.cleanups.push(() => relay.close());
  return relay;
}

e2eTest(
  'the compare-and-swap refuses: AWSCURRENT rotated on while the revert call was on its way; nothing moves back, a plain halt says why',
  async (scope) => {
    const relay = await awsRelay(scope, 3201);
    // The call reaches AWS 6 s late: time for a newer rotation to land first.
    relay.inject({
      kinds: ['aws-other'],
      faults: ['delay'],
      delayMs: [6000, 6000],
      times: 1,
      match: moveCall,
    });
    const s = await revertSetup(scope, { awsEndpoint: relay.url });
    await s.rotateToBadValue();
    await waitFor('the revert call held on the wire', () =>
      Promise.resolve(relay.injected.some((f) => f.fault === 'delay')),
    );
    const v3 = await rotate(s.name, s.arn);
    const halts = await waitFor('the halt', async () => {
      const h = await eventsOf(s.ns, 'RotationHalted');
      return h.length ? h : undefined;
    });
    assert.equal(halts.length, 1, halts.join(' | '));
    assert.match(halts[0], new RegExp(`not reverted: AWSCURRENT moved to ${v3} meanwhile`));
    assert.deepEqual(await currentOf(s.arn), [v3], 'the newer rotation stands');
    // The newer version is a rotation of its own (its value works): it completes, never reverted.
    const done = await waitFor('the rotation to v3 complete', async () => {
      const m = await rolloutState(s.ns, 'Complete');
      return m.status?.rollout?.versionId === v3 ? m : undefined;
    });
    assert.equal(revertOf(done), 'none');
    assert.deepEqual(await eventsOf(s.ns, 'RotationReverted'), []);
    assert.deepEqual(await currentOf(s.arn), [v3]);
    assert.equal((await templateState('Deployment', s.ns, 'a')).stamp, `${s.name}@${v3}`);
  },
  { timeout: 240_000 },
);

e2eTest(
  'the leader killed after AWS moved AWSCURRENT back but before it heard so: the new leader finishes the revert, once',
  async (scope) => {
    const relay = await awsRelay(scope, 3202);
    // AWS commits the move; its answer never comes back to the leader.
    relay.inject({
      kinds: ['aws-other'],
      faults: ['lose-answer-hang'],
      delayMs: [120_000, 120_000],
      times: 1,
      match: moveCall,
    });
    // Rule 1 delays nothing: it counts any later move call (there must be none).
    relay.inject({ kinds: ['aws-other'], faults: ['delay'], delayMs: [0, 0], match: moveCall });
    const s = await revertSetup(scope, { awsEndpoint: relay.url, replicas: 2, env: FAST_LEASE });
    const leader = await waitFor('a leader', async () =>
      (await leads(s.ops[0])) ? s.ops[0] : (await leads(s.ops[1])) ? s.ops[1] : undefined,
    );
    const follower = leader === s.ops[0] ? s.ops[1] : s.ops[0];
    const v2 = await s.rotateToBadValue();
    await waitFor('AWSCURRENT moved back, the answer lost', async () =>
      relay.injected.some((f) => f.fault === 'lose-answer-hang' && f.status === 200)
        ? (await currentOf(s.arn))[0] === s.v1
        : false,
    );
    assert.equal(revertOf(await rolloutState(s.ns, 'Reverting')), `${v2}>${s.v1} Deployment/a pending`);
    await leader.kill('SIGKILL');
    await waitFor('the follower leads', () => leads(follower), 30_000);
    const done = await restartedBack(s, 'a');
    assert.equal(done.status?.rollout?.state, 'Reverted');
    assert.equal(conditionOf(done, 'RolloutComplete'), 'False RotationReverted');
    assert.match(revertOf(done), new RegExp(`^${v2}>${s.v1} Deployment/a moved$`));
    assert.equal((await eventsOf(s.ns, 'RotationReverted')).length, 1);
    await waitFor('the notification', () => Promise.resolve(s.hook.reasons().includes('RotationReverted')));
    assert.equal(s.hook.reasons().filter((r) => r === 'RotationReverted').length, 1);
    assert.equal((await templateState('Deployment', s.ns, 'a')).generation, 3, 'a: to v2, back once');
    for (const n of ['b', 'c']) assert.equal((await templateState('Deployment', s.ns, n)).generation, 1);
    assert.deepEqual(
      relay.injected.filter((f) => f.rule === 1),
      [],
      'one move call: the new leader found it made',
    );
    assert.deepEqual(await currentOf(s.arn), [s.v1]);
  },
  { timeout: 240_000 },
);

/** aws_calls_total{operation="UpdateSecretVersionStage"} by result. */
const moveResults = (metrics: string): Record<string, number> =>
  Object.fromEntries(
    [...metrics.matchAll(/operation="UpdateSecretVersionStage",result="(\w+)"\} (\d+)/g)].map((x) => [
      x[1],
      Number(x[2]),
    ]),
  );

/** Whether workload `n` of mapping `name` is stamped back for the old version and rolled out. */
async function back(s: RevertSetup, name: string, n: string): Promise<boolean> {
  const entry = (await getMapping(s.ns, name)).status?.workloads?.find((w) => w.name === n);
  const stamp = (await templateState('Deployment', s.ns, n)).stamp;
  return stamp === `${s.name}@${s.v1}` && entry?.rollout === 'Complete';
}

/** Mapping `name`'s rotation ended on the old version, with no halt and at most one RotationReverted. */
async function endedBack(s: RevertSetup, name: string): Promise<void> {
  const m = await getMapping(s.ns, name);
  assert.equal(m.status?.rollout?.versionId, s.v1, `${name}: its rotation ended on the old version`);
  const message = m.status?.rollout?.message ?? '';
  assert.doesNotMatch(message, /not reverted|halted/, `${name}: ${message}`);
  const reverted = await eventsOf(s.ns, 'RotationReverted', name);
  assert.ok(reverted.length <= 1, `${name}: at most one RotationReverted: ${reverted.join(' | ')}`);
  assert.deepEqual(await eventsOf(s.ns, 'RotationHalted', name), [], `${name}: no halt`);
}

e2eTest(
  'two mappings of the secret (one namespace, both onFailure Revert) fail at once: AWSCURRENT is moved back by one committed call (a second one the compare-and-swap refuses), both end back on the old version, each says so once',
  async (scope) => {
    const relay = await awsRelay(scope, 3203);
    // Delays nothing: counts every move call and records AWS's answer to it.
    relay.inject({ kinds: ['aws-other'], faults: ['delay'], delayMs: [0, 0], match: moveCall });
    const s = await revertSetup(scope, { awsEndpoint: relay.url });
    await createWorkload(
      { kind: 'Deployment', namespace: s.ns, name: 'x' },
      { app: 'x' },
      {
        replicas: 1,
        progressDeadlineSeconds: 3,
      },
    );
    await applyMapping(s.ns, 'm2', {
      secretId: s.name,
      workloads: [{ kind: 'Deployment', name: 'x' }],
      rollout: { strategy: 'Staged', stageSize: 1, onFailure: 'Revert' },
    });
    await waitReason(s.ns, 'm2', 'WatchingSecret');
    const v2 = await s.rotateToBadValue();
    await waitFor(
      'a and x restarted back',
      async () => (await back(s, 'm', 'a')) && (await back(s, 'm2', 'x')),
      90_000,
    );
    assert.deepEqual(await currentOf(s.arn), [s.v1]);
    // Each move call as the relay saw it, and its result as the operator counted it.
    const counted = moveResults(await s.ops[0].metrics());
    assert.equal(counted.success, 1, `one move made: ${JSON.stringify(counted)}`);
    assert.equal(relay.injected.length, counted.success + (counted.refused ?? 0), JSON.stringify(counted));
    for (const name of ['m', 'm2']) await endedBack(s, name);
    const reverted = [
      ...(await eventsOf(s.ns, 'RotationReverted')),
      ...(await eventsOf(s.ns, 'RotationReverted', 'm2')),
    ];
    assert.ok(reverted.length >= 1, 'the revert is said');
    for (const e of reverted) assert.match(e, new RegExp(`from version ${v2} to ${s.v1}`));
    for (const n of ['b', 'c']) assert.equal((await templateState('Deployment', s.ns, n)).stamp, undefined);
  },
  { timeout: 240_000 },
);

const LOSE: FaultClass[] = ['lose-answer-reset', 'lose-answer-hang'];

e2eTest(
  'the status writes that record the revert (Reverting) and its completion (movedAt) committed but their answers lost: one move call, one RotationReverted, one notification',
  async (scope) => {
    const env = await environment();
    const aws = await awsRelay(scope, 3204);
    aws.inject({ kinds: ['aws-other'], faults: ['delay'], delayMs: [0, 0], match: moveCall });
    const kube = await FaultRelay.kube(env, 3205);
    scope.cleanups.push(() => kube.close());
    const body = (r: RequestLine): string => r.body ?? '';
    kube.inject({
      kinds: ['status-write'],
      faults: LOSE,
      times: 1,
      delayMs: [5000, 5000],
      match: (r) => body(r).includes('"Reverting"'),
    });
    kube.inject({
      kinds: ['status-write'],
      faults: LOSE,
      times: 1,
      delayMs: [5000, 5000],
      match: (r) => body(r).includes('"movedAt"'),
    });
    const s = await revertSetup(scope, {
      awsEndpoint: aws.url,
      kubeRelay: kube,
      env: { KUBE_REQUEST_TIMEOUT: '4s' },
    });
    const v2 = await s.rotateToBadValue();
    const done = await restartedBack(s, 'a');
    assert.equal(revertOf(done), `${v2}>${s.v1} Deployment/a moved`);
    const lost = (await kube.answered()).map((f) => `${f.rule}:${f.status}`);
    assert.ok(
      lost.includes('0:200') && lost.includes('1:200'),
      `both writes committed, answers lost: ${lost.join()}`,
    );
    assert.deepEqual(await currentOf(s.arn), [s.v1]);
    assert.equal(aws.injected.length, 1, 'one move call');
    assert.equal((await eventsOf(s.ns, 'RotationReverted')).length, 1);
    await waitFor('the notification', () => Promise.resolve(s.hook.reasons().includes('RotationReverted')));
    assert.equal(s.hook.reasons().filter((r) => r === 'RotationReverted').length, 1);
    for (const n of ['b', 'c']) assert.equal((await templateState('Deployment', s.ns, n)).stamp, undefined);
  },
  { timeout: 240_000 },
);

e2eTest(
  'a revert whose call fails and is retried while the failed workload is deleted: no other workload restarts for the version being left; the retried call reverts',
  async (scope) => {
    const relay = await awsRelay(scope, 3206);
    // Every move call fails (AWS unavailable) until the rule is cleared: the revert stays Reverting.
    relay.inject({ kinds: ['aws-other'], faults: ['error-503'], match: moveCall });
    const s = await revertSetup(scope, { awsEndpoint: relay.url });
    const v2 = await s.rotateToBadValue();
    await rolloutState(s.ns, 'Reverting');
    await waitFor('a move call failed', () => Promise.resolve(relay.injected.length > 0));
    // Someone deletes the broken Deployment: the first stage is b now, on the staging's reckoning.
    await kc(['delete', 'deployment', 'a', '-n', s.ns, '--wait=false']);
    await waitFor(
      'a missing while the revert is retried',
      async () => {
        const m = await getMapping(s.ns, 'm');
        const a = m.status?.workloads?.find((w) => w.name === 'a');
        return m.status?.rollout?.state === 'Reverting' && a?.state === 'Missing';
      },
      120_000,
    );
    assert.equal(
      (await templateState('Deployment', s.ns, 'b')).stamp,
      undefined,
      'b not restarted for the version AWSCURRENT is being moved off',
    );
    relay.clear();
    const done = await rolloutState(s.ns, 'Reverted', 'm', 180_000);
    assert.equal(revertOf(done), `${v2}>${s.v1} Deployment/a moved`);
    assert.deepEqual(await currentOf(s.arn), [s.v1]);
    for (const n of ['b', 'c']) assert.equal((await templateState('Deployment', s.ns, n)).generation, 1);
    assert.equal((await eventsOf(s.ns, 'RotationReverted')).length, 1);
  },
  { timeout: 360_000 },
);
