import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { withRequestTimeout } from './kube.js';
import { listPage } from './list-page.js';

// A real HTTP server on loopback that takes every request and never answers it: an API server
// that stopped answering rather than refusing.
const held: http.ServerResponse[] = [];
const server = http.createServer((_req, res) => void held.push(res));
let api: CustomObjectsApi;

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  api = withRequestTimeout(kc, 200).makeApiClient(CustomObjectsApi);
});

after(async () => {
  for (const res of held) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const res = { group: 'example.com', version: 'v1', plural: 'things', namespace: 'ns' };

test('a LIST page with an abort signal still fails at the request timeout when never answered', async () => {
  const started = Date.now();
  await assert.rejects(listPage(api, res, undefined, new AbortController().signal));
  const took = Date.now() - started;
  assert.ok(took >= 150 && took < 1000, `rejected after ${took} ms`);
});

test('a LIST page never answered is still aborted by its own signal before the timeout', async () => {
  const own = new AbortController();
  const started = Date.now();
  const page = listPage(api, res, undefined, own.signal);
  setTimeout(() => own.abort(), 20);
  await assert.rejects(page);
  assert.ok(Date.now() - started < 150, `rejected after ${Date.now() - started} ms`);
});
