import assert from 'node:assert/strict';
import type { Policy } from '../resources/policy-types.js';
import {
  adminClients,
  createSecret,
  drained,
  e2eTest,
  installCrd,
  kc,
  operatorKubeconfig,
  putEvent,
  rotate,
  startOperator,
  testQueue,
  uniqueName,
  waitFor,
} from './harness.js';
import { localAws } from './env/aws-setup.js';
import { applyPolicy } from './kit/policies.js';
import {
  describeCalls,
  eventReasons,
  getMapping,
  mapDeployment,
  ready,
  waitReason,
} from './mapping-helpers.js';
import { templateState } from './workloads-fixtures.js';

async function getPolicy(name: string): Promise<Policy> {
  const { custom } = await adminClients();
  return (await custom.getClusterCustomObject({
    group: 'secretsrotation.io',
    version: 'v1alpha1',
    plural: 'secretsrotationpolicies',
    name,
  })) as Policy;
}

const stampOf = async (ns: string, name: string): Promise<string | undefined> =>
  (await templateState('Deployment', ns, name)).stamp;

e2eTest(
  'a mapping outside its namespace policies is NotAllowed with no AWS call, the same for a missing secret, nothing of the secret in status',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const tenant = uniqueName('tenant');
    await kc(['label', 'namespace', ns, `tenant=${tenant}`]);
    const prefix = uniqueName('team');
    const shared = await createSecret(`shared-${prefix}-db`);
    const account = shared.arn.split(':')[4];
    const policy = uniqueName('policy');
    await applyPolicy(scope, policy, tenant, [
      `${prefix}/*`,
      `arn:aws:secretsmanager:*:${account}:secret:shared-${prefix}-*`,
    ]);
    const foreign = uniqueName('foreign');
    const existing = await createSecret(foreign);
    const missing = uniqueName('missing');
    const otherAccount = `arn:aws:secretsmanager:${localAws.region}:999999999999:secret:shared-${prefix}-db`;
    await mapDeployment(ns, 'existing', foreign);
    await mapDeployment(ns, 'missing', missing);
    await mapDeployment(ns, 'by-arn-existing', existing.arn);
    await mapDeployment(ns, 'other-account', otherAccount);
    const queue = await testQueue(scope, { withRules: true });
    const op = await startOperator(scope, {
      kubeconfig: await operatorKubeconfig(scope),
      queueUrl: queue.queueUrl,
    });

    const refused = [];
    for (const name of ['existing', 'missing', 'by-arn-existing', 'other-account'])
      refused.push(await waitReason(ns, name, 'NotAllowed', 15_000));
    assert.equal(await describeCalls(op), 0, 'no DescribeSecret for a mapping its policies do not allow');
    const [ofExisting, ofMissing] = refused.map((m) => ready(m).message ?? '');
    assert.equal(
      ofExisting.replace(foreign, 'S'),
      ofMissing.replace(missing, 'S'),
      'the same answer whether the secret exists or not',
    );
    assert.match(ofExisting, new RegExp(`governing namespace ${ns} allow \\(${policy}\\)`));
    for (const m of refused) {
      assert.equal(ready(m).status, 'False');
      assert.deepEqual(Object.keys(m.status ?? {}).sort(), ['conditions', 'observedGeneration']);
    }
    assert.doesNotMatch(JSON.stringify(refused[2].status), /versionId|lastRotation/);
    assert.ok((await eventReasons(ns, 'missing')).includes('NotAllowed'), 'a Warning Event says why');

    // Allowed by name and by a pinned ARN: these are watched and restarted.
    const allowed = `${prefix}/db`;
    const a = await createSecret(allowed);
    await mapDeployment(ns, 'allowed', allowed);
    await mapDeployment(ns, 'shared', shared.arn);
    await waitReason(ns, 'allowed', 'WatchingSecret');
    await waitReason(ns, 'shared', 'WatchingSecret');
    await rotate(foreign, existing.arn);
    const v2 = await rotate(allowed, a.arn);
    await waitFor(
      'the allowed mapping restarts',
      async () => (await stampOf(ns, 'allowed')) === `${allowed}@${v2}`,
    );
    assert.equal(
      await stampOf(ns, 'existing'),
      undefined,
      'a rotation of a secret not allowed restarts nothing',
    );
    assert.equal(await stampOf(ns, 'by-arn-existing'), undefined);

    // kubectl get srpol: what the policy governs.
    await waitFor('policy status counts the mappings', async () => {
      const s = (await getPolicy(policy)).status;
      return s?.mappings === 6 && s.notAllowed === 4 && s.namespaces === 1;
    });
    const table = await kc(['get', 'srpol', policy]);
    assert.match(table, /NAMESPACES\s+SECRETS\s+MAPPINGS/);
    assert.match(table, new RegExp(`"tenant":"${tenant}".*${prefix}.*\\s6\\s`));
  },
);

e2eTest(
  'a policy edited or a namespace relabelled re-evaluates its mappings from the watch; DEFAULT_SECRET_POLICY=deny maps nothing ungoverned',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const tenant = uniqueName('tenant');
    await kc(['label', 'namespace', ns, `tenant=${tenant}`]);
    const prefix = uniqueName('team');
    const policy = uniqueName('policy');
    await applyPolicy(scope, policy, tenant, [`${prefix}/*`]);
    const first = `${prefix}/one`;
    const second = `${prefix}/two`;
    const s1 = await createSecret(first);
    const s2 = await createSecret(second);
    await mapDeployment(ns, 'one', first);
    await mapDeployment(ns, 'two', second);
    const queue = await testQueue(scope, { withRules: true });
    const kubeconfig = await operatorKubeconfig(scope);
    const op = await startOperator(scope, { kubeconfig, queueUrl: queue.queueUrl });
    const watching = await waitReason(ns, 'one', 'WatchingSecret');
    assert.equal(watching.status?.secretArn, s1.arn);
    await waitReason(ns, 'two', 'WatchingSecret');

    // Narrowed to `two`: `one` is refused within seconds and forgets its secret's details.
    await applyPolicy(scope, policy, tenant, [second]);
    const refused = await waitReason(ns, 'one', 'NotAllowed', 10_000);
    assert.equal(refused.status?.secretArn, undefined);
    assert.equal(refused.status?.currentVersionId, undefined);
    await rotate(first, s1.arn);
    const v2 = await rotate(second, s2.arn);
    await waitFor(
      'the allowed mapping restarts',
      async () => (await stampOf(ns, 'two')) === `${second}@${v2}`,
    );
    assert.equal(await stampOf(ns, 'one'), undefined, 'a mapping not allowed restarts nothing');

    // Widened again: watched again, and the next rotation restarts it.
    await applyPolicy(scope, policy, tenant, [`${prefix}/*`]);
    await waitReason(ns, 'one', 'WatchingSecret', 10_000);
    const v3 = await rotate(first, s1.arn);
    await waitFor(
      'restarted once allowed again',
      async () => (await stampOf(ns, 'one')) === `${first}@${v3}`,
    );

    // The namespace leaves the policy's selector: ungoverned, so unrestricted by default...
    await applyPolicy(scope, policy, tenant, [second]);
    await waitReason(ns, 'one', 'NotAllowed', 10_000);
    await kc(['label', 'namespace', ns, 'tenant-']);
    await waitReason(ns, 'one', 'WatchingSecret', 10_000);
    await op.kill();

    // ...and, with DEFAULT_SECRET_POLICY=deny, allowed nothing until a policy governs it.
    const deny = await startOperator(scope, {
      kubeconfig,
      queueUrl: queue.queueUrl,
      env: { DEFAULT_SECRET_POLICY: 'deny' },
    });
    const denied = await waitReason(ns, 'one', 'NotAllowed', 15_000);
    assert.match(ready(denied).message ?? '', /DEFAULT_SECRET_POLICY=deny/);
    await waitReason(ns, 'two', 'NotAllowed', 15_000);
    assert.equal(await describeCalls(deny), 0);
    await kc(['label', 'namespace', ns, `tenant=${tenant}`]);
    await waitReason(ns, 'two', 'WatchingSecret', 10_000);
    assert.equal(ready(await getMapping(ns, 'one')).reason, 'NotAllowed');
  },
);

e2eTest('a policy the schema can judge bad is refused at apply with a readable message', async () => {
  await installCrd();
  const apply = async (spec: object): Promise<string> => {
    const body = {
      apiVersion: 'secretsrotation.io/v1alpha1',
      kind: 'SecretsRotationPolicy',
      metadata: { name: uniqueName('bad') },
      spec,
    };
    try {
      await kc(['apply', '--dry-run=server', '-f', '-'], JSON.stringify(body));
      return 'accepted';
    } catch (err) {
      return String((err as { stderr?: string }).stderr ?? err);
    }
  };
  const cases: [string, object, RegExp][] = [
    ['no selector', { allowedSecrets: ['x'] }, /spec.namespaceSelector: Required value/],
    ['no patterns', { namespaceSelector: {}, allowedSecrets: [] }, /allowedSecrets.*at least 1 items/],
    [
      'a label key with two slashes',
      { namespaceSelector: { matchLabels: { 'a/b/c': 'x' } }, allowedSecrets: ['x'] },
      /every key must be a valid label key/,
    ],
    [
      'In without values',
      { namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'In' }] }, allowedSecrets: ['x'] },
      /In and NotIn need values/,
    ],
    [
      'a glob with a colon',
      { namespaceSelector: {}, allowedSecrets: ['team:a'] },
      /allowedSecrets\[0\].*should match/,
    ],
    [
      'an ARN of another service',
      { namespaceSelector: {}, allowedSecrets: ['arn:aws:s3:::bucket'] },
      /allowedSecrets\[0\].*should match/,
    ],
    [
      '65 patterns',
      { namespaceSelector: {}, allowedSecrets: Array.from({ length: 65 }, (_, i) => `p${i}`) },
      /must have at most 64 items/,
    ],
  ];
  for (const [what, spec, message] of cases) assert.match(await apply(spec), message, what);
  assert.equal(
    await apply({
      namespaceSelector: {},
      allowedSecrets: ['team-a/*', 'arn:aws:secretsmanager:*:123456789012:secret:x?'],
    }),
    'accepted',
  );
});

e2eTest(
  'authorised on the secret DescribeSecret resolved: app-* does not admit the secret app named by its full ARN, and routes no event of it',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const tenant = uniqueName('tenant');
    await kc(['label', 'namespace', ns, `tenant=${tenant}`]);
    // The secret `app`: its ARN ends in `app-XXXXXX`, whose last part matches `app-*`.
    const app = uniqueName('app');
    const secret = await createSecret(app);
    const sibling = await createSecret(`${app}-db`);
    const policy = uniqueName('policy');
    await applyPolicy(scope, policy, tenant, [`${app}-*`]);
    await mapDeployment(ns, 'by-arn', secret.arn);
    await mapDeployment(ns, 'by-name', app);
    await mapDeployment(ns, 'sibling', sibling.arn);
    const queue = await testQueue(scope, { withRules: true });
    // A long cache TTL: once settled, only events can make DescribeSecret calls.
    const op = await startOperator(scope, {
      kubeconfig: await operatorKubeconfig(scope),
      queueUrl: queue.queueUrl,
      env: { RESYNC_INTERVAL: '0s', SECRET_CACHE_TTL: '10m' },
    });

    const byName = await waitReason(ns, 'by-name', 'NotAllowed', 15_000);
    await waitReason(ns, 'sibling', 'WatchingSecret');
    const refused = await waitReason(ns, 'by-arn', 'NotAllowed', 15_000);
    assert.deepEqual(
      Object.keys(refused.status ?? {}).sort(),
      ['conditions', 'observedGeneration'],
      'nothing of the secret in status: no ARN, versions or dates',
    );
    assert.equal(
      ready(refused).message?.replace(secret.arn, 'S'),
      ready(byName).message?.replace(app, 'S'),
      'the same answer as the refusal before any AWS call',
    );
    assert.ok((await eventReasons(ns, 'by-arn')).includes('NotAllowed'), 'a Warning Event says why');
    await waitFor('policy status counts it as not allowed', async () => {
      const s = (await getPolicy(policy)).status;
      return s?.mappings === 3 && s.notAllowed === 2;
    });

    // Events of the refused secret — by name and by ARN — cost no DescribeSecret and restart nothing.
    let settled = -1;
    await waitFor('DescribeSecret calls settle', async () => {
      const now = await describeCalls(op);
      const same = now === settled;
      settled = now;
      return same;
    });
    const v2 = await rotate(app, secret.arn);
    await putEvent('Secret Label Updated', { name: app, labelUpdated: 'AWSCURRENT', versionId: v2 }, [
      secret.arn,
    ]);
    await drained(queue.queueUrl);
    assert.equal(await describeCalls(op), settled, 'no DescribeSecret for a secret its policies refuse');
    assert.equal(
      await stampOf(ns, 'by-arn'),
      undefined,
      'a rotation of a secret not allowed restarts nothing',
    );

    // The secret the policy does allow, named by its full ARN too: restarted.
    const v3 = await rotate(`${app}-db`, sibling.arn);
    await waitFor(
      'the allowed sibling restarts',
      async () => (await stampOf(ns, 'sibling')) === `${app}-db@${v3}`,
    );
    assert.equal(ready(await getMapping(ns, 'by-arn')).reason, 'NotAllowed');
  },
);

e2eTest(
  'no existence oracle through a literal: under the policy entry <x>-config, the bare id <x> (and its partial ARN) reads the same whether the secret <x> exists or not',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const tenant = uniqueName('tenant');
    await kc(['label', 'namespace', ns, `tenant=${tenant}`]);
    // Names not ending in `-` and six alphanumerics: their partial ARNs are not shaped like full ARNs.
    const x = `${uniqueName('app')}-s`;
    const y = `${uniqueName('gone')}-s`;
    await createSecret(x);
    const config = await createSecret(`${x}-config`);
    const partial = (name: string): string =>
      `${config.arn.slice(0, config.arn.lastIndexOf(':') + 1)}${name}`;
    await applyPolicy(scope, uniqueName('policy'), tenant, [`${x}-config`, `${y}-config`]);
    const cases: [string, string][] = [
      ['existing', x],
      ['missing', y],
      ['existing-arn', partial(x)],
      ['missing-arn', partial(y)],
    ];
    for (const [name, id] of cases) await mapDeployment(ns, name, id);
    await mapDeployment(ns, 'allowed', `${x}-config`);
    const queue = await testQueue(scope);
    await startOperator(scope, { kubeconfig: await operatorKubeconfig(scope), queueUrl: queue.queueUrl });

    await waitReason(ns, 'allowed', 'WatchingSecret');
    const settled = [];
    for (const [name] of cases)
      settled.push(
        await waitFor(`mapping ${name} decided`, async () => {
          const m = await getMapping(ns, name);
          return ready(m).reason && m.status?.observedGeneration === m.metadata.generation ? m : undefined;
        }),
      );
    const seen = settled.map((m, i) => ({
      reason: ready(m).reason,
      message: ready(m).message?.replace(cases[i][1], 'S'),
      status: Object.keys(m.status ?? {}).sort(),
    }));
    for (const [i, s] of seen.entries())
      assert.deepEqual(
        s,
        { ...seen[0], reason: 'NotAllowed', status: ['conditions', 'observedGeneration'] },
        `${cases[i][0]} (${cases[i][1]}) reads as ${cases[0][0]} does: ${JSON.stringify(seen)}`,
      );
  },
);
