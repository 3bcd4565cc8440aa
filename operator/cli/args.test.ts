import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs, UsageError } from './args.js';

test('kubectl flag forms: -n NS, -nNS, --namespace=NS, -ojson, --output yaml, --context, -A', () => {
  for (const argv of [
    ['status', '-n', 'team'],
    ['status', '-nteam'],
    ['status', '--namespace=team'],
    ['-n', 'team', 'status'],
  ])
    assert.equal(parseArgs(argv).namespace, 'team', argv.join(' '));
  assert.equal(parseArgs(['status', '-ojson']).output, 'json');
  assert.equal(parseArgs(['status', '-o=yaml']).output, 'yaml');
  assert.equal(parseArgs(['status', '--output', 'yaml']).output, 'yaml');
  assert.equal(parseArgs(['status']).output, 'table');
  assert.equal(parseArgs(['status', '--context', 'prod']).context, 'prod');
  assert.equal(parseArgs(['status', '--kubeconfig=/k']).kubeconfig, '/k');
  assert.equal(parseArgs(['status', '-A']).allNamespaces, true);
  assert.equal(parseArgs(['status']).allNamespaces, false);
  const impact = parseArgs([
    'impact',
    'arn:aws:secretsmanager:us-east-1:1:secret:db',
    '--default-policy=deny',
  ]);
  assert.deepEqual(
    [impact.command, impact.operands, impact.defaultPolicy],
    ['impact', ['arn:aws:secretsmanager:us-east-1:1:secret:db'], 'deny'],
  );
  assert.deepEqual(parseArgs(['resume', 'db', '-n', 'x']).operands, ['db']);
  assert.equal(parseArgs(['resume', 'db', '--version', 'v2']).version, 'v2');
  assert.equal(parseArgs(['resume', 'db', '--version=v2']).version, 'v2');
});

test('help and version need no cluster; no command is help', () => {
  assert.equal(parseArgs([]).command, 'help');
  assert.equal(parseArgs(['status', '--help']).command, 'help');
  assert.equal(parseArgs(['-h']).command, 'help');
  assert.equal(parseArgs(['version']).command, 'version');
});

test('usage errors say what is wrong', () => {
  const refused: [string[], RegExp][] = [
    [['restart'], /command "restart" must be one of status, impact, resume/],
    [['status', '-o', 'wide'], /output format "wide" must be one of table, json, yaml/],
    [['status', '-n'], /flag -n needs a value/],
    [['status', '--bogus'], /unknown flag: --bogus/],
    [['status', 'extra'], /status takes no argument, got extra/],
    [['impact'], /impact takes SECRET, got none/],
    [['resume', 'a', 'b'], /resume takes MAPPING, got a b/],
    [['status', '-A', '-n', 'x'], /-n and -A cannot be used together/],
    [['resume', 'm', '-A'], /resume names one mapping/],
    [['status', '--version', 'v2'], /--version is resume’s flag/],
    [['resume', 'm', '--version'], /flag --version needs a value/],
    [['impact', 's', '--default-policy', 'maybe'], /--default-policy "maybe" must be one of allow, deny/],
  ];
  for (const [argv, message] of refused)
    assert.throws(
      () => parseArgs(argv),
      (err: unknown) => err instanceof UsageError && message.test(err.message),
    );
});
