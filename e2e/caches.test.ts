import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { Informer, listPage, watchPath, type Cached, type RawObject } from '../operator/kube/informer.js';
import { WorkloadCache } from '../operator/kube/workload-cache.js';
import { apiRequests, requestDelta, stampWatch } from './bench/measure.js';
import { createMappings, eventBody } from './bench/fixtures.js';
import {
  adminClients,
  awsClients,
  createSecret,
  e2eTest,
  installCrd,
  kc,
  operatorKubeconfig,
  queueCounts,
  startOperator,
  testQueue,
  uniqueName,
  waitFor,
} from './harness.js';
import { applyMapping, getMapping, waitReason } from './mapping-helpers.js';
import { createWorkload } from './workloads-fixtures.js';

const silentLogger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger } as never;

const ROTATIONS = 50;

e2eTest(
  'rotations read nothing from the API server: no LIST, no GET of mappings or workloads',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const name = uniqueName('cached');
    const secret = await createSecret(name);
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'web' }, { app: 'web' }, { replicas: 0 });
    await createWorkload({ kind: 'StatefulSet', namespace: ns, name: 'db' }, { app: 'web' }, { replicas: 0 });
    await applyMapping(ns, 'm', { secretId: name, selector: { matchLabels: { app: 'web' } } });
    const q = await testQueue(scope);
    await startOperator(scope, { kubeconfig: await operatorKubeconfig(scope), queueUrl: q.queueUrl });
    await waitReason(ns, 'm', 'WatchingSecret');
    const { sm, sqs } = await awsClients();
    // The namespace controller LISTs every resource of a namespace it deletes (earlier tests'): wait
    // until none is left; from here on the test itself only watches.
    await waitFor(
      'no namespace terminating',
      async () => !(await kc(['get', 'namespaces'])).includes('Terminating'),
      120_000,
    );
    const stamps = await stampWatch(ns);
    const before = await apiRequests();
    for (let i = 0; i < ROTATIONS; i++) {
      const v = (await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: `v${i}` })))
        .VersionId;
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: q.queueUrl,
          MessageBody: eventBody({ name, arn: secret.arn }, v ?? ''),
        }),
      );
      await waitFor(`rotation ${i} applied`, () => Promise.resolve(stamps.seen.get(`${name}@${v}`)));
    }
    const delta = requestDelta(
      before,
      await apiRequests(),
      /^(secretsrotationmappings|deployments|statefulsets|daemonsets)$/,
    );
    stamps.stop();
    const reads = Object.entries(delta).filter(([k]) => /^(GET|LIST) /.test(k));
    assert.deepEqual(reads, [], `reads during ${ROTATIONS} rotations: ${JSON.stringify(delta)}`);
    assert.ok(
      (delta['PATCH deployments'] ?? 0) >= ROTATIONS,
      `every rotation patched: ${JSON.stringify(delta)}`,
    );
  },
);

e2eTest(
  'a message waiting when the leader starts is acknowledged only after its mapping recorded it',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const name = uniqueName('early');
    const secret = await createSecret(name);
    const decoy = uniqueName('decoy');
    await createSecret(decoy);
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'web' }, { app: 'web' }, { replicas: 0 });
    // Many mappings ahead of ours in the new leader's first round, so its first pass comes late.
    await createMappings(
      ns,
      Array.from({ length: 150 }, () => ({ secretId: decoy, selector: { matchLabels: { app: 'none' } } })),
    );
    await applyMapping(ns, 'target', { secretId: name, selector: { matchLabels: { app: 'web' } } });
    // The first operator records the baseline on a queue of its own: a long poll it had open when
    // stopped could still take the message (SQS hands messages to aborted long polls too).
    const baselineQueue = await testQueue({ ...scope, namespace: `${ns}-baseline` });
    const q = await testQueue(scope);
    const kubeconfig = await operatorKubeconfig(scope);
    const first = await startOperator(scope, { kubeconfig, queueUrl: baselineQueue.queueUrl });
    await waitReason(ns, 'target', 'WatchingSecret', 60_000);
    await first.kill();

    const { sm, sqs } = await awsClients();
    const v2 =
      (await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v2' }))).VersionId ?? '';
    await sqs.send(
      new SendMessageCommand({ QueueUrl: q.queueUrl, MessageBody: eventBody({ name, arn: secret.arn }, v2) }),
    );
    await startOperator(scope, {
      kubeconfig,
      queueUrl: q.queueUrl,
      waitReady: false,
      env: { RESYNC_INTERVAL: '0s', MAX_CONCURRENT_RECONCILES: '1' },
    });
    await waitFor(
      'the message acknowledged',
      async () => {
        const c = await queueCounts(q.queueUrl);
        return c.visible + c.inflight === 0;
      },
      60_000,
    );
    const m = await getMapping(ns, 'target');
    assert.equal(
      m.status?.currentVersionId,
      v2,
      'the mapping recorded the version before the message was deleted',
    );
  },
  { timeout: 240_000 },
);

e2eTest(
  'a message arriving as its mapping is created is acknowledged only after the mapping recorded it',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const name = uniqueName('fresh');
    const secret = await createSecret(name);
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'web' }, { app: 'web' }, { replicas: 0 });
    const q = await testQueue(scope);
    await startOperator(scope, { kubeconfig: await operatorKubeconfig(scope), queueUrl: q.queueUrl });
    const { sm, sqs } = await awsClients();
    const v2 =
      (await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v2' }))).VersionId ?? '';
    // The event follows the mapping's creation by a few milliseconds: the operator must not judge
    // the message irrelevant before it has resolved the new mapping's secret.
    await applyMapping(ns, 'm', { secretId: name, selector: { matchLabels: { app: 'web' } } });
    await sqs.send(
      new SendMessageCommand({ QueueUrl: q.queueUrl, MessageBody: eventBody({ name, arn: secret.arn }, v2) }),
    );
    await waitFor('the message acknowledged', async () => {
      const c = await queueCounts(q.queueUrl);
      return c.visible + c.inflight === 0;
    });
    const m = await getMapping(ns, 'm');
    assert.equal(
      m.status?.currentVersionId,
      v2,
      'the mapping recorded the version before the message was deleted',
    );
  },
);

e2eTest(
  'the answer of the PATCH that removes the last finalizer, seen after the DELETED event, brings no ghost back',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    await applyMapping(ns, 'm', { secretId: 'db', workloads: [{ kind: 'Deployment', name: 'web' }] });
    await kc([
      '-n',
      ns,
      'patch',
      'srm',
      'm',
      '--type=merge',
      '-p',
      '{"metadata":{"finalizers":["test/hold"]}}',
    ]);
    const { config, custom } = await adminClients();
    const res = {
      group: 'secretsrotation.io',
      version: 'v1alpha1',
      plural: 'secretsrotationmappings',
      namespace: ns,
    };
    const added: string[] = [];
    const cache = new Informer<Cached>({
      what: 'mapping',
      kubeConfig: config,
      watchPath: watchPath(res),
      list: (token) => listPage(custom, res, token),
      project: (raw) => ({
        key: `${raw.metadata?.namespace}/${raw.metadata?.name}`,
        resourceVersion: raw.metadata?.resourceVersion,
      }),
      logger: silentLogger,
      onAdd: (o) => added.push(o.key),
    });
    await cache.start();
    scope.cleanups.push(() => Promise.resolve(cache.stop()));
    assert.ok(cache.get(`${ns}/m`));
    await kc(['-n', ns, 'delete', 'srm', 'm', '--wait=false']);
    // As the operator does: the PATCH that removes the last finalizer; its answer is the object as it went.
    const answer = (await custom.patchNamespacedCustomObject(
      { ...res, name: 'm', body: [{ op: 'remove', path: '/metadata/finalizers' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    )) as RawObject;
    await waitFor(
      'the DELETED event seen',
      () => Promise.resolve(cache.get(`${ns}/m`) === undefined),
      10_000,
    );
    cache.observe(answer);
    assert.equal(cache.get(`${ns}/m`), undefined, 'no ghost in the cache');
    assert.deepEqual(added, [`${ns}/m`], 'added once, at the list');
  },
);

e2eTest(
  "the workload cache tells no change for what a kind's first list finds, then every change",
  async (scope) => {
    const ns = scope.namespace;
    const listed = ['a', 'b', 'c'];
    for (const name of listed)
      await createWorkload({ kind: 'Deployment', namespace: ns, name }, { app: 'web' }, { replicas: 0 });
    const { apps, config, custom } = await adminClients();
    // Settled first (kube-controller-manager wrote their status), so that nothing changes them while
    // the cache lists.
    await waitFor('the three Deployments observed', async () => {
      const { items } = await apps.listNamespacedDeployment({ namespace: ns });
      return items.every(
        (d) => d.status?.observedGeneration === d.metadata?.generation && d.status?.conditions?.length,
      );
    });
    const changes: string[] = [];
    const cache = new WorkloadCache({
      kubeConfig: config,
      api: custom,
      served: new Set(['Deployment']),
      logger: silentLogger,
      onChange: (old, w) => changes.push(`${old?.name ?? '-'}→${w?.name ?? '-'}`),
    });
    scope.cleanups.push(() => Promise.resolve(cache.stop()));
    await cache.ensure(ns, ['Deployment']);
    const spec = { secretId: 's', selector: { matchLabels: { app: 'web' } } };
    assert.deepEqual([...cache.candidates(ns, spec)].map((w) => w.name).sort(), listed, 'all three indexed');
    // Every pass that needs Deployments waited for this list (ensure), so telling would only have cost
    // each listed workload a look at every mapping of the namespace.
    assert.equal(changes.join(', '), '', 'nothing told for the first list');
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'd' }, { app: 'web' }, { replicas: 0 });
    await kc(['-n', ns, 'label', 'deployment', 'a', 'app=db', '--overwrite']);
    await kc(['-n', ns, 'delete', 'deployment', 'b']);
    const told = (change: string): boolean => changes.includes(change);
    await waitFor(
      'the add, the label change and the delete told',
      () => Promise.resolve(told('-→d') && told('a→a') && told('b→-')),
      10_000,
    );
    assert.equal(changes.filter((c) => c === 'b→-').length, 1, 'the delete told once');
    assert.ok(!changes.some((c) => c.startsWith('c→')), 'nothing told of c, which did not change');
  },
);
