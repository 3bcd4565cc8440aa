import assert from 'node:assert/strict';
import { CurrentMovedError, SecretStageMover } from '../operator/aws/secret-stages.js';
import {
  awsClients,
  createSecret,
  e2eTest,
  kc,
  operatorKubeconfig,
  putEvent,
  releaseMappings,
  rotate,
  startOperator,
  testQueue,
  uniqueName,
  waitFor,
} from './harness.js';
import { createWorkload, templateState } from './workloads-fixtures.js';
import { applyMapping, getMapping, waitReason } from './mapping-helpers.js';
import {
  breakingValue,
  conditionOf,
  currentOf,
  eventsOf,
  restartedBack,
  revertOf,
  revertSetup,
  rolloutState,
} from './revert-fixtures.js';

const stampOf = async (ns: string, n: string): Promise<string | undefined> =>
  (await templateState('Deployment', ns, n)).stamp;

e2eTest(
  'onFailure Revert: the first stage fails on the new value; AWSCURRENT moves back, that stage restarts back and rolls out, the rest never restart; one Event, one notification',
  async (scope) => {
    const s = await revertSetup(scope);
    const v2 = await s.rotateToBadValue();
    const reverted = await rolloutState(s.ns, 'Reverted');
    assert.deepEqual(await currentOf(s.arn), [s.v1], 'AWSCURRENT is back on the old version');
    assert.equal(revertOf(reverted), `${v2}>${s.v1} Deployment/a moved`);
    // a restarted back to the old value, and its rollout completes (the old value works).
    const done = await restartedBack(s, 'a');
    assert.equal(done.status?.rollout?.state, 'Reverted');
    for (const n of ['b', 'c']) {
      assert.equal(await stampOf(s.ns, n), undefined, `${n} never restarted`);
      assert.equal((await templateState('Deployment', s.ns, n)).generation, 1);
    }
    assert.equal((await templateState('Deployment', s.ns, 'a')).generation, 3, 'a: to v2, then back');
    assert.equal(conditionOf(done, 'RolloutComplete'), 'False RotationReverted');
    const events = await eventsOf(s.ns, 'RotationReverted');
    assert.equal(events.length, 1, events.join(' | '));
    assert.match(
      events[0],
      new RegExp(`from version ${v2} to ${s.v1}, because the rollout of Deployment/a failed`),
    );
    assert.deepEqual(await eventsOf(s.ns, 'RotationHalted'), [], 'a revert, not a halt');
    // Each RotationDetected names the version AWSCURRENT moved from (the move back too, not "v1 (was v1)").
    assert.deepEqual(
      (await eventsOf(s.ns, 'RotationDetected')).map((e) => e.split(': ')[1]),
      [`AWSCURRENT is now ${v2} (was ${s.v1})`, `AWSCURRENT is now ${s.v1} (was ${v2})`],
    );
    await waitFor('the notification', () => Promise.resolve(s.hook.reasons().includes('RotationReverted')));
    assert.equal(s.hook.reasons().filter((r) => r === 'RotationReverted').length, 1);
    // Quiet afterwards: nothing more is restarted or reverted.
    await rolloutState(s.ns, 'Reverted');
    assert.deepEqual(await currentOf(s.arn), [s.v1]);
    // One move call, counted (an operator alerts on it).
    const calls = (await s.ops[0].metrics())
      .split('\n')
      .filter((l) => l.includes('operation="UpdateSecretVersionStage"'));
    assert.deepEqual(calls, [
      'secrets_rotation_aws_calls_total{operation="UpdateSecretVersionStage",result="success"} 1',
    ]);
  },
  { timeout: 240_000 },
);

e2eTest(
  "a revert restarts back, once, another namespace's mapping of the same secret (its own operator, told by the event AWS emits for the move)",
  async (scope) => {
    const s = await revertSetup(scope);
    // Another team's mapping of the same secret, all at once, in another namespace with its operator.
    const other = { ...scope, namespace: uniqueName('revert-other') };
    await kc(['create', 'namespace', other.namespace]);
    scope.cleanups.push(() => kc(['delete', 'namespace', other.namespace, '--wait=false']));
    const ons = other.namespace;
    await createWorkload({ kind: 'Deployment', namespace: ons, name: 'x' }, { app: 'x' }, { replicas: 1 });
    await applyMapping(ons, 'm', { secretId: s.name, workloads: [{ kind: 'Deployment', name: 'x' }] });
    await startOperator(other, {
      kubeconfig: await operatorKubeconfig(other),
      queueUrl: (await testQueue(other, { withRules: true })).queueUrl,
    });
    scope.cleanups.push(() => releaseMappings(ons));
    await waitReason(ons, 'm', 'WatchingSecret');
    const v2 = await s.rotateToBadValue();
    await waitFor('x restarted for v2', async () => (await stampOf(ons, 'x')) === `${s.name}@${v2}`);
    await rolloutState(s.ns, 'Reverted');
    // What EventBridge delivers for the operator's UpdateSecretVersionStage (the local endpoint emits none).
    await putEvent('AWS API Call via CloudTrail', {
      eventSource: 'secretsmanager.amazonaws.com',
      eventName: 'UpdateSecretVersionStage',
      requestParameters: {
        secretId: s.arn,
        versionStage: 'AWSCURRENT',
        moveToVersionId: s.v1,
        removeFromVersionId: v2,
      },
      responseElements: { arn: s.arn, name: s.name },
    });
    await waitFor(
      'x back on the old version',
      async () =>
        (await getMapping(ons, 'm')).status?.currentVersionId === s.v1 &&
        (await stampOf(ons, 'x')) === `${s.name}@${s.v1}`,
      60_000,
    );
    const restarts = (await eventsOf(ons, 'WorkloadRestarted')).map((e) => e.split(' restarted for ')[1]);
    assert.deepEqual(restarts, [`${s.name}@${v2}`, `${s.name}@${s.v1}`], 'once to v2, once back');
    assert.equal((await templateState('Deployment', ons, 'x')).generation, 3);
    // The event reaches the reverted mapping's operator too: nothing more happens there.
    await rolloutState(s.ns, 'Reverted');
    assert.equal(await stampOf(s.ns, 'b'), undefined);
    assert.equal((await eventsOf(s.ns, 'RotationReverted')).length, 1);
  },
  { timeout: 240_000 },
);

e2eTest(
  'the compare-and-swap: moto refuses UpdateSecretVersionStage when AWSCURRENT is not on RemoveFromVersionId, as AWS does',
  async () => {
    const name = uniqueName('cas');
    const { arn, versionId: v1 } = await createSecret(name);
    const v2 = await rotate(name, arn, { sendEvent: false });
    const v3 = await rotate(name, arn, { sendEvent: false });
    const mover = new SecretStageMover((await awsClients()).sm);
    // AWSCURRENT is on v3: moving it off v2 (what a revert of v2 asks) is refused, nothing moves.
    await assert.rejects(mover.moveCurrent(arn, v1, v2), CurrentMovedError);
    assert.deepEqual(await currentOf(arn), [v3]);
    await mover.moveCurrent(arn, v2, v3);
    assert.deepEqual(await currentOf(arn), [v2]);
  },
);

e2eTest(
  'the stage restarted back fails too: the rotation stays Halted, AWSCURRENT stays on the old version (no second revert)',
  async (scope) => {
    const s = await revertSetup(scope);
    // The old value breaks the pods as well (it was never in a pod template: a had no stamp).
    await breakingValue(scope, s.ns, `${s.name}@${s.v1}`);
    const v2 = await s.rotateToBadValue();
    const halted = await waitFor('halted after the revert', async () => {
      const m = await getMapping(s.ns, 'm');
      return m.status?.rollout?.state === 'Halted' && m.status.rollout.versionId === s.v1 ? m : undefined;
    });
    assert.match(
      halted.status?.rollout?.message ?? '',
      new RegExp(`AWSCURRENT reverted from ${v2} to ${s.v1} .*; then halted at stage 1`),
    );
    assert.equal(revertOf(halted), `${v2}>${s.v1} Deployment/a moved`);
    assert.equal(conditionOf(halted, 'RolloutComplete'), 'False RolloutHalted');
    assert.deepEqual(await currentOf(s.arn), [s.v1]);
    assert.equal((await eventsOf(s.ns, 'RotationReverted')).length, 1);
    for (const n of ['b', 'c']) assert.equal(await stampOf(s.ns, n), undefined, `${n} never restarted`);
  },
  { timeout: 240_000 },
);

e2eTest(
  "a revert wakes the operator's other mappings of the secret at once (no event needed): one in the same namespace restarts back, once",
  async (scope) => {
    const s = await revertSetup(scope);
    await createWorkload({ kind: 'Deployment', namespace: s.ns, name: 'x' }, { app: 'x' }, { replicas: 1 });
    await applyMapping(s.ns, 'm2', { secretId: s.name, workloads: [{ kind: 'Deployment', name: 'x' }] });
    await waitReason(s.ns, 'm2', 'WatchingSecret');
    const v2 = await s.rotateToBadValue();
    await waitFor('x restarted for v2', async () => (await stampOf(s.ns, 'x')) === `${s.name}@${v2}`);
    await rolloutState(s.ns, 'Reverted');
    // No event for the move reaches the queue (the local endpoint emits none): only the wake-up, well
    // before the 30 s fallback look at a rollout in progress.
    await waitFor(
      'x back on the old version',
      async () =>
        (await getMapping(s.ns, 'm2')).status?.currentVersionId === s.v1 &&
        (await stampOf(s.ns, 'x')) === `${s.name}@${s.v1}`,
      10_000,
    );
    const restarts = (await eventsOf(s.ns, 'WorkloadRestarted', 'm2')).map(
      (e) => e.split(' restarted for ')[1],
    );
    assert.deepEqual(restarts, [`${s.name}@${v2}`, `${s.name}@${s.v1}`], 'once to v2, once back');
    assert.equal((await templateState('Deployment', s.ns, 'x')).generation, 3);
  },
  { timeout: 240_000 },
);

e2eTest(
  'a failure in the last stage (here the only one: every workload at once) is reverted too, though status.currentVersionId moved on to the failed version when that stage restarted',
  async (scope) => {
    const s = await revertSetup(scope, { stageSize: 3 });
    const v2 = await s.rotateToBadValue();
    const moved = await waitFor('the revert made', async () => {
      const m = await getMapping(s.ns, 'm');
      return revertOf(m).endsWith(' moved') ? m : undefined;
    });
    assert.match(revertOf(moved), new RegExp(`^${v2}>${s.v1} Deployment/[abc] moved$`));
    assert.deepEqual(await currentOf(s.arn), [s.v1], 'AWSCURRENT is back on the old version');
    // All three restarted back and rolled out, though b and c, restarted back at their own v2
    // deadline, may carry the v2 rollout's ProgressDeadlineExceeded onto the new generation (the
    // deployment controller keeps it when a status write conflicts): not a failure of the restart back.
    for (const n of ['a', 'b', 'c']) await restartedBack(s, n);
    assert.equal((await getMapping(s.ns, 'm')).status?.rollout?.state, 'Reverted');
    assert.equal((await eventsOf(s.ns, 'RotationReverted')).length, 1);
  },
  { timeout: 240_000 },
);
