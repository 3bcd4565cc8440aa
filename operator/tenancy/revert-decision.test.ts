import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePolicy, decideRevert } from './policy-decision.js';

const ACCOUNT = '123456789012';
const arn = (name: string, account = ACCOUNT): string =>
  `arn:aws:secretsmanager:eu-west-1:${account}:secret:${name}`;
const team = { namespace: 'team-a', labels: { team: 'a' } };
const policy = (revertSecrets: string[], matchLabels: Record<string, string> = { team: 'a' }) =>
  compilePolicy('p', { namespaceSelector: { matchLabels }, allowedSecrets: ['*'], revertSecrets });
const may = (revert: string[], resolved: { name: string; arn: string }, labels = team.labels): boolean =>
  decideRevert({ ...team, labels, resolved }, [policy(revert)]).allowed;

const app = { name: 'app', arn: arn('app-AbCdEf') };
const appConfig = { name: 'app-config', arn: arn('app-config-XyZ123') };

test('revertSecrets allows the secret DescribeSecret resolved, by its real name or its ARN field by field', () => {
  assert.equal(may(['app'], app), true);
  assert.equal(may(['app*'], appConfig), true);
  assert.equal(may([arn('app-*')], appConfig), true, 'an ARN glob over the real ARN');
  assert.equal(may([arn('app')], app), true, 'an ARN pattern names the secret without its suffix');
  assert.equal(
    may([`arn:aws:secretsmanager:eu-west-1:999999999999:secret:*`], app),
    false,
    'another account',
  );
});

test('no suffix bypass: a glob that reaches into the random suffix does not grant the secret before it', () => {
  // `app-*` names the secrets app-…, not the secret `app`, whose ARN happens to end in app-AbCdEf.
  assert.equal(may(['app-*'], app), false);
  assert.equal(may(['app-AbC*'], app), false);
  // The literal full last part (name plus suffix, copied from the console) is that one secret.
  assert.equal(may(['app-AbCdEf'], app), true);
  assert.equal(may(['app-AbCdEf'], { name: 'app-AbCdEf', arn: arn('app-AbCdEf-Qwerty') }), true);
});

test('no revert without a governing policy that lists it; the refusal says which yes is missing', () => {
  assert.equal(may([], app), false, 'revertSecrets empty (the default)');
  const ungoverned = decideRevert({ namespace: 'team-b', labels: { team: 'b' }, resolved: app }, [
    policy(['*']),
  ]);
  assert.deepEqual(ungoverned.allowed, false);
  assert.match(
    !ungoverned.allowed ? ungoverned.message : '',
    /no SecretsRotationPolicy governs namespace team-b/,
  );
  const unlisted = decideRevert({ ...team, resolved: app }, [policy(['other'])]);
  assert.match(
    !unlisted.allowed ? unlisted.message : '',
    /\(p\) lists secret arn:.*app-AbCdEf in revertSecrets/,
  );
  // allowedSecrets alone never grants a revert.
  const allowedOnly = compilePolicy('q', { namespaceSelector: {}, allowedSecrets: ['*'] });
  assert.equal(decideRevert({ ...team, resolved: app }, [allowedOnly]).allowed, false);
});
