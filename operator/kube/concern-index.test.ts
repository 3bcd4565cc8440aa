import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MappingSpec } from '../../resources/types.js';
import { ConcernIndex, selectorTerms } from './concern-index.js';
import type { WorkloadInfo } from './workload-cache.js';

const workload = (over: Partial<WorkloadInfo> = {}): WorkloadInfo => ({
  key: 'ns/Deployment/web',
  resourceVersion: '1',
  kind: 'Deployment',
  namespace: 'ns',
  name: 'web',
  labels: {},
  rollout: {},
  uses: { secrets: [], providerClasses: [] },
  ...over,
});

const spec = (over: Partial<MappingSpec> = {}): MappingSpec => ({ secretId: 's', ...over });

const sorted = (keys: string[]): string[] => [...keys].sort();

test('ConcernIndex: a listed workload concerns its mapping, by kind and name', () => {
  const ix = new ConcernIndex();
  ix.set('ns/a', 'ns', spec({ workloads: [{ kind: 'Deployment', name: 'web' }] }));
  ix.set('ns/b', 'ns', spec({ workloads: [{ kind: 'StatefulSet', name: 'web' }] }));
  assert.deepEqual(ix.concerned(workload()), ['ns/a']);
  assert.deepEqual(ix.concerned(workload({ name: 'api' })), []);
});

test('ConcernIndex: a selector is found by its label pair, and the kinds still apply', () => {
  const ix = new ConcernIndex();
  ix.set('ns/a', 'ns', spec({ selector: { matchLabels: { app: 'web', tier: 'front' } } }));
  ix.set('ns/b', 'ns', spec({ selector: { matchLabels: { app: 'web' } }, kinds: ['StatefulSet'] }));
  assert.deepEqual(ix.concerned(workload({ labels: { app: 'web' } })), []);
  assert.deepEqual(ix.concerned(workload({ labels: { app: 'web', tier: 'front' } })), ['ns/a']);
  assert.deepEqual(ix.concerned(workload({ kind: 'StatefulSet', labels: { app: 'web' } })), ['ns/b']);
});

test('ConcernIndex: only mappings of the workload namespace', () => {
  const ix = new ConcernIndex();
  ix.set('other/a', 'other', spec({ workloads: [{ kind: 'Deployment', name: 'web' }] }));
  assert.deepEqual(ix.concerned(workload()), []);
  assert.deepEqual(ix.concerned(workload({ namespace: 'other' })), ['other/a']);
});

test('ConcernIndex: an In expression files the mapping under each value; NotIn-only is scanned', () => {
  const ix = new ConcernIndex();
  ix.set(
    'ns/in',
    'ns',
    spec({ selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['a', 'b'] }] } }),
  );
  ix.set(
    'ns/notin',
    'ns',
    spec({ selector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['a'] }] } }),
  );
  assert.deepEqual(sorted(ix.concerned(workload({ labels: { app: 'b' } }))), ['ns/in', 'ns/notin']);
  assert.deepEqual(ix.concerned(workload({ labels: { app: 'a' } })), ['ns/in']);
  assert.deepEqual(ix.concerned(workload({ labels: {} })), ['ns/notin']);
});

test('selectorTerms: the first matchLabels pair, else the first In values, else scan', () => {
  assert.deepEqual(selectorTerms({ matchLabels: { a: '1', b: '2' } }), ['L:a=1']);
  assert.deepEqual(
    selectorTerms({
      matchExpressions: [
        { key: 'x', operator: 'Exists' },
        { key: 'a', operator: 'In', values: ['1', '2'] },
      ],
    }),
    ['L:a=1', 'L:a=2'],
  );
  assert.deepEqual(selectorTerms({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), []);
  assert.equal(selectorTerms({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }), 'scan');
});

test('ConcernIndex: discover before any pass concerns any workload using a Secret or class; after, only its carriers', () => {
  const ix = new ConcernIndex();
  ix.set('ns/d', 'ns', spec({ discover: true }));
  const usesDb = workload({ uses: { secrets: ['db'], providerClasses: [] } });
  const usesSpc = workload({ uses: { secrets: [], providerClasses: ['spc'] } });
  assert.deepEqual(ix.concerned(workload()), []);
  assert.deepEqual(ix.concerned(usesDb), ['ns/d']);
  ix.setCarried('ns/d', { secrets: [], providerClasses: ['spc'] });
  assert.deepEqual(ix.concerned(usesDb), []);
  assert.deepEqual(ix.concerned(usesSpc), ['ns/d']);
  // A spec change keeps what the last pass found.
  ix.set('ns/d', 'ns', spec({ discover: true, secretId: 'other' }));
  assert.deepEqual(ix.carried('ns/d'), { secrets: [], providerClasses: ['spc'] });
  assert.deepEqual(ix.concerned(usesDb), []);
});

test('ConcernIndex: a deleted mapping is forgotten with its terms; carried names of an unknown key are ignored', () => {
  const ix = new ConcernIndex();
  ix.set('ns/a', 'ns', spec({ selector: { matchLabels: { app: 'web' } }, discover: true }));
  ix.delete('ns/a');
  ix.setCarried('ns/a', { secrets: ['db'], providerClasses: [] });
  assert.equal(ix.size, 0);
  assert.equal(ix.carried('ns/a'), undefined);
  assert.deepEqual(
    ix.concerned(workload({ labels: { app: 'web' }, uses: { secrets: ['db'], providerClasses: [] } })),
    [],
  );
  assert.equal(
    (ix as unknown as { byTerm: Map<string, unknown> }).byTerm.size,
    0,
    'no empty term left behind',
  );
});

test('ConcernIndex: a spec change moves the mapping to its new terms', () => {
  const ix = new ConcernIndex();
  ix.set('ns/a', 'ns', spec({ selector: { matchLabels: { app: 'web' } } }));
  ix.set('ns/a', 'ns', spec({ selector: { matchLabels: { app: 'api' } } }));
  assert.deepEqual(ix.concerned(workload({ labels: { app: 'web' } })), []);
  assert.deepEqual(ix.concerned(workload({ labels: { app: 'api' } })), ['ns/a']);
});
