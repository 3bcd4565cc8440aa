import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  awsSecretObjects,
  carriedNames,
  carriersOf,
  consumersOf,
  namesSecret,
  podTemplateUses,
  projectExternalSecret,
  projectProviderClass,
  usesAny,
} from './consumption.js';

const secret = {
  name: 'prod/db',
  arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf',
};

test('a reference names the secret by name, full ARN or partial ARN, and nothing else', () => {
  assert.ok(namesSecret('prod/db', secret));
  assert.ok(namesSecret(secret.arn, secret));
  assert.ok(namesSecret('arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db', secret));
  assert.ok(!namesSecret('prod/db2', secret));
  assert.ok(!namesSecret('db', secret));
  assert.ok(!namesSecret('arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-XyZaBc', secret));
});

test('a pod template uses Secrets through env, envFrom, secret and projected volumes, and CSI classes', () => {
  const uses = podTemplateUses({
    spec: {
      initContainers: [{ env: [{ valueFrom: { secretKeyRef: { name: 'init-secret' } } }] }],
      containers: [
        {
          env: [{ valueFrom: { secretKeyRef: { name: 'env-secret' } } }, {}],
          envFrom: [{ secretRef: { name: 'bulk' } }],
        },
        { envFrom: [{}] },
      ],
      volumes: [
        { secret: { secretName: 'vol-secret' } },
        { projected: { sources: [{ secret: { name: 'proj-secret' } }, {}] } },
        { csi: { driver: 'secrets-store.csi.k8s.io', volumeAttributes: { secretProviderClass: 'aws-db' } } },
        { csi: { driver: 'other.csi.example.com', volumeAttributes: { secretProviderClass: 'not-ours' } } },
      ],
    },
  });
  assert.deepEqual(uses, {
    secrets: ['bulk', 'env-secret', 'init-secret', 'proj-secret', 'vol-secret'],
    providerClasses: ['aws-db'],
  });
  assert.deepEqual(podTemplateUses(undefined), { secrets: [], providerClasses: [] });
});

test('the AWS provider objects that follow AWSCURRENT are the Secrets Manager ones not pinned', () => {
  const objects = `
- objectName: prod/db
  objectType: secretsmanager
- objectName: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other-AbCdEf"
- objectName: /param
  objectType: ssmparameter
- objectName: "arn:aws:ssm:eu-west-1:123456789012:parameter/x"
- objectName: pinned
  objectType: secretsmanager
  objectVersion: 1234
- objectName: previous
  objectType: secretsmanager
  objectVersionLabel: AWSPREVIOUS
- objectName: labelled
  objectVersionLabel: AWSCURRENT
- 42
`;
  assert.deepEqual(awsSecretObjects(objects), [
    'prod/db',
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:other-AbCdEf',
    'labelled',
  ]);
  assert.throws(() => awsSecretObjects('objectName: x'), /not a YAML list/);
});

test('a SecretProviderClass of another provider, or with unreadable objects, mounts nothing of ours', () => {
  const raw = (provider: string, objects: string) => ({
    metadata: { namespace: 'ns', name: 'spc', resourceVersion: '7' },
    spec: { provider, parameters: { objects }, secretObjects: [{ secretName: 'synced' }] },
  });
  assert.deepEqual(projectProviderClass(raw('aws', '- objectName: prod/db')), {
    key: 'ns/spc',
    resourceVersion: '7',
    namespace: 'ns',
    name: 'spc',
    provider: 'aws',
    syncedSecrets: ['synced'],
    objects: ['prod/db'],
  });
  assert.deepEqual(projectProviderClass(raw('azure', '- objectName: prod/db')).objects, []);
  const broken = projectProviderClass(raw('aws', '- objectName: [unclosed'));
  assert.deepEqual(broken.objects, []);
  assert.match(broken.problem ?? '', /./);
});

test('an ExternalSecret projects its keys, target Secret, readiness and refresh settings', () => {
  const es = projectExternalSecret({
    metadata: { namespace: 'ns', name: 'db', resourceVersion: '3', annotations: { 'force-sync': '100' } },
    spec: {
      data: [
        { remoteRef: { key: 'prod/db' } },
        { remoteRef: { key: 'prod/db', version: 'AWSCURRENT' } },
        { remoteRef: { key: 'old', version: 'AWSPREVIOUS' } },
      ],
      dataFrom: [{ extract: { key: 'bulk' } }, {}],
    },
    status: { refreshTime: '2026-11-29T10:00:00Z', conditions: [{ type: 'Ready', status: 'True' }] },
  });
  assert.deepEqual(es, {
    key: 'ns/db',
    resourceVersion: '3',
    namespace: 'ns',
    name: 'db',
    target: 'db',
    keys: ['bulk', 'prod/db'],
    ready: true,
    refreshTime: '2026-11-29T10:00:00Z',
    forceSync: '100',
    noRefresh: undefined,
  });
  const once = projectExternalSecret({
    metadata: { name: 'x' },
    spec: { refreshPolicy: 'CreatedOnce', target: { name: 't' } },
  });
  assert.equal(once.target, 't');
  assert.equal(once.ready, false);
  assert.match(once.noRefresh ?? '', /CreatedOnce/);
  assert.match(
    projectExternalSecret({ spec: { refreshInterval: '0s' } }).noRefresh ?? '',
    /refreshInterval 0s/,
  );
  assert.equal(
    projectExternalSecret({ spec: { refreshInterval: '0s', refreshPolicy: 'OnChange' } }).noRefresh,
    undefined,
  );
  assert.equal(projectExternalSecret({ spec: { refreshInterval: '1h0m0s' } }).noRefresh, undefined);
});

test('consumers are the workloads mounting a matching class or reading a matching ExternalSecret target', () => {
  const spc = projectProviderClass({
    metadata: { namespace: 'ns', name: 'db-csi' },
    spec: {
      provider: 'aws',
      parameters: { objects: `- objectName: "${secret.arn}"` },
      secretObjects: [{ secretName: 'csi-synced' }],
    },
  });
  const otherSpc = projectProviderClass({
    metadata: { namespace: 'ns', name: 'other-csi' },
    spec: { provider: 'aws', parameters: { objects: '- objectName: other' } },
  });
  const es = projectExternalSecret({
    metadata: { namespace: 'ns', name: 'db-es' },
    spec: { target: { name: 'db-creds' }, data: [{ remoteRef: { key: 'prod/db' } }] },
  });
  const uses = (secrets: string[], providerClasses: string[] = []) => ({ secrets, providerClasses });
  const carriers = carriersOf(secret, [spc, otherSpc], [es]);
  assert.deepEqual(carriedNames(carriers), {
    secrets: ['csi-synced', 'db-creds'],
    providerClasses: ['db-csi'],
  });
  assert.ok(usesAny(uses(['x', 'db-creds']), carriedNames(carriers)));
  assert.ok(!usesAny(uses(['db-es'], ['other-csi']), carriedNames(carriers)));
  const found = consumersOf(carriers, [
    { kind: 'Deployment', name: 'both', uses: uses(['db-creds'], ['db-csi']) },
    { kind: 'Deployment', name: 'csi', uses: uses([], ['db-csi']) },
    { kind: 'StatefulSet', name: 'env', uses: uses(['db-creds']) },
    { kind: 'DaemonSet', name: 'synced', uses: uses(['csi-synced']) },
    { kind: 'Rollout', name: 'unrelated', uses: uses(['db-es'], ['other-csi']) },
  ]);
  assert.deepEqual(Object.fromEntries(found), {
    'Deployment/both': {
      via: ['ExternalSecret/db-es', 'SecretProviderClass/db-csi'],
      externalSecrets: ['db-es'],
    },
    'Deployment/csi': { via: ['SecretProviderClass/db-csi'], externalSecrets: [] },
    'StatefulSet/env': { via: ['ExternalSecret/db-es'], externalSecrets: ['db-es'] },
    'DaemonSet/synced': { via: ['SecretProviderClass/db-csi'], externalSecrets: [] },
  });
});
