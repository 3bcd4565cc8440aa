import assert from 'node:assert/strict';
import {
  createSecret,
  e2eTest,
  installCrd,
  kc,
  operatorKubeconfig,
  putEvent,
  putSecretValueEvent,
  drained,
  rotate,
  startOperator,
  testQueue,
  uniqueName,
  waitFor,
} from './harness.js';
import { applyMapping, eventReasons, getMapping, ready, waitReason } from './mapping-helpers.js';
import { createWorkload, templateState } from './workloads-fixtures.js';

const KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;

e2eTest('a rotation restarts every matched workload exactly once, and nothing else', async (scope) => {
  const ns = scope.namespace;
  await installCrd();
  const secretName = uniqueName('db');
  const secret = await createSecret(secretName);
  for (const kind of KINDS)
    await createWorkload(
      { kind, namespace: ns, name: `app-${kind.toLowerCase()}` },
      { environment: 'operatortest' },
    );
  await createWorkload({ kind: 'Deployment', namespace: ns, name: 'unrelated' }, { environment: 'other' });
  await applyMapping(ns, 'm', {
    secretId: secretName,
    selector: { matchLabels: { environment: 'operatortest' } },
  });
  const queue = await testQueue(scope, { withRules: true });
  await startOperator(scope, { kubeconfig: await operatorKubeconfig(scope), queueUrl: queue.queueUrl });

  await kc(['-n', ns, 'wait', '--for=condition=Ready', 'srm/m', '--timeout=30s']);
  const m = await getMapping(ns, 'm');
  assert.ok(m.metadata.finalizers?.includes('secretsrotation.io/finalizer'));
  assert.equal(m.status?.currentVersionId, secret.versionId, 'a new mapping adopts the current version');
  assert.equal(m.status?.secretArn, secret.arn);
  assert.equal(m.status?.matchedWorkloads, 3);
  const table = await kc(['-n', ns, 'get', 'srm']);
  assert.match(table, /NAME\s+SECRET\s+WORKLOADS\s+LAST ROTATION\s+READY\s+REASON\s+ROLLOUT\s+AGE/);
  assert.match(table, new RegExp(`m\\s+${secretName}\\s+3\\s+True\\s+WatchingSecret`));

  const names = [
    ...KINDS.map((k) => [k, `app-${k.toLowerCase()}`] as const),
    ['Deployment', 'unrelated'] as const,
  ];
  const before = await Promise.all(names.map(([k, n]) => templateState(k, ns, n)));
  assert.ok(
    before.every((s) => s.stamp === undefined),
    'baseline restarts nothing',
  );

  const v2 = await rotate(secretName, secret.arn);
  await waitFor('all three workloads restarted', async () => {
    const s = await Promise.all(names.slice(0, 3).map(([k, n]) => templateState(k, ns, n)));
    return s.every((x) => x.stamp === `${secretName}@${v2}`);
  });
  await kc(['-n', ns, 'rollout', 'status', 'deployment/app-deployment', '--timeout=60s']);
  const rs = await kc([
    '-n',
    ns,
    'get',
    'rs',
    '-l',
    'app=app-deployment',
    '-o',
    'jsonpath={range .items[*]}{.status.replicas}{" "}{end}',
  ]);
  assert.deepEqual(
    rs.trim().split(' ').sort(),
    ['0', '2'],
    'a new ReplicaSet took over, the old one scaled to 0',
  );

  // The same event 5 more times (duplicate deliveries): nothing more may restart.
  for (let i = 0; i < 5; i++)
    await putEvent('AWS API Call via CloudTrail', putSecretValueEvent(secretName, secret.arn, v2));
  await drained(queue.queueUrl);
  const after = await waitReason(ns, 'm', 'WatchingSecret');
  assert.equal(ready(after).status, 'True');
  const mid = await Promise.all(names.map(([k, n]) => templateState(k, ns, n)));
  assert.deepEqual(
    mid.map((s, i) => s.generation - before[i].generation),
    [1, 1, 1, 0],
    'exactly one template change per matched workload',
  );
  assert.ok((await eventReasons(ns, 'm')).includes('WorkloadRestarted'));
  assert.equal(mid[3].stamp, undefined, 'the unrelated workload is untouched');
});

e2eTest(
  'two mappings on one workload and one secret version make one rollout; deleting a mapping rolls nothing',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const secretName = uniqueName('shared');
    const secret = await createSecret(secretName);
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'web' }, { tier: 'web' });
    await applyMapping(ns, 'by-selector', {
      secretId: secretName,
      selector: { matchLabels: { tier: 'web' } },
    });
    await applyMapping(ns, 'by-name', {
      secretId: secret.arn,
      workloads: [{ kind: 'Deployment', name: 'web' }],
    });
    const queue = await testQueue(scope, { withRules: true });
    await startOperator(scope, { kubeconfig: await operatorKubeconfig(scope), queueUrl: queue.queueUrl });
    await waitReason(ns, 'by-selector', 'WatchingSecret');
    await waitReason(ns, 'by-name', 'WatchingSecret');
    const before = await templateState('Deployment', ns, 'web');

    const v2 = await rotate(secretName, secret.arn);
    await waitFor('both mappings recorded the new version', async () => {
      const [a, b] = await Promise.all([getMapping(ns, 'by-selector'), getMapping(ns, 'by-name')]);
      return a.status?.currentVersionId === v2 && b.status?.currentVersionId === v2;
    });
    const after = await templateState('Deployment', ns, 'web');
    assert.equal(after.stamp, `${secretName}@${v2}`);
    assert.equal(after.generation - before.generation, 1, 'one template change for two mappings');

    await kc(['-n', ns, 'delete', 'srm/by-name', '--timeout=30s']);
    await kc(['-n', ns, 'delete', 'srm/by-selector', '--timeout=30s']);
    assert.equal(
      (await templateState('Deployment', ns, 'web')).generation,
      after.generation,
      'deleting mappings rolls nothing',
    );
  },
);

e2eTest('specs the schema can judge are refused at apply with a readable message', async (scope) => {
  const ns = scope.namespace;
  await installCrd();
  const bad: [string, object, RegExp][] = [
    ['no secretId', { selector: { matchLabels: { a: 'b' } } }, /spec.secretId: Required value/],
    ['empty secretId', { secretId: '', selector: { matchLabels: { a: 'b' } } }, /spec.secretId/],
    ['no target', { secretId: 's' }, /at least one target is required/],
    ['empty selector', { secretId: 's', selector: {} }, /selector must not be empty/],
    ['empty matchLabels', { secretId: 's', selector: { matchLabels: {} } }, /selector must not be empty/],
    [
      'bad kind',
      { secretId: 's', workloads: [{ kind: 'CronJob', name: 'x' }] },
      /Unsupported value: "CronJob"/,
    ],
    [
      'bad kinds',
      { secretId: 's', selector: { matchLabels: { a: 'b' } }, kinds: ['Pod'] },
      /Unsupported value: "Pod"/,
    ],
    [
      'bad duration',
      { secretId: 's', selector: { matchLabels: { a: 'b' } }, minRestartInterval: '5 minutes' },
      /minRestartInterval/,
    ],
    [
      'a duration longer than a week (600h overflowed timers into a busy loop)',
      { secretId: 's', selector: { matchLabels: { a: 'b' } }, minRestartInterval: '600h' },
      /minRestartInterval may be at most 168h/,
    ],
    [
      'In without values',
      { secretId: 's', selector: { matchExpressions: [{ key: 'a', operator: 'In' }] } },
      /In and NotIn need values/,
    ],
    ['bad secret id', { secretId: 'has spaces', selector: { matchLabels: { a: 'b' } } }, /spec.secretId/],
  ];
  for (const [what, spec, message] of bad) {
    await assert.rejects(applyMapping(ns, 'bad', spec as never), (err: Error & { stderr?: string }) => {
      assert.match(String(err.stderr ?? err.message), message, what);
      return true;
    });
  }
});

e2eTest(
  'what the schema cannot judge is reported on Ready with a precise reason and an Event',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const secretName = uniqueName('present');
    await createSecret(secretName);
    await createWorkload(
      { kind: 'Deployment', namespace: ns, name: 'paused' },
      { app: 'paused' },
      { paused: true },
    );
    await createWorkload(
      { kind: 'StatefulSet', namespace: ns, name: 'ondelete' },
      { app: 'ondelete' },
      { onDelete: true },
    );
    await applyMapping(ns, 'bad-label', {
      secretId: secretName,
      selector: { matchLabels: { 'bad key!': 'x' } },
    });
    await applyMapping(ns, 'two-slashes', {
      secretId: secretName,
      selector: { matchExpressions: [{ key: 'example.com/a/b', operator: 'Exists' }] },
    });
    await applyMapping(ns, 'no-secret', {
      secretId: uniqueName('absent'),
      selector: { matchLabels: { app: 'x' } },
    });
    await applyMapping(ns, 'no-workloads', {
      secretId: secretName,
      selector: { matchLabels: { app: 'nothing' } },
    });
    await applyMapping(ns, 'missing', {
      secretId: secretName,
      workloads: [{ kind: 'Deployment', name: 'ghost' }],
    });
    await applyMapping(ns, 'blocked', {
      secretId: secretName,
      selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['paused', 'ondelete'] }] },
    });
    const queue = await testQueue(scope, { withRules: true });
    await startOperator(scope, { kubeconfig: await operatorKubeconfig(scope), queueUrl: queue.queueUrl });

    const invalid = await waitReason(ns, 'bad-label', 'InvalidSpec');
    assert.match(ready(invalid).message ?? '', /invalid label key "bad key!"/);
    assert.ok((await eventReasons(ns, 'bad-label')).includes('InvalidSpec'));
    const slashes = await waitReason(ns, 'two-slashes', 'InvalidSpec');
    assert.match(ready(slashes).message ?? '', /invalid label key "example.com\/a\/b"/);
    const notFound = await waitReason(ns, 'no-secret', 'SecretNotFound');
    assert.equal(ready(notFound).status, 'False');
    assert.ok((await eventReasons(ns, 'no-secret')).includes('SecretNotFound'));
    await waitReason(ns, 'no-workloads', 'NoWorkloads');
    const missing = await waitReason(ns, 'missing', 'NoWorkloads');
    assert.deepEqual(
      missing.status?.workloads?.map((w) => [w.name, w.state]),
      [['ghost', 'Missing']],
    );
    assert.ok((await eventReasons(ns, 'missing')).includes('WorkloadMissing'));

    // A paused Deployment and an OnDelete StatefulSet get the new template, and the status says they will not roll now.
    await waitReason(ns, 'blocked', 'WatchingSecret');
    const secret = await getMapping(ns, 'blocked');
    const v2 = await rotate(secretName, secret.status?.secretArn ?? '');
    const blocked = await waitFor('blocked workloads reported', async () => {
      const m = await getMapping(ns, 'blocked');
      return m.status?.currentVersionId === v2 ? m : undefined;
    });
    assert.deepEqual(
      blocked.status?.workloads?.map((w) => [w.kind, w.state]),
      [
        ['Deployment', 'Paused'],
        ['StatefulSet', 'OnDelete'],
      ],
    );
    assert.ok((await eventReasons(ns, 'blocked')).includes('WorkloadBlocked'));
  },
);

e2eTest(
  'suspend restarts nothing; minRestartInterval folds changes into one trailing restart',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const secretName = uniqueName('flappy');
    const secret = await createSecret(secretName);
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'web' }, { app: 'web' });
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'held' }, { app: 'held' });
    await applyMapping(ns, 'debounced', {
      secretId: secretName,
      selector: { matchLabels: { app: 'web' } },
      minRestartInterval: '4s',
    });
    await applyMapping(ns, 'suspended', {
      secretId: secretName,
      selector: { matchLabels: { app: 'held' } },
      suspend: true,
    });
    const queue = await testQueue(scope, { withRules: true });
    await startOperator(scope, { kubeconfig: await operatorKubeconfig(scope), queueUrl: queue.queueUrl });
    await waitReason(ns, 'debounced', 'WatchingSecret');
    await waitReason(ns, 'suspended', 'Suspended');
    const g0 = (await templateState('Deployment', ns, 'web')).generation;

    const v2 = await rotate(secretName, secret.arn);
    await waitFor(
      'first change restarts at once',
      async () => (await templateState('Deployment', ns, 'web')).stamp === `${secretName}@${v2}`,
    );
    const first = await templateState('Deployment', ns, 'web');
    await rotate(secretName, secret.arn);
    const v4 = await rotate(secretName, secret.arn);
    const pending = await waitFor('the trailing restart is pending', async () => {
      const m = await getMapping(ns, 'debounced');
      return m.status?.workloads?.[0]?.state === 'Pending' ? m : undefined;
    });
    assert.equal(pending.status?.workloads?.[0]?.versionId, v2);
    await waitFor(
      'one trailing restart with the latest version',
      async () => (await templateState('Deployment', ns, 'web')).stamp === `${secretName}@${v4}`,
      15_000,
    );
    const last = await templateState('Deployment', ns, 'web');
    assert.equal(last.generation - g0, 2, 'three changes, two restarts: the first at once and one trailing');
    assert.ok(
      Date.parse(last.restartedAt ?? '') - Date.parse(first.restartedAt ?? '') >= 4000,
      'the interval was honoured',
    );

    const held = await getMapping(ns, 'suspended');
    assert.equal(
      (await templateState('Deployment', ns, 'held')).stamp,
      undefined,
      'suspend restarts nothing',
    );
    assert.equal(held.status?.workloads?.[0]?.state, 'Suspended');
  },
);
