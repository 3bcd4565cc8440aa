import assert from 'node:assert/strict';
import type { FaultClass, RequestLine } from './kit/wire-faults.js';
import { applied, deleteMapping, reasons, restarts, wiredOperator } from './kit/wired-operator.js';
import { createSecret, e2eTest, queueCounts, rotate, uniqueName, waitFor } from './harness.js';
import { applyMapping, getMapping, waitReason } from './mapping-helpers.js';
import { createWorkload, templateState } from './workloads-fixtures.js';

// Faults on the operator's own wire (e2e/kit/fault-relay.ts): a write the server committed whose
// answer never reached the operator, and the other classes, one targeted test each.

const LOSE: FaultClass[] = ['lose-answer-reset', 'lose-answer-hang'];

e2eTest(
  'a workload PATCH and a status write committed but their answers lost: each workload restarted once per version, the status and one Event each record it',
  async (scope) => {
    const names = ['a', 'b', 'c'];
    const w = await wiredOperator(scope, names, { seed: 11 });
    w.kube.inject({ kinds: ['workload-patch'], faults: LOSE, times: 3, delayMs: [5000, 5000] });
    w.kube.inject({ kinds: ['status-write'], faults: LOSE, times: 2, delayMs: [5000, 5000] });
    const v2 = await w.rotate();
    await applied(w, names, v2);
    // A second rotation, on a clean wire: a restart repeated for v2 would show by now as a third change.
    w.kube.clear();
    const v3 = await w.rotate();
    await applied(w, names, v3);
    const lost = w.kube.injected.filter((f) => f.kind === 'workload-patch');
    assert.equal(lost.length, 3, 'three PATCH answers lost');
    assert.ok(
      lost.every((f) => f.status === 200),
      `the server committed each: ${lost.map((f) => f.status).join()}`,
    );
    assert.deepEqual(await restarts(w.ns, names), { a: 2, b: 2, c: 2 });
    const m = await getMapping(w.ns, 'm');
    for (const n of names)
      assert.equal(m.status?.workloads?.find((x) => x.name === n)?.versionId, v3, `${n} in the status`);
    for (const msg of await reasons(w.ns, 'RestartFailed'))
      assert.match(msg, /no answer, the patch may have been applied/, 'no restart reported failed outright');
    const restarted = await reasons(w.ns, 'WorkloadRestarted');
    for (const v of [v2, v3])
      for (const n of names)
        assert.equal(
          restarted.filter((msg) => msg.includes(`Deployment/${n} `) && msg.includes(v)).length,
          1,
          `one WorkloadRestarted for ${n} at ${v}: ${restarted.join(' | ')}`,
        );
  },
);

e2eTest(
  'Staged: every status write of the rotation lost after it committed, the first stage fails: the rotation halts, the held workloads are never restarted',
  async (scope) => {
    const names = ['a', 'b', 'c'];
    const w = await wiredOperator(scope, names, {
      seed: 21,
      failing: 'a',
      rollout: { strategy: 'Staged', stageSize: 1 },
    });
    // The halt's own status write, and the two before it (the stage's start, its restart), lost.
    const halting = (r: RequestLine): boolean => (r.body ?? '').includes('"Halted"');
    w.kube.inject({ kinds: ['status-write'], faults: LOSE, times: 1, match: halting, delayMs: [5000, 5000] });
    w.kube.inject({ kinds: ['status-write'], faults: LOSE, times: 2, delayMs: [5000, 5000] });
    const v2 = await w.rotate();
    const halted = await waitFor(
      'the rotation halted',
      async () => {
        const m = await getMapping(w.ns, 'm');
        return m.status?.rollout?.state === 'Halted' && m.status.rollout.versionId === v2 ? m : undefined;
      },
      120_000,
    );
    // A write after a lost one may carry a stale resourceVersion (409): the server refused that one.
    const lost = (await w.kube.answered()).map((f) => `${f.rule}:${f.status}`);
    assert.ok(lost.includes('0:200'), `the halt committed, its answer lost: ${lost.join()}`);
    assert.ok(lost.includes('1:200'), `a write before the halt committed, its answer lost: ${lost.join()}`);
    assert.equal(halted.status?.workloads?.find((x) => x.name === 'a')?.rollout, 'Failed');
    assert.deepEqual(await restarts(w.ns, names), { a: 1, b: 0, c: 0 });
    assert.equal((await reasons(w.ns, 'RotationHalted')).length, 1, 'one RotationHalted');
  },
);

e2eTest(
  'Staged: the halt’s status write committed but its answer lost, the retry reading the mapping from before it (its watch stalled): one RotationHalted, one RolloutFailed',
  async (scope) => {
    const names = ['a', 'b'];
    const w = await wiredOperator(scope, names, {
      seed: 23,
      failing: 'a',
      rollout: { strategy: 'Staged', stageSize: 1 },
    });
    const halting = (r: RequestLine): boolean => (r.body ?? '').includes('"Halted"');
    w.kube.inject({ kinds: ['status-write'], faults: ['lose-answer-reset'], times: 1, match: halting });
    // From now on the operator learns of its mapping's changes only from its own writes' answers (its
    // watches stall; a relist comes after WATCH_TIMEOUT, 5 min): a lost answer leaves its read stale.
    w.kube.inject({
      kinds: ['watch'],
      faults: ['stall-watch'],
      delayMs: [0, 0],
      match: (r) => r.url.includes('/secretsrotationmappings'),
    });
    w.kube.cutWatches();
    const v2 = await w.rotate();
    // Its status is set once the server answered (the relay then drops the answer).
    const lost = await waitFor(
      'the halt’s answer lost',
      () => Promise.resolve(w.kube.injected.find((f) => f.kind === 'status-write' && f.status !== undefined)),
      120_000,
    );
    assert.equal(lost.status, 200, 'the server committed the halt');
    const m = await getMapping(w.ns, 'm');
    assert.equal(m.status?.rollout?.state, 'Halted');
    assert.equal(m.status?.rollout?.versionId, v2);
    // The pass is retried from the read before the halt: it halts again and writes (a 409: stale).
    const writes = w.kube.seen.get('status-write') ?? 0;
    await waitFor(
      'the retried status write',
      () => Promise.resolve((w.kube.seen.get('status-write') ?? 0) > writes),
      60_000,
    );
    assert.equal((await reasons(w.ns, 'RotationHalted')).length, 1, 'one RotationHalted');
    const failed = (await reasons(w.ns, 'RolloutFailed')).filter((msg) => msg.startsWith('Deployment/a:'));
    assert.equal(failed.length, 1, `one RolloutFailed: ${failed.join(' | ')}`);
    assert.deepEqual(await restarts(w.ns, names), { a: 1, b: 0 });
  },
);

e2eTest(
  'SQS answers lost: a ReceiveMessage whose messages never arrived, a DeleteMessage committed but unanswered, one refused: each rotation restarts each workload once, no message left',
  async (scope) => {
    const names = ['a', 'b'];
    const w = await wiredOperator(scope, names, { seed: 31 });
    // The first receive that carries a message loses it (it comes back after the visibility timeout).
    w.aws.inject({ kinds: ['receive-message'], faults: ['lose-answer-reset'], times: 1 });
    w.aws.inject({
      kinds: ['delete-message'],
      faults: ['lose-answer-reset', 'error-500', 'error-503'],
      times: 3,
    });
    const v2 = await w.rotate();
    await applied(w, names, v2);
    const v3 = await w.rotate();
    await applied(w, names, v3);
    await waitFor(
      'the queue drained',
      async () => {
        const c = await queueCounts(w.queueUrl);
        return c.visible + c.inflight === 0;
      },
      60_000,
    );
    assert.deepEqual(await restarts(w.ns, names), { a: 2, b: 2 });
    assert.ok(w.aws.injected.length >= 3, JSON.stringify(w.aws.counts()));
  },
);

e2eTest(
  'DescribeSecret held until the SDK gives up on one secret: another mapping’s rotation is applied meanwhile, and the held one after',
  async (scope) => {
    // The SDK's request timeout is SQS_WAIT_TIME_SECONDS + 10 s (main.ts): 15 s here, so the other
    // mapping has two of them (30 s) to be applied while the held secret still waits.
    const w = await wiredOperator(scope, ['a'], {
      seed: 41,
      env: { SECRET_CACHE_TTL: '0s', SQS_WAIT_TIME_SECONDS: '5' },
    });
    const other = uniqueName('wire-other');
    const otherSecret = await createSecret(other);
    await createWorkload({ kind: 'Deployment', namespace: w.ns, name: 'z' }, { app: 'z' }, { replicas: 1 });
    await applyMapping(w.ns, 'n', { secretId: other, workloads: [{ kind: 'Deployment', name: 'z' }] });
    await waitReason(w.ns, 'n', 'WatchingSecret');
    // The relay holds each call far longer than the SDK waits, and longer than applied() below waits:
    // only the SDK giving up lets the held rotation through.
    w.aws.inject({
      kinds: ['describe-secret'],
      faults: ['timeout-before', 'lose-answer-hang'],
      times: 2,
      delayMs: [150_000, 150_000],
      match: (r) => (r.body ?? '').includes(w.name),
    });
    const v2 = await w.rotate();
    await waitFor('the first DescribeSecret held', () => Promise.resolve(w.aws.injected.length > 0));
    const u2 = await rotate(other, otherSecret.arn);
    await waitFor(
      'the other mapping applied',
      async () => (await templateState('Deployment', w.ns, 'z')).stamp === `${other}@${u2}`,
      60_000,
    );
    assert.notEqual(
      (await templateState('Deployment', w.ns, 'a')).stamp,
      `${w.name}@${v2}`,
      'z was restarted while the held secret’s DescribeSecret was still held',
    );
    await applied(w, ['a'], v2);
    assert.deepEqual(await restarts(w.ns, ['a', 'z']), { a: 1, z: 1 });
  },
);

e2eTest(
  'Lease writes of both replicas committed but unanswered half the time: leadership moves, and each rotation restarts each workload exactly once',
  async (scope) => {
    const names = ['a', 'b'];
    const w = await wiredOperator(scope, names, { seed: 51, replicas: 2 });
    for (const kube of w.kubes)
      kube.inject({ kinds: ['lease-write'], faults: LOSE, probability: 0.5, delayMs: [2000, 5000] });
    // Rotations until at least four renewals were committed with their answers lost (a write after
    // a lost one carries a stale resourceVersion: refused, it commits nothing).
    const committedLost = (): number =>
      w.kubes.flatMap((k) => k.injected).filter((f) => f.status === 200).length;
    let rotations = 0;
    while (rotations < 5 || (committedLost() < 4 && rotations < 60)) {
      await applied(w, names, await w.rotate(), 120_000);
      rotations++;
    }
    for (const kube of w.kubes) kube.clear();
    assert.ok(committedLost() >= 4, `Lease writes committed with their answers lost: ${committedLost()}`);
    assert.deepEqual(await restarts(w.ns, names), { a: rotations, b: rotations });
  },
);

e2eTest(
  'a mapping deleted, the removal of its finalizer committed but unanswered: the mapping goes, its workload untouched, the operator running',
  async (scope) => {
    const w = await wiredOperator(scope, ['a'], { seed: 81 });
    const finalizerPatch = (r: RequestLine): boolean =>
      r.method === 'PATCH' && /\/secretsrotationmappings\/m$/.test(r.url.split('?')[0]);
    w.kube.inject({
      kinds: ['kube-write'],
      faults: LOSE,
      times: 1,
      match: finalizerPatch,
      delayMs: [5000, 5000],
    });
    await deleteMapping(w, 'm');
    assert.deepEqual(
      (await w.kube.answered()).map((f) => `${f.fault.startsWith('lose-answer')} ${f.status}`),
      ['true 200'],
      'the finalizer removal committed, its answer lost',
    );
    assert.deepEqual(await restarts(w.ns, ['a']), { a: 0 });
    assert.equal(w.ops[0].process.exitCode, null, 'the operator still runs');
  },
);
