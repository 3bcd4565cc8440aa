import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Mapping } from '../../resources/types.js';
import { TermLoop } from './term.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent } as never;

const mapping = (name: string, secretId: string): Mapping =>
  ({ metadata: { name, namespace: 'ns' }, spec: { secretId } }) as Mapping;

test("a term's first round visits the mappings of one secret together, after telling warm the secrets in that order", async () => {
  const visited: string[] = [];
  let warmed: string[] = [];
  const loop = new TermLoop({
    concurrency: 1,
    maxConcurrentRollouts: 10,
    reconcile: (key) => {
      visited.push(key);
      return Promise.resolve({});
    },
    mappings: () => [mapping('m0', 's-b'), mapping('m1', 's-a'), mapping('m2', 's-b'), mapping('m3', 's-a')],
    warm: (ids) => (warmed = ids),
    logger: silent,
  });
  loop.start();
  while (visited.length < 4) await new Promise((r) => setTimeout(r, 1));
  await loop.stop();
  assert.deepEqual(warmed, ['s-a', 's-b']);
  assert.deepEqual(visited, ['ns/m1', 'ns/m3', 'ns/m0', 'ns/m2']);
});

test('passes that end on a cache not listed yet wait for it once per mapping, and the mapping is visited again once it lists', async () => {
  let isListed = false;
  let listed!: () => void;
  const cacheListed = new Promise<void>((r) => (listed = r));
  let asked = 0;
  let passes = 0;
  const loop = new TermLoop({
    concurrency: 1,
    maxConcurrentRollouts: 10,
    reconcile: (_key, term) => {
      passes++;
      // Every pass before the list ends there, as a pass of targets.ts does.
      if (!isListed)
        term.lookAgainWhen?.('ns/m0', () => {
          asked++;
          return cacheListed;
        });
      return Promise.resolve({});
    },
    mappings: () => [mapping('m0', 's')],
    logger: silent,
  });
  loop.start();
  for (let i = 0; i < 1000; i++) loop.enqueue('ns/m0');
  while (passes < 2) await new Promise((r) => setTimeout(r, 1));
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(asked, 1, 'one wait, not one per pass');
  const before = passes;
  isListed = true;
  listed();
  while (passes === before) await new Promise((r) => setTimeout(r, 1));
  await loop.stop();
  assert.equal(asked, 1);
});
