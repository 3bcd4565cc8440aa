import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Mapping } from '../../resources/types.js';
import { needsPass, pruneMapping } from './mapping-operator.js';

const m = (
  generation: number,
  extra: Partial<Mapping['metadata']> = {},
  status?: Mapping['status'],
): Mapping => ({
  apiVersion: 'secretsrotation.io/v1alpha1',
  kind: 'SecretsRotationMapping',
  metadata: { name: 'm', namespace: 'ns', generation, ...extra },
  spec: { secretId: 's', selector: { matchLabels: { a: 'b' } } },
  status,
});

test('only spec changes and deletions call for a pass, not our own status writes', () => {
  assert.equal(
    needsPass(m(1), m(1, { resourceVersion: '9' }, { currentVersionId: 'v2' })),
    false,
    'status only',
  );
  assert.equal(needsPass(m(1), m(2)), true, 'spec changed');
  assert.equal(
    needsPass(m(1), m(1, { deletionTimestamp: '2026-11-29T10:00:00Z' })),
    true,
    'deletion started',
  );
  assert.equal(
    needsPass(m(1, { deletionTimestamp: 'x' }), m(1, { deletionTimestamp: 'x', finalizers: [] })),
    false,
    'already deleting',
  );
});

test('the cache keeps spec, status and the metadata passes read, not managedFields or annotations', () => {
  const full = {
    ...m(4, { resourceVersion: '7', finalizers: ['f'] }, { currentVersionId: 'v1' }),
    metadata: {
      ...m(4).metadata,
      resourceVersion: '7',
      finalizers: ['f'],
      managedFields: [{ manager: 'kubectl', fieldsV1: { big: 'x'.repeat(500) } }],
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(500) },
    },
  } as Mapping;
  const p = pruneMapping(full);
  assert.deepEqual(p.metadata, {
    name: 'm',
    namespace: 'ns',
    uid: undefined,
    generation: 4,
    resourceVersion: '7',
    creationTimestamp: undefined,
    deletionTimestamp: undefined,
    finalizers: ['f'],
  });
  assert.equal(p.status?.currentVersionId, 'v1');
  assert.doesNotMatch(JSON.stringify(p), /managedFields|last-applied/);
});
