import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ARN, mapping } from './fixtures.js';
import { watchedSecret, watchersOf } from './secret-match.js';

const OTHER_ACCOUNT = 'arn:aws:secretsmanager:us-east-1:999999999999:secret:db-XyZ123';
const PARTIAL = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db';

const mappings = [
  mapping('a', 'by-name', { secretId: 'db' }, { secretArn: ARN }),
  mapping('b', 'by-arn', { secretId: ARN }, { secretArn: ARN }),
  mapping('c', 'by-partial', { secretId: PARTIAL }),
  mapping('d', 'elsewhere', { secretId: OTHER_ACCOUNT }, { secretArn: OTHER_ACCOUNT }),
  mapping(
    'e',
    'other-secret',
    { secretId: 'db-config' },
    { secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-config-QwErTy' },
  ),
];
const keys = (secret: string): string[] =>
  watchersOf(secret, mappings).map(
    (w) => `${w.mapping.metadata.namespace}/${w.mapping.metadata.name}:${w.by}`,
  );

test('by name: every mapping that may stand for the name, however it names it; not db-config', () => {
  assert.deepEqual(keys('db').sort(), [
    'a/by-name:name',
    'b/by-arn:name',
    'c/by-partial:name',
    'd/elsewhere:name',
  ]);
});

test('by the full ARN a mapping resolved to: those resolved to it, or not resolved yet; not the same name in another account', () => {
  assert.deepEqual(keys(ARN).sort(), ['a/by-name:arn', 'b/by-arn:arn', 'c/by-partial:name']);
});

test('by partial ARN: the names it stands for', () => {
  assert.deepEqual(keys(PARTIAL).sort(), [
    'a/by-name:name',
    'b/by-arn:name',
    'c/by-partial:name',
    'd/elsewhere:name',
  ]);
  assert.deepEqual(keys('nothing'), []);
});

test('the secret consumers name: the resolved ARN and its name; before resolution the id', () => {
  assert.deepEqual(watchedSecret(mappings[0]), { arn: ARN, name: 'db' });
  assert.deepEqual(watchedSecret(mapping('x', 'y', { secretId: 'plain' })), { arn: 'plain', name: 'plain' });
});
