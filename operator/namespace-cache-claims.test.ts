import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Mapping, WorkloadKind } from '../resources/types.js';
import { SecretRouter } from './aws/secret-router.js';
import type { SecretVersion } from './aws/secret-versions.js';
import { NamespaceCacheClaims } from './namespace-cache-claims.js';

// Pure parts with a real SecretRouter (its resolve answered in memory): which kinds each namespace's
// caches are told to watch as routing learns refusals and policies change.

const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent } as never;
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:team-a/db-AbCdEf';
const answer: SecretVersion = {
  arn: ARN,
  name: 'team-a/db',
  currentVersionId: 'v1',
  currentVersionIds: ['v1'],
  fetchedAt: 0,
};

const mapping = (name: string, kind: WorkloadKind): Mapping => ({
  apiVersion: 'secretsrotation.io/v1alpha1',
  kind: 'SecretsRotationMapping',
  metadata: { name, namespace: 'ns' },
  spec: { secretId: ARN, workloads: [{ kind, name: 'w' }] },
});

/** The claims over a router whose policies allow the id by its names; `resolved` says whether the secret is. */
function setUp(mappings: Mapping[], wireRefusals: boolean) {
  const policy = { resolved: false };
  const fits: { kinds: WorkloadKind[]; consumers?: boolean } = { kinds: [] };
  const byKey = new Map(mappings.map((m) => [`ns/${m.metadata.name}`, m]));
  const router = new SecretRouter({
    resolve: () => Promise.resolve(answer),
    logger: silent,
    authorise: () => policy.resolved,
    ...(wireRefusals
      ? { onRefusalChange: (_key: string, id: string) => claims.refusalChanged('ns', id) }
      : {}),
  });
  // Called back once resolutions answer, after `claims` is made.
  const claims: NamespaceCacheClaims = new NamespaceCacheClaims({
    allowed: () => true,
    router,
    workloads: { fit: (_ns, kinds) => void (fits.kinds = [...kinds].sort()) },
    consumers: { fit: (_ns, needed) => void (fits.consumers = needed) },
    mappingsIn: () => mappings,
    get: (key) => byKey.get(key),
  });
  return { claims, router, policy, fits };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

test('a policy allowing a refused secret again claims every mapping of it, whatever their order', async () => {
  // B then A: the same full-ARN id, different kinds, both refused on the resolved secret.
  const { claims, router, policy, fits } = setUp(
    [mapping('b', 'StatefulSet'), mapping('a', 'Deployment')],
    false,
  );
  claims.tenancyChanged('all', () => undefined);
  await settle();
  for (const key of ['ns/b', 'ns/a']) router.confirm(key, ARN, ARN);
  claims.tenancyChanged('all', () => undefined);
  assert.deepEqual(fits.kinds, [], 'both refused: nothing watched');
  policy.resolved = true;
  claims.tenancyChanged('all', () => undefined);
  assert.deepEqual(fits.kinds, ['Deployment', 'StatefulSet']);
  assert.equal(fits.consumers, true);
});

test('a refusal a background resolution finds (a follower: no pass) releases what the mapping claimed', async () => {
  const { claims, fits } = setUp([mapping('a', 'Deployment')], true);
  // Allowed by the id's names: claimed before the secret is resolved.
  claims.tenancyChanged('all', () => undefined);
  assert.deepEqual(fits.kinds, ['Deployment']);
  await settle();
  assert.deepEqual(fits.kinds, [], 'refused on the resolved secret: released');
  assert.equal(fits.consumers, false);
});

test('a pass that finds a refusal gone claims again (reclaim), and one that changes nothing does not fit again', async () => {
  const { claims, router, policy, fits } = setUp([mapping('a', 'Deployment')], false);
  claims.tenancyChanged('all', () => undefined);
  await settle();
  claims.reclaim('ns/a');
  assert.deepEqual(fits.kinds, []);
  policy.resolved = true;
  router.confirm('ns/a', ARN, ARN);
  claims.reclaim('ns/a');
  assert.deepEqual(fits.kinds, ['Deployment']);
  fits.kinds = ['sentinel' as WorkloadKind];
  claims.reclaim('ns/a');
  assert.deepEqual(fits.kinds, ['sentinel'], 'holds what it may: no fit');
});
