import assert from 'node:assert/strict';
import { e2eTest } from './harness.js';
import {
  currentOf,
  eventsOf,
  revertOf,
  revertSetup,
  rolloutState,
  type RevertSetup,
} from './revert-fixtures.js';
import { templateState } from './workloads-fixtures.js';

/**
 * A revert needs three yeses — the mapping's, a policy's and the IAM role's. Without one, the failed
 * stage is a plain halt whose status and RotationHalted Event say which yes was missing, and
 * AWSCURRENT stays where the rotation put it.
 */
async function plainHalt(s: RevertSetup, v2: string, why: RegExp): Promise<void> {
  const halted = await rolloutState(s.ns, 'Halted');
  assert.match(halted.status?.rollout?.message ?? '', why);
  const events = await eventsOf(s.ns, 'RotationHalted');
  assert.equal(events.length, 1, events.join(' | '));
  assert.match(events[0], why);
  assert.deepEqual(await currentOf(s.arn), [v2], 'AWSCURRENT not moved');
  assert.deepEqual(await eventsOf(s.ns, 'RotationReverted'), []);
  for (const n of ['b', 'c']) assert.equal((await templateState('Deployment', s.ns, n)).stamp, undefined);
}

e2eTest(
  "the mapping does not ask (onFailure Halt) where a policy allows the revert: a plain halt saying the mapping's onFailure is Halt, AWSCURRENT stays",
  async (scope) => {
    const s = await revertSetup(scope, { onFailure: 'Halt' });
    const v2 = await s.rotateToBadValue();
    await plainHalt(
      s,
      v2,
      /the rollout of Deployment\/a failed.*; not reverted: the mapping's onFailure is Halt$/,
    );
    assert.equal(revertOf(await rolloutState(s.ns, 'Halted')), 'none');
  },
);

e2eTest(
  'onFailure Halt where no policy allows a revert: the ordinary halt, which says nothing of reverting',
  async (scope) => {
    const s = await revertSetup(scope, { onFailure: 'Halt', revert: () => [] });
    const v2 = await s.rotateToBadValue();
    await plainHalt(s, v2, /the rollout of Deployment\/a failed/);
    const m = await rolloutState(s.ns, 'Halted');
    assert.doesNotMatch(m.status?.rollout?.message ?? '', /revert/);
    assert.doesNotMatch((await eventsOf(s.ns, 'RotationHalted'))[0], /revert/);
  },
);

e2eTest(
  "no policy lists the secret in revertSecrets (a glob reaching into the ARN's random suffix does not): a plain halt naming revertSecrets",
  async (scope) => {
    // `<name>-*` matches the secret's ARN (<name>-AbCdEf) but not its name: no yes.
    const s = await revertSetup(scope, { revert: (name) => [`${name}-*`] });
    const v2 = await s.rotateToBadValue();
    await plainHalt(
      s,
      v2,
      /not reverted: no SecretsRotationPolicy governing namespace .* lists secret .* in revertSecrets/,
    );
    assert.equal(revertOf(await rolloutState(s.ns, 'Halted')), 'none');
  },
);

e2eTest(
  "the IAM role may not UpdateSecretVersionStage (the template's default): AWS denies it, a plain halt naming the permission, never retried",
  async (scope) => {
    const s = await revertSetup(scope, { iam: false });
    const v2 = await s.rotateToBadValue();
    const why = /not reverted: the operator's IAM role may not secretsmanager:UpdateSecretVersionStage/;
    await plainHalt(s, v2, why);
    const m = await rolloutState(s.ns, 'Halted');
    assert.match(
      revertOf(m),
      new RegExp(`^${v2}>${s.v1} Deployment/a refused: the operator's IAM role may not`),
    );
  },
);
