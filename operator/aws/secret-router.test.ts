import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SecretNotFoundError } from '../runtime/errors.js';
import { SecretRouter, secretNames } from './secret-router.js';
import type { SecretVersion } from './secret-versions.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent } as never;
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:team-a/db-AbCdEf';

const answer = (arn: string): SecretVersion => ({
  arn,
  name: 'team-a/db',
  currentVersionId: 'v1',
  currentVersionIds: ['v1'],
  fetchedAt: Date.now(),
});

test('secretNames: a name is itself; an ARN stands for its tail, with and without the suffix', () => {
  assert.deepEqual(secretNames('team-a/db'), ['team-a/db']);
  assert.deepEqual(secretNames(ARN), ['team-a/db-AbCdEf', 'team-a/db']);
  assert.deepEqual(secretNames('arn:aws:secretsmanager:eu-west-1:123456789012:secret:team-a/db'), [
    'team-a/db',
  ]);
});

test('candidates come from names alone: by name, full ARN or partial ARN, and nothing for other secrets', async () => {
  const calls: string[] = [];
  const router = new SecretRouter({
    resolve: (id) => (calls.push(id), Promise.resolve(answer(ARN))),
    logger: silent,
  });
  router.follow('ns/by-name', 'team-a/db');
  router.follow('ns/by-arn', ARN);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(router.candidates([ARN]).sort(), ['ns/by-arn', 'ns/by-name']);
  assert.deepEqual(router.candidates(['team-a/db']).sort(), ['ns/by-arn', 'ns/by-name']);
  assert.deepEqual(
    router.candidates(['arn:aws:secretsmanager:eu-west-1:123456789012:secret:team-a/db']).sort(),
    ['ns/by-arn', 'ns/by-name'],
  );
  assert.deepEqual(
    router.candidates(['team-b/db', 'arn:aws:secretsmanager:eu-west-1:1:secret:other-AbCdEf']),
    [],
  );
  const before = calls.length;
  router.candidates(['unrelated']);
  assert.equal(calls.length, before, 'answering candidates makes no AWS call');
  assert.deepEqual(
    router.watched(),
    new Map([[ARN, { keys: ['ns/by-name', 'ns/by-arn'], secretIds: ['team-a/db', ARN] }]]),
  );
});

test('watchers: exact by ARN once resolved; a mapping naming another secret since is not confirmed', async () => {
  const router = new SecretRouter({ resolve: () => Promise.resolve(answer(ARN)), logger: silent });
  router.follow('ns/m', 'team-a/db');
  await new Promise((r) => setImmediate(r));
  const other = 'arn:aws:secretsmanager:us-east-1:999999999999:secret:team-a/db-ZzZzZz';
  assert.deepEqual(router.watchers(ARN, ['ns/m']), ['ns/m']);
  assert.deepEqual(router.watchers(other, ['ns/m']), [], 'same name in another account');
  router.follow('ns/m', 'team-b/db');
  router.confirm('ns/m', 'team-a/db', ARN);
  assert.deepEqual(router.candidates(['team-a/db']), [], 'stale confirmation ignored');
  router.forget('ns/m');
  assert.deepEqual(router.candidates(['team-b/db']), []);
  assert.deepEqual(router.watched().size, 0);
});

test('a secret that cannot be described routes by name only; a pass resolving it later confirms the ARN', async () => {
  const router = new SecretRouter({
    resolve: () => Promise.reject(new SecretNotFoundError('no such secret')),
    logger: silent,
  });
  router.follow('ns/m', 'team-a/db');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    router.watchers(ARN, router.candidates(['team-a/db'])),
    ['ns/m'],
    'unresolved: its pass decides',
  );
  router.confirm('ns/m', 'team-a/db', ARN);
  assert.deepEqual([...router.watched().keys()], [ARN]);
  router.confirm('ns/m', 'team-a/db', null);
  assert.deepEqual(router.watched().size, 0);
});

/** A router whose mappings' policies allow only the secrets named in `allowed`. */
function guardedRouter(resolveTo: (id: string) => SecretVersion, allowed: Set<string>): SecretRouter {
  // Built apart from the constructor: an option the router lacks still compiles, and fails below.
  const opts = {
    resolve: (id: string) => Promise.resolve(resolveTo(id)),
    logger: silent,
    authorise: (_key: string, _id: string, secret: { arn: string; name: string }) => allowed.has(secret.name),
  };
  return new SecretRouter(opts);
}

test('a mapping whose policies refuse the secret it resolved to is routed no event (no DescribeSecret for it)', async () => {
  const app = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-AbCdEf';
  const allowed = new Set<string>();
  const router = guardedRouter(() => ({ ...answer(app), name: 'app' }), allowed);
  router.follow('ns/m', app);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(router.candidates([app, 'app']), [], 'no candidate: the poller acknowledges, no AWS call');
  assert.deepEqual(router.watchers(app, ['ns/m']), []);
  assert.equal(router.watched().size, 0, 'nor does the resync describe it');
  router.confirm('ns/m', app, app);
  assert.deepEqual(router.candidates([app]), [], 'a pass resolving it again changes nothing');
  allowed.add('app');
  router.follow('ns/m', app);
  assert.deepEqual(router.candidates([app]), ['ns/m'], 'a policy allowing it now: routed again, no new call');
  assert.deepEqual([...router.watched().keys()], [app]);
});

test('a secret deleted and created again under its name: an event carrying only the new ARN reaches its mappings', async () => {
  const NEW = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:team-a/db-NeWnEw';
  const partial = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:team-a/db';
  const router = new SecretRouter({ resolve: () => Promise.resolve(answer(ARN)), logger: silent });
  router.follow('ns/by-name', 'team-a/db');
  router.follow('ns/by-partial', partial);
  router.follow('ns/by-old-arn', ARN);
  await new Promise((r) => setImmediate(r));
  const candidates = router.candidates([NEW]);
  assert.deepEqual(candidates.sort(), ['ns/by-name', 'ns/by-old-arn', 'ns/by-partial']);
  assert.deepEqual(
    router.watchers(NEW, candidates).sort(),
    ['ns/by-name', 'ns/by-partial'],
    'the name stands for the new secret now; the old full ARN names the deleted one',
  );
  const elsewhere = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:team-a/db-ZzZzZz';
  assert.deepEqual(router.watchers(elsewhere, candidates), [], 'the same name in another region');
  router.confirm('ns/by-name', 'team-a/db', NEW);
  assert.deepEqual(router.candidates([NEW]).sort(), ['ns/by-name', 'ns/by-old-arn', 'ns/by-partial']);
  assert.deepEqual(router.watchers(NEW, ['ns/by-name']), ['ns/by-name']);
});

test('a start following thousands of mappings resolves at most maxResolving secrets at once, and every one', async () => {
  let running = 0;
  let most = 0;
  const calls: string[] = [];
  const router = new SecretRouter({
    resolve: async (id) => {
      calls.push(id);
      most = Math.max(most, ++running);
      await new Promise((r) => setImmediate(r));
      running--;
      return answer(`arn:aws:secretsmanager:eu-west-1:123456789012:secret:${id}-AbCdEf`);
    },
    logger: silent,
    maxResolving: 3,
  });
  for (let i = 0; i < 40; i++) router.follow(`ns/m-${i}`, `s-${i}`);
  router.forget('ns/m-39');
  router.confirm('ns/m-38', 's-38', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-38-AbCdEf');
  while (router.watched().size < 39) await new Promise((r) => setImmediate(r));
  assert.equal(most, 3);
  assert.ok(!calls.includes('s-39'), 'a mapping forgotten while it waited for a slot costs no call');
  assert.ok(!calls.includes('s-38'), 'nor one whose pass confirmed its ARN meanwhile');
  assert.equal(calls.length, 38);
});

test('a refused mapping forgotten tells the claims: the refusal of its namespace and id may have gone', () => {
  const changes: string[] = [];
  const router = new SecretRouter({
    resolve: () => new Promise<never>(() => undefined),
    logger: silent,
    authorise: () => false,
    onRefusalChange: (key, id) => changes.push(`${key} ${id}`),
  });
  const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-AbCdEf';
  router.follow('ns/a', arn);
  router.confirm('ns/a', arn, arn);
  assert.deepEqual(changes, [`ns/a ${arn}`], 'refused');
  router.forget('ns/a');
  assert.deepEqual(changes, [`ns/a ${arn}`, `ns/a ${arn}`], 'the refusal went with it');
  router.forget('ns/a');
  assert.equal(changes.length, 2, 'nothing to tell twice');
});
