import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './env/paths.js';
import type { Mapping, WorkloadStatus } from '../resources/types.js';
import {
  adminClients,
  awsClients,
  createSecret,
  drained,
  e2eTest,
  environment,
  installCrd,
  kc,
  operatorKubeconfig,
  putEvent,
  putSecretValueEvent,
  rotate,
  startOperator,
  testQueue,
  waitFor,
  FAST_LEASE,
  leads,
  type RunningOperator,
  type Scope,
} from './harness.js';
import { applyMapping, eventReasons, getMapping, waitReason } from './mapping-helpers.js';

/**
 * Consumption-aware restarts against the real projects' CRDs and the real External Secrets Operator
 * (built from its Go module, syncing from moto): discovery through SecretProviderClasses and
 * ExternalSecrets, the force-sync-then-restart sequence, a sync that never comes, Argo Rollouts.
 */

const STAMP = 'secretsrotation.io/secret-version';

interface PodUse {
  /** Secrets read through env (secretKeyRef). */
  env?: string[];
  /** Secrets read through envFrom. */
  envFrom?: string[];
  /** Secrets mounted through a projected volume. */
  projected?: string[];
  /** SecretProviderClasses mounted through the CSI driver. */
  csi?: string[];
}

function podTemplate(app: string, use: PodUse): object {
  return {
    metadata: { labels: { app } },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'nginx:1.27',
          env: (use.env ?? []).map((s, i) => ({
            name: `V${i}`,
            valueFrom: { secretKeyRef: { name: s, key: 'password' } },
          })),
          envFrom: (use.envFrom ?? []).map((s) => ({ secretRef: { name: s } })),
        },
      ],
      volumes: [
        ...(use.csi ?? []).map((spc, i) => ({
          name: `csi-${i}`,
          csi: {
            driver: 'secrets-store.csi.k8s.io',
            readOnly: true,
            volumeAttributes: { secretProviderClass: spc },
          },
        })),
        ...(use.projected?.length
          ? [
              {
                name: 'projected',
                projected: { sources: use.projected.map((s) => ({ secret: { name: s } })) },
              },
            ]
          : []),
      ],
    },
  };
}

type Kind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Rollout';

const API: Record<Kind, { apiVersion: string; resource: string }> = {
  Deployment: { apiVersion: 'apps/v1', resource: 'deployment' },
  StatefulSet: { apiVersion: 'apps/v1', resource: 'statefulset' },
  DaemonSet: { apiVersion: 'apps/v1', resource: 'daemonset' },
  Rollout: { apiVersion: 'argoproj.io/v1alpha1', resource: 'rollouts.argoproj.io' },
};

async function apply(namespace: string, obj: object): Promise<void> {
  await kc(['-n', namespace, 'apply', '-f', '-'], JSON.stringify(obj));
}

async function createConsumer(namespace: string, kind: Kind, name: string, use: PodUse): Promise<void> {
  const spec: Record<string, unknown> = {
    selector: { matchLabels: { app: name } },
    template: podTemplate(name, use),
  };
  if (kind !== 'DaemonSet') spec.replicas = 1;
  if (kind === 'StatefulSet') spec.serviceName = name;
  if (kind === 'Rollout') spec.strategy = { canary: {} };
  await apply(namespace, { apiVersion: API[kind].apiVersion, kind, metadata: { name, namespace }, spec });
}

interface KubeObject {
  metadata: { generation: number; annotations?: Record<string, string> };
  spec: { restartAt?: string; template?: { metadata?: { annotations?: Record<string, string> } } };
}

/** The workload as JSON (kubectl get -o json). */
async function getObject(namespace: string, kind: Kind, name: string): Promise<KubeObject> {
  return JSON.parse(await kc(['-n', namespace, 'get', API[kind].resource, name, '-o', 'json'])) as KubeObject;
}

/** Our stamp: on the pod template, or on a Rollout's own metadata. */
async function stampOf(namespace: string, kind: Kind, name: string): Promise<string | undefined> {
  const o = await getObject(namespace, kind, name);
  const annotations = kind === 'Rollout' ? o.metadata.annotations : o.spec.template?.metadata?.annotations;
  return annotations?.[STAMP];
}

async function secretStore(namespace: string): Promise<void> {
  await apply(namespace, {
    apiVersion: 'external-secrets.io/v1',
    kind: 'SecretStore',
    metadata: { name: 'aws' },
    spec: { provider: { aws: { service: 'SecretsManager', region: 'us-east-1' } } },
  });
}

async function externalSecret(
  namespace: string,
  name: string,
  opts: { key?: string; property?: string; extract?: string; target?: string; refreshInterval?: string },
): Promise<void> {
  await apply(namespace, {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name },
    spec: {
      refreshInterval: opts.refreshInterval ?? '1h',
      secretStoreRef: { name: 'aws', kind: 'SecretStore' },
      target: opts.target ? { name: opts.target } : undefined,
      data: opts.key
        ? [{ secretKey: 'password', remoteRef: { key: opts.key, property: opts.property } }]
        : undefined,
      dataFrom: opts.extract ? [{ extract: { key: opts.extract } }] : undefined,
    },
  });
}

async function getExternalSecret(
  namespace: string,
  name: string,
): Promise<{ metadata: { annotations?: Record<string, string> } }> {
  return JSON.parse(await kc(['-n', namespace, 'get', 'externalsecret', name, '-o', 'json'])) as {
    metadata: { annotations?: Record<string, string> };
  };
}

/** The value ESO wrote into a Secret (read as admin: the operator never reads Secrets). */
async function secretValue(namespace: string, name: string, key = 'password'): Promise<string | undefined> {
  const { core } = await adminClients();
  try {
    const s = await core.readNamespacedSecret({ namespace, name });
    const v = s.data?.[key];
    return v === undefined ? undefined : Buffer.from(v, 'base64').toString();
  } catch {
    return undefined;
  }
}

async function secretProviderClass(namespace: string, name: string, objects: string[]): Promise<void> {
  await apply(namespace, {
    apiVersion: 'secrets-store.csi.x-k8s.io/v1',
    kind: 'SecretProviderClass',
    metadata: { name },
    spec: {
      provider: 'aws',
      parameters: {
        objects: objects.map((o) => `- objectName: "${o}"\n  objectType: secretsmanager`).join('\n'),
      },
    },
  });
}

/** Every entry current at v2; the ESO consumer went by a sync for v2, the CSI one by none. */
async function syncsRecorded(ns: string, v2: string): Promise<void> {
  const final = await waitFor('status current', async () => {
    const e = await entries(ns, 'm');
    return [...e.values()].every((w) => w.versionId === v2) ? e : undefined;
  });
  assert.equal(final.get('Deployment/both')?.sync?.versionId, v2);
  assert.equal(final.get('Deployment/csi')?.sync, undefined);
  assert.match((await secretValue(ns, 'db-creds')) ?? '', /^value-/, 'ESO holds the new value');
  assert.match((await secretValue(ns, 'bulk')) ?? '', /^value-/, 'extracted too');
  assert.equal(final.get('DaemonSet/bulk')?.sync?.versionId, v2, 'the dataFrom consumer waited for its sync');
}

/** The operator's metric counted exactly one ended wait for an ExternalSecret sync, with `outcome`. */
async function oneSyncWait(op: RunningOperator, outcome: 'synced' | 'timed_out'): Promise<void> {
  const metric = `secrets_rotation_external_secret_sync_wait_seconds_count{outcome="${outcome}"} 1`;
  assert.ok((await op.metrics()).split('\n').includes(metric), metric);
}

function viaByWorkload(m: Mapping): Record<string, string[] | undefined> {
  return Object.fromEntries((m.status?.workloads ?? []).map((w) => [`${w.kind}/${w.name}`, w.via]));
}

async function entries(namespace: string, mapping: string): Promise<Map<string, WorkloadStatus>> {
  const m = await getMapping(namespace, mapping);
  return new Map((m.status?.workloads ?? []).map((w) => [`${w.kind}/${w.name}`, w]));
}

/** Runs `fn` with the environment's External Secrets Operator stopped (SIGSTOP), resumed after. */
async function whileEsoStopped<T>(
  state: { processes: { name: string; pid: number }[] },
  fn: () => Promise<T>,
): Promise<T> {
  const eso = state.processes.find((x) => x.name === 'external-secrets');
  if (!eso) throw new Error('External Secrets Operator is not running in the environment');
  process.kill(eso.pid, 'SIGSTOP');
  try {
    return await fn();
  } finally {
    process.kill(eso.pid, 'SIGCONT');
  }
}

/**
 * A secret `<ns>-db` copied by ESO into the Secret `db-creds` (ExternalSecret `db`, SecretStore `aws`),
 * returned once ESO has synced it.
 */
async function esoBackedSecret(ns: string, refreshInterval?: string): Promise<{ arn: string }> {
  const secret = await createSecret(`${ns}-db`);
  await secretStore(ns);
  await externalSecret(ns, 'db', { key: `${ns}-db`, target: 'db-creds', refreshInterval });
  await waitFor('ESO synced', async () => (await secretValue(ns, 'db-creds')) === 'initial');
  return secret;
}

async function operatorFor(scope: Scope): Promise<{ op: RunningOperator; queueUrl: string }> {
  await installCrd();
  const kubeconfig = await operatorKubeconfig(scope);
  const queue = await testQueue(scope, { withRules: true });
  return {
    op: await startOperator(scope, { kubeconfig, queueUrl: queue.queueUrl }),
    queueUrl: queue.queueUrl,
  };
}

/** A new version holding {"password": value}; returns its id (no event: the caller sends one if needed). */
async function putJson(name: string, password: string): Promise<string> {
  const { sm } = await awsClients();
  const out = await sm.send(
    new PutSecretValueCommand({ SecretId: name, SecretString: JSON.stringify({ password }) }),
  );
  return out.VersionId ?? '';
}

e2eTest(
  'discover: the consumers of a secret through a SecretProviderClass and an ExternalSecret are found, said how, and restarted once',
  async (scope) => {
    const ns = scope.namespace;
    const { op } = await operatorFor(scope);
    const secret = await createSecret(`${ns}-db`);
    // A JSON value, as dataFrom.extract needs (one Secret key per JSON field).
    await putJson(`${ns}-db`, 'initial');
    await createSecret(`${ns}-other`);
    await secretStore(ns);
    // By partial ARN (no suffix) and by name: both resolve to the secret.
    await secretProviderClass(ns, 'db-csi', [secret.arn.replace(/-[A-Za-z0-9]{6}$/, '')]);
    await secretProviderClass(ns, 'other-csi', [`${ns}-other`]);
    // Objects that are not a YAML list: skipped by discovery, and the operator says why.
    await apply(ns, {
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name: 'broken-csi' },
      spec: { provider: 'aws', parameters: { objects: '- objectName: [unclosed' } },
    });
    await externalSecret(ns, 'db', { key: `${ns}-db`, property: 'password', target: 'db-creds' });
    // dataFrom.extract, by full ARN.
    await externalSecret(ns, 'bulk', { extract: secret.arn });
    await externalSecret(ns, 'other', { key: `${ns}-other` });
    await waitFor('ESO synced the three ExternalSecrets', async () =>
      (await Promise.all(['db-creds', 'bulk', 'other'].map((s) => secretValue(ns, s)))).every(
        (v) => v === 'initial',
      ),
    );
    await createConsumer(ns, 'Deployment', 'csi', { csi: ['db-csi'] });
    await createConsumer(ns, 'StatefulSet', 'env', { env: ['db-creds'] });
    await createConsumer(ns, 'DaemonSet', 'bulk', { envFrom: ['bulk'] });
    await createConsumer(ns, 'Rollout', 'projected', { projected: ['db-creds'] });
    await createConsumer(ns, 'Deployment', 'both', { csi: ['db-csi'], env: ['db-creds'] });
    await createConsumer(ns, 'Deployment', 'unrelated', { csi: ['other-csi'], env: ['other'] });
    await applyMapping(ns, 'm', { secretId: `${ns}-db`, discover: true });

    const m = await waitReason(ns, 'm', 'WatchingSecret');
    assert.deepEqual(viaByWorkload(m), {
      'DaemonSet/bulk': ['ExternalSecret/bulk'],
      'Deployment/both': ['ExternalSecret/db', 'SecretProviderClass/db-csi'],
      'Deployment/csi': ['SecretProviderClass/db-csi'],
      'Rollout/projected': ['ExternalSecret/db'],
      'StatefulSet/env': ['ExternalSecret/db'],
    });
    assert.equal(m.status?.matchedWorkloads, 5);
    const before = await getObject(ns, 'Deployment', 'both');

    const v2 = await putJson(`${ns}-db`, `value-${Date.now()}`);
    await putEvent('AWS API Call via CloudTrail', putSecretValueEvent(`${ns}-db`, secret.arn, v2));
    const stamp = `${ns}-db@${v2}`;
    for (const [kind, name] of [
      ['Deployment', 'csi'],
      ['StatefulSet', 'env'],
      ['DaemonSet', 'bulk'],
      ['Rollout', 'projected'],
      ['Deployment', 'both'],
    ] as [Kind, string][]) {
      await waitFor(
        `${kind}/${name} restarted for ${v2}`,
        async () => (await stampOf(ns, kind, name)) === stamp,
      );
    }
    const rollout = await getObject(ns, 'Rollout', 'projected');
    assert.match(
      String(rollout.spec.restartAt),
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
      'Rollout restarted via spec.restartAt',
    );
    assert.equal(rollout.spec.template?.metadata?.annotations?.[STAMP], undefined, 'its template untouched');
    // Consuming two ways, restarted once: one template change.
    const after = await getObject(ns, 'Deployment', 'both');
    assert.equal(after.metadata.generation, before.metadata.generation + 1);
    assert.equal(await stampOf(ns, 'Deployment', 'unrelated'), undefined);
    await syncsRecorded(ns, v2);
    // A consumer created later is discovered from its watch event (no rotation, no resync needed);
    // one that stops reading the secret leaves the list.
    await createConsumer(ns, 'Deployment', 'late', { envFrom: ['db-creds'] });
    await waitFor('the new consumer listed', async () => {
      const e = (await entries(ns, 'm')).get('Deployment/late');
      return e?.via?.join() === 'ExternalSecret/db' && e.versionId === v2;
    });
    await createConsumer(ns, 'Deployment', 'csi', {});
    await waitFor(
      'the former consumer unlisted',
      async () => !(await entries(ns, 'm')).has('Deployment/csi'),
    );
    // Each optional path announced once, at start.
    const log = fs.readFileSync(op.log, 'utf8');
    for (const kind of ['ExternalSecret', 'SecretProviderClass', 'Rollout'])
      assert.equal(log.split(`"${kind} (`).length - 1, 1, `${kind} path announced once`);
    const unreadable = log.split('\n').filter((l) => l.includes('could not be read'));
    assert.equal(unreadable.length, 1, 'the unreadable SecretProviderClass said once');
    assert.match(unreadable[0], new RegExp(`"SecretProviderClass":"${ns}/broken-csi"`));
  },
  { timeout: 240_000 },
);

e2eTest(
  'an ExternalSecret consumer restarts only after ESO synced the new value: force-sync, WaitingForSync, then one restart',
  async (scope) => {
    const ns = scope.namespace;
    const state = await environment();
    const { op } = await operatorFor(scope);
    const secret = await esoBackedSecret(ns);
    await createConsumer(ns, 'Deployment', 'web', { env: ['db-creds'] });
    await applyMapping(ns, 'm', { secretId: `${ns}-db`, workloads: [{ kind: 'Deployment', name: 'web' }] });
    await waitReason(ns, 'm', 'WatchingSecret');
    const generation = (await getObject(ns, 'Deployment', 'web')).metadata.generation;

    // ESO is held still, so the sync can only come when the test lets it.
    const v2 = await whileEsoStopped(state, async () => {
      const v2 = await rotate(`${ns}-db`, secret.arn);
      const waiting = await waitFor('WaitingForSync', async () => {
        const w = (await entries(ns, 'm')).get('Deployment/web');
        return w?.state === 'WaitingForSync' ? w : undefined;
      });
      assert.equal(waiting.sync?.versionId, v2);
      assert.match(waiting.message ?? '', /waits for ExternalSecret\/db to sync/);
      const requested = Math.floor(Date.parse(waiting.sync?.requestedAt ?? '') / 1000);
      await waitFor(
        'force-sync written (from the second after the request)',
        async () =>
          Number((await getExternalSecret(ns, 'db')).metadata.annotations?.['force-sync']) > requested,
      );
      assert.ok((await eventReasons(ns, 'm')).includes('SyncRequested'));
      assert.equal(await stampOf(ns, 'Deployment', 'web'), undefined, 'no restart before the sync');
      assert.equal(await secretValue(ns, 'db-creds'), 'initial');
      return v2;
    });
    await waitFor(
      'restarted after the sync',
      async () => (await stampOf(ns, 'Deployment', 'web')) === `${ns}-db@${v2}`,
    );
    // By the time the template changed, the Secret the new pods read already held the new value.
    const value = await secretValue(ns, 'db-creds');
    assert.notEqual(value, 'initial');
    assert.match(value ?? '', /^value-/);
    const after = await getObject(ns, 'Deployment', 'web');
    assert.equal(after.metadata.generation, generation + 1, 'restarted exactly once');
    const w = await waitFor('Restarted', async () => {
      const e = (await entries(ns, 'm')).get('Deployment/web');
      return e?.state === 'Restarted' && e.versionId === v2 ? e : undefined;
    });
    assert.equal(w.sync?.versionId, v2);
    await oneSyncWait(op, 'synced');
  },
  { timeout: 240_000 },
);

e2eTest(
  'a leader killed while a restart waits for ESO: the new leader keeps the request and restarts once, after the sync',
  async (scope) => {
    const ns = scope.namespace;
    const state = await environment();
    await installCrd();
    const secret = await esoBackedSecret(ns);
    await createConsumer(ns, 'StatefulSet', 'db-client', { env: ['db-creds'] });
    await applyMapping(ns, 'm', { secretId: `${ns}-db`, discover: true });
    const queue = await testQueue(scope, { withRules: true, visibilityTimeout: 5, maxReceiveCount: 10 });
    const kubeconfig = await operatorKubeconfig(scope);
    const replicas = [
      await startOperator(scope, { kubeconfig, queueUrl: queue.queueUrl, env: FAST_LEASE }),
      await startOperator(scope, { kubeconfig, queueUrl: queue.queueUrl, env: FAST_LEASE }),
    ];
    await waitReason(ns, 'm', 'WatchingSecret');
    const [leader, follower] = (await leads(replicas[0])) ? replicas : [replicas[1], replicas[0]];
    const generation = (await getObject(ns, 'StatefulSet', 'db-client')).metadata.generation;

    const v2 = await whileEsoStopped(state, async () => {
      const v2 = await rotate(`${ns}-db`, secret.arn);
      const waiting = await waitFor('WaitingForSync with the force-sync written', async () => {
        const w = (await entries(ns, 'm')).get('StatefulSet/db-client');
        const asked = Number((await getExternalSecret(ns, 'db')).metadata.annotations?.['force-sync'] ?? 0);
        return w?.state === 'WaitingForSync' && w.sync && asked > 0 ? w.sync : undefined;
      });
      await leader.kill('SIGKILL');
      await waitFor('the follower leads', () => leads(follower), 15_000);
      // The new leader's passes see the same request (from status) and keep waiting.
      await waitFor('the new leader reconciled the mapping', async () =>
        /^secrets_rotation_reconcile_duration_seconds_count\{result="(success|requeue)"\} [1-9]/m.test(
          await follower.metrics(),
        ),
      );
      const after = (await entries(ns, 'm')).get('StatefulSet/db-client');
      assert.equal(after?.state, 'WaitingForSync');
      assert.deepEqual(after?.sync, waiting, 'the request carried over, not made anew');
      assert.equal(await stampOf(ns, 'StatefulSet', 'db-client'), undefined, 'no restart before the sync');
      return v2;
    });
    await waitFor(
      'restarted after the sync',
      async () => (await stampOf(ns, 'StatefulSet', 'db-client')) === `${ns}-db@${v2}`,
    );
    assert.match((await secretValue(ns, 'db-creds')) ?? '', /^value-/);
    assert.equal((await getObject(ns, 'StatefulSet', 'db-client')).metadata.generation, generation + 1);
  },
  { timeout: 180_000 },
);

e2eTest(
  'a sync that never comes: SyncTimedOut reported, no restart under Wait; Restart restarts anyway',
  async (scope) => {
    const ns = scope.namespace;
    const { op } = await operatorFor(scope);
    // refreshInterval 0: ESO syncs once at creation and ignores force-sync afterwards.
    const secret = await esoBackedSecret(ns, '0s');
    await createConsumer(ns, 'Deployment', 'web', { envFrom: ['db-creds'] });
    const spec = {
      secretId: `${ns}-db`,
      workloads: [{ kind: 'Deployment' as const, name: 'web' }],
      externalSecretSync: { timeout: '3s', onTimeout: 'Wait' as const },
    };
    await applyMapping(ns, 'm', spec);
    await waitReason(ns, 'm', 'WatchingSecret');
    const v2 = await rotate(`${ns}-db`, secret.arn);
    const m = await waitReason(ns, 'm', 'SyncTimedOut');
    const w = m.status?.workloads?.find((e) => e.name === 'web');
    assert.equal(w?.state, 'SyncTimedOut');
    assert.match(w?.message ?? '', /did not sync version .* within 3s/);
    assert.match(w?.message ?? '', /refreshInterval 0s: it never syncs again/);
    assert.ok((await eventReasons(ns, 'm')).includes('SyncTimedOut'));
    assert.equal(await stampOf(ns, 'Deployment', 'web'), undefined, 'Wait: no restart with the old value');

    await applyMapping(ns, 'm', { ...spec, externalSecretSync: { timeout: '3s', onTimeout: 'Restart' } });
    await waitFor(
      'restarted anyway',
      async () => (await stampOf(ns, 'Deployment', 'web')) === `${ns}-db@${v2}`,
    );
    await waitReason(ns, 'm', 'WatchingSecret');
    await oneSyncWait(op, 'timed_out');
  },
  { timeout: 180_000 },
);

e2eTest(
  'an Argo Rollout is restarted through spec.restartAt once per version, and its progress read from its status',
  async (scope) => {
    const ns = scope.namespace;
    const { queueUrl } = await operatorFor(scope);
    const name = `${ns}-db`;
    const secret = await createSecret(name);
    await createConsumer(ns, 'Rollout', 'web', {});
    await applyMapping(ns, 'm', { secretId: name, workloads: [{ kind: 'Rollout', name: 'web' }] });
    await waitReason(ns, 'm', 'WatchingSecret');

    const v2 = await rotate(name, secret.arn);
    await waitFor('Rollout stamped', async () => (await stampOf(ns, 'Rollout', 'web')) === `${name}@${v2}`);
    const first = await getObject(ns, 'Rollout', 'web');
    const restartAt = String(first.spec.restartAt);
    await waitFor(
      'rollout InProgress',
      async () => (await entries(ns, 'm')).get('Rollout/web')?.rollout === 'InProgress',
    );
    // The same event again (SQS redelivers): the same stamp, no second restart.
    await putEvent('AWS API Call via CloudTrail', putSecretValueEvent(name, secret.arn, v2));
    await putEvent('AWS API Call via CloudTrail', putSecretValueEvent(name, secret.arn, v2));
    await drained(queueUrl);
    const again = await getObject(ns, 'Rollout', 'web');
    assert.equal(again.spec.restartAt, restartAt, 'restartAt unchanged for the same version');
    assert.equal(again.metadata.generation, first.metadata.generation);

    // Argo's part: its controller reports the restart done.
    await kc([
      '-n',
      ns,
      'patch',
      'rollouts.argoproj.io',
      'web',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { restartedAt: restartAt, phase: 'Healthy' } }),
    ]);
    await waitFor(
      'rollout Complete',
      async () => (await entries(ns, 'm')).get('Rollout/web')?.rollout === 'Complete',
    );
    assert.ok((await eventReasons(ns, 'm')).includes('RolloutComplete'));

    const v3 = await rotate(name, secret.arn);
    await waitFor('restarted for v3', async () => (await stampOf(ns, 'Rollout', 'web')) === `${name}@${v3}`);
    const third = await getObject(ns, 'Rollout', 'web');
    assert.ok(Date.parse(String(third.spec.restartAt)) > Date.parse(restartAt), 'a later restartAt');
    assert.equal(third.metadata.generation, first.metadata.generation + 1, 'one restart for v3');
  },
  { timeout: 180_000 },
);

e2eTest(
  'the consumption sample is accepted by the API server with the three CRDs installed',
  async (scope) => {
    await installCrd();
    const out = await kc([
      '-n',
      scope.namespace,
      'apply',
      '--dry-run=server',
      '-f',
      path.join(repoRoot, 'manifests', 'samples', 'consumers', 'consumers.yaml'),
    ]);
    for (const kind of ['secretsrotationmapping', 'secretproviderclass', 'externalsecret', 'rollout'])
      assert.match(out, new RegExp(`${kind}\\.[a-z0-9.-]+/\\S+ created \\(server dry run\\)`));
  },
);
