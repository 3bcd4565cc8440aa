import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Mapping } from '../../resources/types.js';
import { ApiError } from './cluster.js';
import { mapping } from './fixtures.js';
import { readableMappings, type MappingReader } from './scope.js';

const refusal = (): ApiError => new ApiError('forbidden', { cause: { code: 403 } });

/** A reader over `byNamespace`, refusing the cluster-wide list and the namespaces in `refused`. */
function reader(
  byNamespace: Record<string, Mapping[]>,
  opts: { clusterWide: boolean; refused: string[]; listNamespaces: boolean },
): MappingReader & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    mappings: (ns?: string) => {
      calls.push(ns ?? '*');
      if (ns === undefined)
        return opts.clusterWide
          ? Promise.resolve(Object.values(byNamespace).flat())
          : Promise.reject(refusal());
      return opts.refused.includes(ns) ? Promise.reject(refusal()) : Promise.resolve(byNamespace[ns] ?? []);
    },
    namespaces: () =>
      Promise.resolve(
        opts.listNamespaces ? Object.keys(byNamespace).map((name) => ({ metadata: { name } })) : undefined,
      ),
  };
}

const data = { a: [mapping('a', 'm1')], b: [mapping('b', 'm2')], c: [mapping('c', 'm3')] };

test('cluster-wide when allowed: one list', async () => {
  const r = reader(data, { clusterWide: true, refused: [], listNamespaces: true });
  const got = await readableMappings(r, { fallback: 'a' });
  assert.equal(got.mappings.length, 3);
  assert.deepEqual(r.calls, ['*']);
});

test('refused cluster-wide: namespace by namespace, skipping those refused', async () => {
  const r = reader(data, { clusterWide: false, refused: ['b'], listNamespaces: true });
  const got = await readableMappings(r, { fallback: 'a' });
  assert.deepEqual(
    got.mappings.map((m) => m.metadata.name),
    ['m1', 'm3'],
  );
  assert.deepEqual(got.refused, ['b']);
});

test('refused cluster-wide and may not list namespaces: the context namespace', async () => {
  const r = reader(data, { clusterWide: false, refused: [], listNamespaces: false });
  const got = await readableMappings(r, { fallback: 'c' });
  assert.deepEqual(
    got.mappings.map((m) => m.metadata.name),
    ['m3'],
  );
});

test('nothing readable: the cluster-wide refusal; -n reads that namespace only', async () => {
  const none = reader(data, { clusterWide: false, refused: ['a', 'b', 'c'], listNamespaces: true });
  await assert.rejects(readableMappings(none, { fallback: 'a' }), /forbidden/);
  const one = reader(data, { clusterWide: true, refused: [], listNamespaces: true });
  assert.deepEqual(
    (await readableMappings(one, { namespace: 'b', fallback: 'a' })).mappings.map((m) => m.metadata.name),
    ['m2'],
  );
  assert.deepEqual(one.calls, ['b']);
});
