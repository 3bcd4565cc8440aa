import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePolicy, decide, type CompiledPolicy } from './policy-decision.js';
import { compilePattern, patternMatches } from './secret-patterns.js';

const ACCOUNT = '123456789012';
const arn = (name: string, account = ACCOUNT, region = 'eu-west-1'): string =>
  `arn:aws:secretsmanager:${region}:${account}:secret:${name}`;

const matches = (pattern: string, id: string): boolean => {
  const p = compilePattern(pattern);
  assert.ok(p, `${pattern} compiles`);
  return patternMatches(p, id);
};

test('a name pattern matches names, and ARNs by their secret part with or without the suffix', () => {
  assert.equal(matches('team-a/*', 'team-a/db'), true);
  assert.equal(matches('team-a/*', 'team-a/nested/db'), true, '* crosses slashes');
  assert.equal(matches('team-a/*', 'team-b/db'), false);
  assert.equal(matches('team-a/*', 'team-a'), false);
  assert.equal(matches('team-a/db', 'team-a/db-x'), false, 'anchored');
  assert.equal(matches('team-a/d?', 'team-a/db'), true);
  assert.equal(matches('team-a/d?', 'team-a/dbx'), false);
  assert.equal(matches('a.b', 'axb'), false, 'regex characters are literal');
  assert.equal(matches('team-a/db', arn('team-a/db-AbC123')), true, 'full ARN: suffix stripped');
  assert.equal(matches('team-a/db', arn('team-a/db')), true, 'partial ARN');
  assert.equal(matches('team-a/*', arn('team-b/db-AbC123')), false);
});

test('an ARN pattern matches only ARNs, field by field: partition, region, account', () => {
  const pinned = arn('shared/team-a-*');
  assert.equal(matches(pinned, arn('shared/team-a-db-AbC123')), true);
  assert.equal(matches(pinned, arn('shared/team-a-db-AbC123', '999999999999')), false, 'other account');
  assert.equal(matches(pinned, arn('shared/team-a-db', ACCOUNT, 'us-east-1')), false, 'other region');
  assert.equal(
    matches(pinned, 'shared/team-a-db'),
    false,
    'a bare name is in no account a pattern can vouch for',
  );
  assert.equal(matches(arn('db'), arn('db-AbC123')), true, 'a pattern without * accepts the suffix');
  assert.equal(matches(`arn:aws:secretsmanager:*:${ACCOUNT}:secret:*`, arn('x', ACCOUNT, 'us-east-1')), true);
  assert.equal(
    matches(`arn:aws:secretsmanager:*:${ACCOUNT}:secret:*`, arn('x', '999999999999')),
    false,
    'a * stays within its field',
  );
  assert.equal(
    matches(pinned, `arn:aws-cn:secretsmanager:eu-west-1:${ACCOUNT}:secret:shared/team-a-x`),
    false,
  );
});

test('malformed patterns compile to nothing and so allow nothing', () => {
  for (const bad of ['', 'team:a', 'arn:aws:s3:::bucket', 'arn:aws:secretsmanager:eu-west-1:1:secret:a:b']) {
    assert.equal(compilePattern(bad), undefined, bad);
  }
  const p = compilePolicy('p', { namespaceSelector: {}, allowedSecrets: ['team:a'] });
  assert.equal(p.patterns.length, 0);
});

const policy = (name: string, labels: Record<string, string>, allowed: string[]): CompiledPolicy =>
  compilePolicy(name, { namespaceSelector: { matchLabels: labels }, allowedSecrets: allowed });

test('NetworkPolicy semantics: ungoverned namespaces follow the default; governed ones any allowing policy', () => {
  const policies = [
    policy('team-a', { team: 'a' }, ['team-a/*']),
    policy('shared', { team: 'a' }, ['shared/*']),
  ];
  const ask = (labels: Record<string, string>, secretId: string, dflt: 'allow' | 'deny' = 'allow') =>
    decide({ namespace: 'ns', labels, secretId }, policies, dflt);
  assert.deepEqual(ask({ team: 'a' }, 'team-a/db'), { allowed: true, by: 'team-a' });
  assert.deepEqual(ask({ team: 'a' }, 'shared/db'), { allowed: true, by: 'shared' });
  const refused = ask({ team: 'a' }, 'team-b/db');
  assert.equal(refused.allowed, false);
  assert.match(
    refused.allowed ? '' : refused.message,
    /team-b\/db.*governing namespace ns allow \(team-a, shared\)/,
  );
  assert.deepEqual(ask({ team: 'b' }, 'team-b/db'), { allowed: true });
  const denied = ask({ team: 'b' }, 'team-b/db', 'deny');
  assert.equal(denied.allowed, false);
  assert.match(denied.allowed ? '' : denied.message, /DEFAULT_SECRET_POLICY=deny/);
  assert.deepEqual(ask({ team: 'a' }, 'team-a/db', 'deny'), { allowed: true, by: 'team-a' });
});

test('a policy whose selector is invalid governs every namespace (fails closed)', () => {
  const bad = compilePolicy('bad', {
    namespaceSelector: { matchLabels: { 'a/b/c': 'x' } },
    allowedSecrets: ['only/*'],
  });
  assert.equal(bad.selector, undefined);
  assert.equal(decide({ namespace: 'ns', labels: {}, secretId: 'other' }, [bad], 'allow').allowed, false);
  assert.equal(decide({ namespace: 'ns', labels: {}, secretId: 'only/x' }, [bad], 'allow').allowed, true);
});

test('an empty namespaceSelector governs every namespace', () => {
  const all = compilePolicy('all', { namespaceSelector: {}, allowedSecrets: ['x'] });
  assert.equal(
    decide({ namespace: 'ns', labels: { any: 'thing' }, secretId: 'y' }, [all], 'allow').allowed,
    false,
  );
});
