import assert from 'node:assert/strict';
import {
  adminClients,
  createSecret,
  e2eTest,
  installCrd,
  operatorKubeconfig,
  rotate,
  startOperator,
  testQueue,
  uniqueName,
  waitFor,
  type Scope,
} from './harness.js';
import { applyMapping, eventReasons, getMapping, waitReason } from './mapping-helpers.js';
import { createWorkload } from './workloads-fixtures.js';

const N = 50;

async function fifty(scope: Scope, env: Record<string, string>): Promise<{ name: string; arn: string }> {
  await installCrd();
  const name = uniqueName('fifty');
  const { arn } = await createSecret(name);
  for (let i = 0; i < N; i++)
    await createWorkload(
      { kind: 'Deployment', namespace: scope.namespace, name: `w-${i}` },
      { fleet: 'f' },
      { replicas: 0 },
    );
  await applyMapping(scope.namespace, 'm', { secretId: name, selector: { matchLabels: { fleet: 'f' } } });
  const queue = await testQueue(scope, { withRules: true });
  await startOperator(scope, { kubeconfig: await operatorKubeconfig(scope), queueUrl: queue.queueUrl, env });
  await waitReason(scope.namespace, 'm', 'WatchingSecret');
  return { name, arn };
}

e2eTest(
  '50 workloads, 5 restarts/s: restarts spread by the token bucket, none lost, none twice',
  async (scope) => {
    const { name, arn } = await fifty(scope, { RESTART_RATE_LIMIT: '5', RESTART_BURST: '5' });
    const v2 = await rotate(name, arn);
    const { apps } = await adminClients();
    const list = await waitFor(
      'all 50 restarted',
      async () => {
        const l = await apps.listNamespacedDeployment({ namespace: scope.namespace });
        return l.items.every(
          (d) =>
            d.spec?.template.metadata?.annotations?.['secretsrotation.io/secret-version'] === `${name}@${v2}`,
        )
          ? l
          : undefined;
      },
      60_000,
    );
    assert.equal(list.items.length, N);
    assert.ok(
      list.items.every((d) => d.metadata?.generation === 2),
      'exactly one restart each',
    );
    const times = list.items
      .map((d) =>
        Date.parse(d.spec?.template.metadata?.annotations?.['secretsrotation.io/restartedAt'] ?? ''),
      )
      .sort((a, b) => a - b);
    const span = times[N - 1] - times[0];
    let busiest = 0;
    for (let i = 0; i < N; i++)
      busiest = Math.max(busiest, times.filter((t) => t >= times[i] && t < times[i] + 1000).length);
    console.log(`50 restarts over ${span} ms; at most ${busiest} in any 1 s window`);
    assert.ok(span >= ((N - 5) / 5) * 1000 * 0.9, `spread over ≥ ~9 s (${span} ms)`);
    // A token bucket lets the burst (5) through at once, then 5 per second: at most 10 in any second.
    assert.ok(busiest <= 5 + 5, `≤ burst + rate in any second (${busiest})`);
    // The status is written after the pass's last restart: waited for, not read at once.
    await waitFor(
      'the status at v2',
      async () => (await getMapping(scope.namespace, 'm')).status?.currentVersionId === v2,
    );
  },
);

e2eTest('dry run restarts nothing and reports all 50', async (scope) => {
  const { name, arn } = await fifty(scope, { DRY_RUN: 'true' });
  const v2 = await rotate(name, arn);
  const m = await waitFor('all 50 reported', async () => {
    const got = await getMapping(scope.namespace, 'm');
    return got.status?.workloads?.filter((w) => w.state === 'DryRun').length === N ? got : undefined;
  });
  assert.ok(m.status?.workloads?.every((w) => w.message === `dry run: would restart for version ${v2}`));
  const { apps } = await adminClients();
  const list = await apps.listNamespacedDeployment({ namespace: scope.namespace });
  assert.ok(
    list.items.every((d) => d.metadata?.generation === 1 && !d.spec?.template.metadata?.annotations),
    'nothing restarted',
  );
  // One pass, 50 Events: four are written at once, the rest wait and follow its status.
  const wouldRestart = async (): Promise<number> =>
    (await eventReasons(scope.namespace, 'm')).filter((r) => r === 'WouldRestart').length;
  await waitFor('a WouldRestart Event for each', async () => (await wouldRestart()) >= N);
  assert.equal(await wouldRestart(), N);
});
