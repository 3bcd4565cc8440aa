import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Mapping } from '../../resources/types.js';
import { needsPass, pruneMapping } from './mapping-cache.js';
import { concerns } from './wakeups.js';
import { projectWorkload } from './workload-cache.js';

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
  assert.equal(
    needsPass(m(1, { uid: 'u1' }), m(1, { uid: 'u2' })),
    true,
    'deleted and recreated between two lists: same generation, another object',
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

test('a workload change concerns the mappings that target it, and discovering ones when it reads any secret', () => {
  const w = (uses: object) =>
    projectWorkload('Deployment', {
      metadata: { name: 'web', namespace: 'ns', labels: { app: 'web' } },
      spec: { template: { spec: uses } },
    });
  const plain = w({ containers: [{ name: 'c' }] });
  const reader = w({ containers: [{ name: 'c', envFrom: [{ secretRef: { name: 'db' } }] }] });
  const mounter = w({
    volumes: [
      {
        name: 'v',
        csi: { driver: 'secrets-store.csi.k8s.io', volumeAttributes: { secretProviderClass: 'x' } },
      },
    ],
  });
  const discover = { secretId: 's', discover: true };
  assert.equal(concerns(discover, plain), false);
  assert.equal(concerns(discover, reader), true);
  assert.equal(concerns(discover, mounter), true);
  assert.equal(concerns({ secretId: 's', selector: { matchLabels: { app: 'other' } } }, reader), false);
  assert.equal(concerns({ secretId: 's', selector: { matchLabels: { app: 'web' } } }, plain), true);
  // Once a pass found what carries the secret, only workloads using those names wake the mapping.
  const carried = { secrets: ['db-creds'], providerClasses: [] };
  assert.equal(concerns(discover, reader, carried), false, 'reads db, not db-creds');
  assert.equal(concerns(discover, mounter, carried), false);
  assert.equal(
    concerns(
      discover,
      w({ containers: [{ name: 'c', envFrom: [{ secretRef: { name: 'db-creds' } }] }] }),
      carried,
    ),
    true,
  );
  assert.equal(concerns(discover, mounter, { secrets: [], providerClasses: ['x'] }), true);
});
