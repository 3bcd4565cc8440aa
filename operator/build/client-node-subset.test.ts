import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import * as subset from './client-node-subset.js';

const require = createRequire(import.meta.url);

test('the client-node subset exports every member @dot-i/k8s-operator reads from client-node', () => {
  const source = fs.readFileSync(require.resolve('@dot-i/k8s-operator'), 'utf8');
  // Its compiled code binds the package to these names (tsc's CommonJS output).
  const bindings = [
    ...source.matchAll(/const (\w+) = (?:__importStar\()?require\("@kubernetes\/client-node"\)/g),
  ].map((m) => m[1]);
  assert.ok(bindings.length > 0, 'the package still requires client-node');
  const used = new Set(
    bindings.flatMap((b) =>
      [...source.matchAll(new RegExp(`\\b${b}\\.([A-Za-z_]\\w*)`, 'g'))].map((m) => m[1]),
    ),
  );
  used.delete('io'); // `k8s.io` inside an API group string, not a member
  assert.ok(used.size > 0);
  const missing = [...used].filter((name) => !(name in subset));
  assert.deepEqual(missing, [], `add to client-node-subset.ts: ${missing.join(', ')}`);
});
