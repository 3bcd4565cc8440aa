import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as whatwgUrl from './whatwg-url-standin.js';
import WebSocket from './ws-standin.js';

const require = createRequire(import.meta.url);
const operatorSources = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'operator',
);

test("node-fetch reads nothing of whatwg-url but URL, as the fallback of Node's own", () => {
  const source = fs.readFileSync(require.resolve('node-fetch'), 'utf8');
  const binding = /(?:const|var) (\w+) = (?:_interopDefault\()?require\('whatwg-url'\)/.exec(source)?.[1];
  assert.ok(binding, 'node-fetch still requires whatwg-url');
  const reads = [...source.matchAll(new RegExp(`\\b${binding}\\b(.{0,4})`, 'g'))].map((m) => m[0]);
  const fallbacks = source.match(new RegExp(`= Url\\.URL \\|\\| ${binding}\\.URL;`, 'g')) ?? [];
  assert.ok(fallbacks.length > 0);
  // The require itself, then only the fallbacks.
  assert.equal(reads.length, 1 + fallbacks.length, `other reads of whatwg-url: ${reads.join(' | ')}`);
  assert.equal(whatwgUrl.URL, globalThis.URL);
});

test('only the WebSocket handler of client-node imports isomorphic-ws, and the operator uses none of its users', () => {
  const dist = path.dirname(require.resolve('@kubernetes/client-node'));
  const importers = fs
    .readdirSync(dist, { recursive: true, encoding: 'utf8' })
    .filter(
      (f) => f.endsWith('.js') && /from 'isomorphic-ws'/.test(fs.readFileSync(path.join(dist, f), 'utf8')),
    );
  assert.deepEqual(importers, ['web-socket-handler.js']);
  const sources = fs
    .readdirSync(operatorSources, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  assert.ok(sources.length > 20);
  const wsUsers = /\b(WebSocketHandler|Exec|Attach|PortForward|Cp)\b/;
  const using = sources.filter((f) => {
    const text = fs.readFileSync(path.join(operatorSources, f), 'utf8');
    return [...text.matchAll(/import[^;]*from '@kubernetes\/client-node'/g)].some((m) => wsUsers.test(m[0]));
  });
  assert.deepEqual(using, []);
  assert.equal(WebSocket.OPEN, 1);
  assert.throws(() => new WebSocket(), /opens no WebSocket/);
});
