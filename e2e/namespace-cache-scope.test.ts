import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { listPage } from '../operator/kube/informer.js';
import {
  createSecret,
  e2eTest,
  environment,
  installCrd,
  kc,
  operatorKubeconfig,
  rotate,
  startOperator,
  testQueue,
  uniqueName,
  waitFor,
} from './harness.js';
import { cacheSizes, extraNamespace } from './kit/cache-sizes.js';
import { FaultRelay } from './kit/fault-relay.js';
import { applyPolicy } from './kit/policies.js';
import { metric } from './bench/measure.js';
import {
  applyMapping,
  eventReasons,
  getMapping,
  mappedDeployment,
  ready,
  waitReason,
} from './mapping-helpers.js';
import { createWorkload, templateState } from './workloads-fixtures.js';

e2eTest(
  'a namespace whose LIST keeps failing holds neither readiness nor another mapping: its mapping says WorkloadsNotListed with the answer, and recovers once it lists',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const web = await mappedDeployment(ns, 'web', { app: 'web' });
    const failing = await extraNamespace(scope, 'failing');
    await mappedDeployment(failing, 'api', { app: 'api' });
    const q = await testQueue(scope, { withRules: true });
    const relay = await FaultRelay.kube(await environment(), 34);
    scope.cleanups.push(() => relay.close());
    // Every LIST of that namespace's Deployments answered 500, until the rule is cleared below.
    relay.inject({
      kinds: ['kube-read'],
      faults: ['error-500'],
      match: (r) => r.url.startsWith(`/apis/apps/v1/namespaces/${failing}/deployments?`),
    });
    // Cluster-wide, as the chart installs it; startOperator waits for /readyz.
    await startOperator(scope, {
      kubeconfig: relay.kubeconfigThrough(await operatorKubeconfig(scope)),
      queueUrl: q.queueUrl,
      watchNamespace: '',
      env: { LEADER_ELECTION_NAMESPACE: ns },
    });
    const stuck = await waitReason(failing, 'api', 'WorkloadsNotListed');
    assert.equal(ready(stuck).status, 'False');
    assert.match(
      ready(stuck).message ?? '',
      new RegExp(`cannot list Deployments in namespace ${failing} \\(.*500.*\\); retrying with backoff`),
    );
    assert.ok((await eventReasons(failing, 'api')).includes('WorkloadsNotListed'), 'a Warning Event too');

    // The other namespace's mapping is not held up: watched, and restarted on the first rotation.
    await waitReason(ns, 'web', 'WatchingSecret');
    const v2 = await rotate(web.secret, web.arn);
    await waitFor(
      'web restarted while the other namespace cannot list',
      async () => (await templateState('Deployment', ns, 'web')).stamp === `${web.secret}@${v2}`,
      20_000,
    );
    await waitFor('the LIST retried', () => Promise.resolve(relay.injected.length >= 3 || undefined));
    // The informer retries with backoff (1 s doubling to 30 s): once its LIST answers, the mapping goes on.
    relay.clear();
    const recovered = await waitReason(failing, 'api', 'WatchingSecret', 60_000);
    assert.equal(recovered.status?.matchedWorkloads, 1);
  },
);

e2eTest(
  'namespace caches open only for mappings their policies allow, and close when the permission is withdrawn',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const tenant = uniqueName('tenant');
    const team = await extraNamespace(scope, 'team', [`tenant=${tenant}`]);
    const prefix = uniqueName('team');
    const policy = uniqueName('policy');
    await applyPolicy(scope, policy, tenant, [`${prefix}/*`]);
    const allowed = `${prefix}/db`;
    await createSecret(allowed);
    const refusedId = uniqueName('elsewhere');
    await createSecret(refusedId);
    await createWorkload(
      { kind: 'Deployment', namespace: team, name: 'web' },
      { app: 'web' },
      { replicas: 0 },
    );
    await createWorkload(
      { kind: 'StatefulSet', namespace: team, name: 'db' },
      { app: 'db' },
      { replicas: 0 },
    );
    const q = await testQueue(scope, { withRules: true });
    const op = await startOperator(scope, {
      kubeconfig: await operatorKubeconfig(scope),
      queueUrl: q.queueUrl,
      watchNamespace: '',
      env: { LEADER_ELECTION_NAMESPACE: ns },
    });
    const before = await cacheSizes(op);

    // Refused by its policy: no list+watch is opened for it.
    await applyMapping(team, 'refused', { secretId: refusedId, selector: { matchLabels: { app: 'web' } } });
    await waitReason(team, 'refused', 'NotAllowed');
    assert.deepEqual(await cacheSizes(op), before, 'a refused mapping opens no watch');

    // Allowed, naming a Deployment: its namespace watches Deployments (and the consumer kinds served).
    await applyMapping(team, 'web', { secretId: allowed, workloads: [{ kind: 'Deployment', name: 'web' }] });
    await waitReason(team, 'web', 'WatchingSecret');
    const deployments = await cacheSizes(op);
    assert.equal(deployments.namespaces, before.namespaces + 1);
    assert.ok(deployments.watches >= before.watches + 1, JSON.stringify({ before, deployments }));

    // The policy withdraws the permission: the namespace's caches close; given again, they reopen.
    await applyPolicy(scope, policy, tenant, [`${prefix}/other`]);
    await waitReason(team, 'web', 'NotAllowed', 15_000);
    await waitFor(
      'the namespace released once no mapping there is allowed',
      async () => JSON.stringify(await cacheSizes(op)) === JSON.stringify(before) || undefined,
      15_000,
    );
    await applyPolicy(scope, policy, tenant, [`${prefix}/*`]);
    await waitReason(team, 'web', 'WatchingSecret', 15_000);
    assert.deepEqual(await cacheSizes(op), deployments, 'watched again once allowed');
  },
);

e2eTest(
  'a pass still waiting on AWS when its mapping is deleted does not start the namespace caches again',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const name = uniqueName('late');
    await createSecret(name);
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'web' }, { app: 'web' }, { replicas: 0 });
    const relay = await FaultRelay.aws((await environment()).awsEndpoint, 35);
    scope.cleanups.push(() => relay.close());
    const q = await testQueue(scope, { withRules: true });
    const op = await startOperator(scope, {
      kubeconfig: await operatorKubeconfig(scope),
      queueUrl: q.queueUrl,
      awsEndpoint: relay.url,
    });
    const before = await cacheSizes(op);
    // Every DescribeSecret of this secret answers 6 s late: the mapping goes while its first pass waits.
    relay.inject({
      kinds: ['describe-secret'],
      faults: ['delay'],
      delayMs: [6000, 6000],
      match: (r) => r.body?.includes(name) ?? false,
    });
    await applyMapping(ns, 'm', { secretId: name, workloads: [{ kind: 'Deployment', name: 'web' }] });
    await waitFor('the first pass held on DescribeSecret, past its finalizer', async () =>
      relay.injected.length > 0 && (await getMapping(ns, 'm')).metadata.finalizers?.length ? true : undefined,
    );
    const passes = async (): Promise<number> =>
      metric(await op.metrics(), 'secrets_rotation_reconcile_duration_seconds_count');
    const held = await passes();
    // Deleted, its finalizer taken off by hand: gone while the pass still waits.
    await kc(['-n', ns, 'delete', 'srm', 'm', '--wait=false']);
    await kc(['-n', ns, 'patch', 'srm', 'm', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await waitFor('the mapping gone', () =>
      getMapping(ns, 'm').then(
        () => undefined,
        () => true,
      ),
    );
    await waitFor('the held pass ended', async () => ((await passes()) > held ? true : undefined), 20_000);
    assert.deepEqual(await cacheSizes(op), before, 'no namespace cache left behind by the late pass');
  },
);

e2eTest(
  'a namespace watches the kinds its mappings need now: the StatefulSet watch stops with the last mapping naming StatefulSets',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const name = uniqueName('kinds');
    await createSecret(name);
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'web' }, { app: 'web' }, { replicas: 0 });
    await createWorkload({ kind: 'StatefulSet', namespace: ns, name: 'db' }, { app: 'db' }, { replicas: 0 });
    const q = await testQueue(scope, { withRules: true });
    const op = await startOperator(scope, {
      kubeconfig: await operatorKubeconfig(scope),
      queueUrl: q.queueUrl,
    });
    await applyMapping(ns, 'web', { secretId: name, workloads: [{ kind: 'Deployment', name: 'web' }] });
    await waitReason(ns, 'web', 'WatchingSecret');
    const deployments = await cacheSizes(op);
    // A second mapping adds StatefulSets; when it goes, their watch goes with it.
    await applyMapping(ns, 'db', { secretId: name, workloads: [{ kind: 'StatefulSet', name: 'db' }] });
    await waitReason(ns, 'db', 'WatchingSecret');
    assert.equal((await cacheSizes(op)).watches, deployments.watches + 1, 'StatefulSets watched');
    await kc(['-n', ns, 'delete', 'srm', 'db', '--wait=false']);
    await waitFor(
      'the StatefulSet watch stopped with the last mapping needing it',
      async () => JSON.stringify(await cacheSizes(op)) === JSON.stringify(deployments) || undefined,
      15_000,
    );
    assert.equal((await cacheSizes(op)).workloads, 1, 'the StatefulSet forgotten with its watch');
  },
);

e2eTest('an informer stopped while its LIST is on the way aborts that request on the wire', async (scope) => {
  const relay = await FaultRelay.kube(await environment(), 36);
  scope.cleanups.push(() => relay.close());
  const path = `/apis/apps/v1/namespaces/${scope.namespace}/deployments?`;
  // The LIST reaches the API server 10 s late: the abort must end it before that.
  relay.inject({
    kinds: ['kube-read'],
    faults: ['delay'],
    delayMs: [10_000, 10_000],
    match: (r) => r.url.startsWith(path),
  });
  const config = new KubeConfig();
  config.loadFromFile(relay.kubeconfigThrough(await operatorKubeconfig(scope)));
  const api = config.makeApiClient(CustomObjectsApi);
  const abort = new AbortController();
  const started = Date.now();
  const res = { group: 'apps', version: 'v1', plural: 'deployments', namespace: scope.namespace };
  const listing = listPage(api, res, undefined, abort.signal);
  await waitFor('the LIST on the wire', () => Promise.resolve(relay.injected.length > 0 || undefined));
  abort.abort();
  await assert.rejects(listing, (err: Error) => err.name === 'AbortError');
  assert.ok(Date.now() - started < 10_000, 'ended by the abort, not by the answer');
});
