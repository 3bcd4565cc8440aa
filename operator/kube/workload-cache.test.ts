import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MappingSpec } from '../../resources/types.js';
import { kindsOf, selectTargets, targets } from './target-selection.js';
import { projectWorkload, type WorkloadInfo } from './workload-cache.js';

const deployment = {
  metadata: { name: 'web', namespace: 'ns', resourceVersion: '12', generation: 3, labels: { app: 'web' } },
  spec: {
    replicas: 2,
    paused: true,
    template: {
      metadata: { annotations: { 'secretsrotation.io/secret-version': 'db@v1', other: 'x' } },
      spec: { containers: [{ name: 'c', image: 'nginx', env: [{ name: 'BIG', value: 'x'.repeat(1000) }] }] },
    },
  },
  status: {
    observedGeneration: 3,
    replicas: 2,
    updatedReplicas: 2,
    availableReplicas: 2,
    unknown: 'dropped',
  },
};

test('the projection keeps what decisions read and nothing of the pod template', () => {
  const w = projectWorkload('Deployment', deployment);
  assert.equal(w.key, 'ns/Deployment/web');
  assert.equal(w.resourceVersion, '12');
  assert.deepEqual(w.labels, { app: 'web' });
  assert.equal(w.stamp, 'db@v1');
  assert.equal(w.blocked, 'Paused');
  assert.equal(w.rollout.metadata?.generation, 3);
  assert.equal(w.rollout.status?.availableReplicas, 2);
  const text = JSON.stringify(w);
  assert.doesNotMatch(
    text,
    /nginx|BIG|other|dropped/,
    'no container, other annotation or unknown field kept',
  );
  const onDelete = projectWorkload('StatefulSet', {
    metadata: { name: 's', namespace: 'ns' },
    spec: { updateStrategy: { type: 'OnDelete' } },
  });
  assert.equal(onDelete.blocked, 'OnDelete');
  assert.equal(onDelete.stamp, undefined);
});

const info = (kind: WorkloadInfo['kind'], name: string, labels: Record<string, string>): WorkloadInfo =>
  projectWorkload(kind, { metadata: { name, namespace: 'ns', labels } });

test('targets: selector over spec.kinds, or listed explicitly', () => {
  const bySelector: MappingSpec = { secretId: 's', selector: { matchLabels: { app: 'web' } } };
  assert.equal(targets(bySelector, info('DaemonSet', 'd', { app: 'web' })), true, 'all kinds by default');
  assert.equal(
    targets({ ...bySelector, kinds: ['Deployment'] }, info('DaemonSet', 'd', { app: 'web' })),
    false,
  );
  assert.equal(targets(bySelector, info('Deployment', 'x', { app: 'db' })), false);
  const explicit: MappingSpec = { secretId: 's', workloads: [{ kind: 'StatefulSet', name: 'db' }] };
  assert.equal(targets(explicit, info('StatefulSet', 'db', {})), true);
  assert.equal(targets(explicit, info('Deployment', 'db', {})), false, 'kind and name both match');
  assert.equal(
    targets({ secretId: 's', selector: {} }, info('Deployment', 'x', {})),
    false,
    'empty selector: nothing',
  );
});

test('selectTargets: matches plus explicit ones, a missing explicit one reported, sorted', () => {
  const spec: MappingSpec = {
    secretId: 's',
    selector: { matchLabels: { app: 'web' } },
    workloads: [
      { kind: 'Deployment', name: 'web' },
      { kind: 'StatefulSet', name: 'gone' },
    ],
  };
  const found = selectTargets(spec, [
    info('Deployment', 'web', { app: 'web' }),
    info('DaemonSet', 'agent', { app: 'web' }),
    info('Deployment', 'other', { app: 'db' }),
  ]);
  assert.deepEqual(
    found.map((t) => [`${t.kind}/${t.name}`, t.exists]),
    [
      ['DaemonSet/agent', true],
      ['Deployment/web', true],
      ['StatefulSet/gone', false],
    ],
  );
});

test('selectTargets with discover: consumers join the targets, every target says how it consumes', () => {
  const consumption = new Map([
    ['Rollout/app', { via: ['ExternalSecret/db'], externalSecrets: ['db'] }],
    ['Deployment/web', { via: ['SecretProviderClass/db'], externalSecrets: [] }],
  ]);
  const workloads = [
    info('Deployment', 'web', { app: 'web' }),
    info('Rollout', 'app', {}),
    info('DaemonSet', 'agent', {}),
  ];
  const bySelector: MappingSpec = { secretId: 's', selector: { matchLabels: { app: 'web' } } };
  assert.deepEqual(
    selectTargets(bySelector, workloads, consumption).map((t) => [`${t.kind}/${t.name}`, t.via]),
    [['Deployment/web', ['SecretProviderClass/db']]],
    'without discover, consumers are only annotated',
  );
  const found = selectTargets({ ...bySelector, discover: true }, workloads, consumption);
  assert.deepEqual(
    found.map((t) => [`${t.kind}/${t.name}`, t.via, t.externalSecrets]),
    [
      ['Deployment/web', ['SecretProviderClass/db'], []],
      ['Rollout/app', ['ExternalSecret/db'], ['db']],
    ],
  );
});

test('kindsOf: the kinds to watch for a mapping', () => {
  assert.deepEqual(kindsOf({ secretId: 's', discover: true }), [
    'Deployment',
    'StatefulSet',
    'DaemonSet',
    'Rollout',
  ]);
  assert.deepEqual(kindsOf({ secretId: 's', workloads: [{ kind: 'StatefulSet', name: 'a' }] }), [
    'StatefulSet',
  ]);
  assert.deepEqual(kindsOf({ secretId: 's', selector: { matchLabels: { a: 'b' } }, kinds: ['DaemonSet'] }), [
    'DaemonSet',
  ]);
  assert.deepEqual(kindsOf({ secretId: 's', selector: { matchLabels: { a: 'b' } } }).sort(), [
    'DaemonSet',
    'Deployment',
    'StatefulSet',
  ]);
});
