import assert from 'node:assert/strict';
import { FaultRelay } from './kit/fault-relay.js';
import type { RequestLine } from './kit/wire-faults.js';
import { e2eTest, environment, FAST_LEASE, leads, rotate, waitFor, type Scope } from './harness.js';
import {
  conditionOf,
  currentOf,
  eventsOf,
  restartedBack,
  revertOf,
  revertSetup,
  rolloutState,
} from './revert-fixtures.js';
import { templateState } from './workloads-fixtures.js';

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
