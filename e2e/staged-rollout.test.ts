import assert from 'node:assert/strict';
import { PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import type { Mapping, MappingSpec } from '../resources/types.js';
import {
  adminClients,
  createSecret,
  e2eTest,
  installCrd,
  kc,
  operatorKubeconfig,
  rotate,
  FAST_LEASE,
  leads,
  startOperator,
  testQueue,
  uniqueName,
  waitFor,
  type Scope,
} from './harness.js';
import { applyMapping, getMapping, mappingEvents, waitReason } from './mapping-helpers.js';
import { createDeployments, createWorkload, templateState } from './workloads-fixtures.js';
import { freezeComponent } from './env/env.js';

const staged = (
  secretId: string,
  names: string[],
  more: Partial<NonNullable<MappingSpec['rollout']>> = {},
) => ({
  secretId,
  workloads: names.map((name) => ({ kind: 'Deployment' as const, name })),
  rollout: { strategy: 'Staged' as const, stageSize: 1, ...more },
});

/** The mapping's Events, oldest first, as `Reason message`. */
const events = async (namespace: string, name: string): Promise<string[]> =>
  (await mappingEvents(namespace, name)).map((e) => `${e.reason} ${e.message}`);

/** Every status of the mapping a watch delivers, as `name=state/rollout/versionId;…` lines. */
async function watchWorkloads(scope: Scope, ns: string, name: string): Promise<{ lines: () => string[] }> {
  const out: string[] = [];
  const { config } = await adminClients();
  const request = await new Watch(config).watch(
    `/apis/secretsrotation.io/v1alpha1/namespaces/${ns}/secretsrotationmappings`,
    { fieldSelector: `metadata.name=${name}` },
    (_type: string, m: Mapping) => {
      out.push(
        (m.status?.workloads ?? [])
          .map((w) => `${w.name}=${w.state}/${w.rollout ?? ''}/${w.versionId};`)
          .join(''),
      );
    },
    () => undefined,
  );
  scope.cleanups.push(() => Promise.resolve(request.abort()));
  return { lines: () => out.filter(Boolean) };
}

/** Waits until the mapping's staged rotation is in `state` (for `versionId`, when given). */
function rolloutIn(
  ns: string,
  state: string,
  opts: { versionId?: string; timeoutMs?: number } = {},
): Promise<Mapping> {
  return waitFor(
    `the staged rotation ${state}${opts.versionId ? ` for ${opts.versionId}` : ''}`,
    async () => {
      const got = await getMapping(ns, 'm');
      const r = got.status?.rollout;
      return r?.state === state && (!opts.versionId || r.versionId === opts.versionId) ? got : undefined;
    },
    opts.timeoutMs ?? 90_000,
  );
}

const state = (m: Mapping, name: string): string | undefined =>
  m.status?.workloads?.find((w) => w.name === name)?.state;

/** Three Deployments and a Staged mapping over them; the operator running; returns the secret. */
async function setUp(
  scope: Scope,
  names: string[],
  opts: { failing?: string; rollout?: Partial<NonNullable<MappingSpec['rollout']>> } = {},
) {
  const ns = scope.namespace;
  await installCrd();
  const name = uniqueName('staged');
  const secret = await createSecret(name);
  await createDeployments(ns, names, opts.failing);
  await applyMapping(ns, 'm', staged(name, names, opts.rollout));
  const queue = await testQueue(scope, { withRules: true });
  const kubeconfig = await operatorKubeconfig(scope);
  const start = (): ReturnType<typeof startOperator> =>
    startOperator(scope, { kubeconfig, queueUrl: queue.queueUrl });
  const op = await start();
  await waitReason(ns, 'm', 'WatchingSecret');
  return { name, arn: secret.arn, op, start };
}

const stamped = async (ns: string, n: string, stamp: string): Promise<boolean> =>
  (await templateState('Deployment', ns, n)).stamp === stamp;

e2eTest(
  'Staged, healthy: the three listed workloads restart one after another, each after the previous rolled out',
  async (scope) => {
    const ns = scope.namespace;
    const { name, arn } = await setUp(scope, ['c', 'a', 'b']);
    const watch = await watchWorkloads(scope, ns, 'm');
    await waitFor('the watch started', () => Promise.resolve(watch.lines().length > 0));
    const v2 = await rotate(name, arn);
    const stamp = `${name}@${v2}`;
    const m = await rolloutIn(ns, 'Complete', { versionId: v2, timeoutMs: 120_000 });
    for (const n of ['c', 'a', 'b']) assert.ok(await stamped(ns, n, stamp), `${n} restarted for ${v2}`);
    const at = (n: string): number =>
      Date.parse(m.status?.workloads?.find((w) => w.name === n)?.restartedAt ?? '');
    assert.ok(at('c') < at('a') && at('a') < at('b'), 'restartedAt increases in the listed order');
    // Each stage starts only after the previous one's rollout completed: in every status the watch
    // delivered, a workload at v2 comes after one whose v2 rollout is Complete.
    for (const snapshot of watch.lines()) {
      const byName = new Map(
        snapshot
          .split(';')
          .filter(Boolean)
          .map((w) => [w.split('=')[0], w.split('=')[1]]),
      );
      for (const [before, next] of [
        ['c', 'a'],
        ['a', 'b'],
      ])
        if (byName.get(next)?.endsWith(`/${v2}`))
          assert.match(
            byName.get(before) ?? '',
            new RegExp(`^Restarted/Complete/${v2}$`),
            `${snapshot}: ${next} before ${before} rolled out`,
          );
    }
    assert.ok(watch.lines().length >= 3, `the watch saw the stages: ${watch.lines().join(' | ')}`);
    assert.equal(
      (await events(ns, 'm')).filter((e) => e.startsWith('RotationDetected')).length,
      1,
      'one rotation, announced once',
    );
    assert.match(await kc(['-n', ns, 'get', 'srm', 'm']), /\s3\/3 Complete\s/);
  },
);

e2eTest(
  'Staged, the first stage slow to roll out (the deployment controller stopped 25 s): each workload restarts once and the rotation is announced once',
  async (scope) => {
    const ns = scope.namespace;
    const { name, arn } = await setUp(scope, ['c', 'a', 'b']);
    // A CI run saw the deployment controller act on the first stage ~26 s late (its informers
    // re-watching after an API server restart) and the rotation announced a second time. Stopped
    // before the rotation, so the first stage's rollout cannot end before it resumes.
    const frozen = freezeComponent('kube-controller-manager', 25_000);
    const v2 = await rotate(name, arn);
    const stamp = `${name}@${v2}`;
    await waitFor('c restarted for v2', () => stamped(ns, 'c', stamp));
    await waitFor('c recorded InProgress while the deployment controller is stopped', async () => {
      const c = (await getMapping(ns, 'm')).status?.workloads?.find((w) => w.name === 'c');
      return c?.versionId === v2 && c.rollout === 'InProgress';
    });
    await frozen;
    const m = await rolloutIn(ns, 'Complete', { versionId: v2, timeoutMs: 120_000 });
    for (const n of ['c', 'a', 'b']) {
      assert.ok(await stamped(ns, n, stamp), `${n} restarted for ${v2}`);
      assert.equal((await templateState('Deployment', ns, n)).generation, 2, `${n} restarted once`);
    }
    const all = await events(ns, 'm');
    assert.equal(all.filter((e) => e.startsWith('RotationDetected')).length, 1, all.join(' | '));
    assert.equal(m.status?.workloads?.length, 3);
  },
  { timeout: 240_000 },
);

e2eTest(
  'Staged, the first workload fails: only it restarts, the other two are Held, RolloutHalted; resume continues; a newer version starts over',
  async (scope) => {
    const ns = scope.namespace;
    const { name, arn } = await setUp(scope, ['a', 'b', 'c'], { failing: 'a' });
    const v2 = await rotate(name, arn);
    const halted = await rolloutIn(ns, 'Halted');
    assert.ok(await stamped(ns, 'a', `${name}@${v2}`), 'a restarted');
    for (const n of ['b', 'c']) {
      assert.equal(state(halted, n), 'Held');
      assert.equal((await templateState('Deployment', ns, n)).stamp, undefined, `${n} not restarted`);
    }
    const rc = halted.status?.conditions?.find((c) => c.type === 'RolloutComplete');
    assert.deepEqual([rc?.status, rc?.reason], ['False', 'RolloutHalted']);
    assert.equal(halted.status?.rollout?.progress, '1/3 Halted');
    const halt = (await events(ns, 'm')).filter((e) => e.startsWith('RotationHalted'));
    assert.equal(halt.length, 1);
    assert.match(halt[0], new RegExp(`version ${v2} halted: the rollout of Deployment/a failed`));
    assert.match(await kc(['-n', ns, 'get', 'srm', 'm']), /\s1\/3 Halted\s/);

    // A new value of the resume annotation accepts the failure: b, then c.
    await kc(['-n', ns, 'annotate', 'srm', 'm', 'secretsrotation.io/resume=1']);
    await waitFor(
      'b and c restarted',
      async () => (await stamped(ns, 'b', `${name}@${v2}`)) && (await stamped(ns, 'c', `${name}@${v2}`)),
      90_000,
    );
    const resumed = await rolloutIn(ns, 'Complete');
    assert.equal(resumed.status?.rollout?.resumedStage, 1);

    // A newer version starts a new staged rotation from the first stage: a again, and a halt again.
    const v3 = await rotate(name, arn);
    const again = await rolloutIn(ns, 'Halted', { versionId: v3 });
    assert.ok(await stamped(ns, 'a', `${name}@${v3}`));
    assert.deepEqual([state(again, 'b'), state(again, 'c')], ['Held', 'Held']);
    assert.ok(await stamped(ns, 'b', `${name}@${v2}`), 'b still runs v2');
  },
);

e2eTest(
  'Staged, a restart whose status write was lost: the stamp naming the version is followed as our rollout, its failure halts the rotation',
  async (scope) => {
    const ns = scope.namespace;
    const { name, arn, op, start } = await setUp(scope, ['c', 'a', 'b'], { failing: 'c' });
    // The leader patched c for v2, then died before its status write: the API server holds the
    // patch, the mapping's status still names v1. Made here by hand, exactly as that patch left it.
    await op.kill('SIGKILL');
    const v2 = await rotate(name, arn);
    const stamp = `${name}@${v2}`;
    const { apps } = await adminClients();
    await apps.patchNamespacedDeployment(
      {
        namespace: ns,
        name: 'c',
        body: [
          {
            op: 'add',
            path: '/spec/template/metadata/annotations',
            value: {
              'secretsrotation.io/secret-version': stamp,
              'secretsrotation.io/restartedAt': new Date().toISOString(),
            },
          },
        ],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    await start();
    const halted = await rolloutIn(ns, 'Halted', { versionId: v2 });
    for (const n of ['a', 'b']) {
      assert.equal(state(halted, n), 'Held');
      assert.equal((await templateState('Deployment', ns, n)).stamp, undefined, `${n} not restarted`);
    }
    assert.equal(halted.status?.workloads?.find((w) => w.name === 'c')?.rollout, 'Failed');
    const halt = (await events(ns, 'm')).filter((e) => e.startsWith('RotationHalted'));
    assert.equal(halt.length, 1);
    assert.match(halt[0], new RegExp(`version ${v2} halted: the rollout of Deployment/c failed`));
    assert.equal(
      (await events(ns, 'm')).filter((e) => e.startsWith('WorkloadRestarted')).length,
      0,
      'c is not patched again',
    );
  },
);

e2eTest(
  'Staged with a pause: the leader killed between stages, the new leader continues where the status says, each workload restarted once',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const name = uniqueName('staged-ha');
    const secret = await createSecret(name);
    for (const n of ['a', 'b', 'c'])
      await createWorkload({ kind: 'Deployment', namespace: ns, name: n }, { app: n }, { replicas: 1 });
    await applyMapping(ns, 'm', staged(name, ['a', 'b', 'c'], { pause: '8s' }));
    const queue = await testQueue(scope, { withRules: true });
    const kubeconfig = await operatorKubeconfig(scope);
    const env = { ...FAST_LEASE, RESYNC_INTERVAL: '0s' };
    const first = await startOperator(scope, { kubeconfig, queueUrl: queue.queueUrl, env });
    const second = await startOperator(scope, { kubeconfig, queueUrl: queue.queueUrl, env });
    await waitReason(ns, 'm', 'WatchingSecret');
    const leader = await waitFor('a leader', async () =>
      (await leads(first)) ? first : (await leads(second)) ? second : undefined,
    );
    const follower = leader === first ? second : first;
    const v2 = await rotate(name, secret.arn);
    await rolloutIn(ns, 'Paused', { versionId: v2 });
    await leader.kill('SIGKILL');
    await waitFor('the follower leads', () => leads(follower), 20_000);
    const done = await rolloutIn(ns, 'Complete');
    for (const n of ['a', 'b', 'c']) assert.ok(await stamped(ns, n, `${name}@${v2}`), `${n} at ${v2}`);
    const restarts = (await events(ns, 'm')).filter((e) => e.startsWith('WorkloadRestarted'));
    assert.deepEqual(
      restarts.map((e) => e.split(' ')[1]).sort(),
      ['Deployment/a', 'Deployment/b', 'Deployment/c'],
      'each once',
    );
    // The pause held across the change of leader: stage 2 began at least 8 s after stage 1 completed.
    const at = (n: string): number =>
      Date.parse(done.status?.workloads?.find((w) => w.name === n)?.restartedAt ?? '');
    assert.ok(at('b') - at('a') >= 8000, `b restarted ${at('b') - at('a')} ms after a`);
  },
);
