import { Watch } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import type { Mapping } from '../resources/types.js';
import {
  adminClients,
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
import { applyMapping, getMapping, ready, waitReason } from './mapping-helpers.js';
import { createWorkload, templateState } from './workloads-fixtures.js';

const sizes = cacheSizes;

/** Workloads of the three selector kinds in the namespaces that have mappings now (the whole cluster). */
async function mappedWorkloads(): Promise<number> {
  const names = await kc(['get', 'srm', '-A', '-o', 'jsonpath={.items[*].metadata.namespace}']);
  let n = 0;
  for (const ns of new Set(names.split(' ').filter(Boolean))) {
    const out = await kc(['-n', ns, 'get', 'deployments,statefulsets,daemonsets', '-o', 'name']);
    n += out.split('\n').filter(Boolean).length;
  }
  return n;
}

/** Every Ready reason the mapping's status showed, from a watch started before it exists. */
async function reasonsOf(namespace: string, name: string): Promise<{ seen: string[]; stop(): void }> {
  const { config } = await adminClients();
  const seen: string[] = [];
  const abort = await new Watch(config).watch(
    `/apis/secretsrotation.io/v1alpha1/namespaces/${namespace}/secretsrotationmappings`,
    { fieldSelector: `metadata.name=${name}` },
    (_phase: string, m: Mapping) => {
      const reason = ready(m).reason;
      if (reason && seen.at(-1) !== reason) seen.push(reason);
    },
    () => undefined,
  );
  return { seen, stop: () => abort.abort() };
}

e2eTest(
  'workload caches follow the mappings: unrelated namespaces are never cached, a fresh namespace is listed before its first pass, its last mapping drops it',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const unrelated = await extraNamespace(scope, 'unrelated');
    for (let i = 0; i < 5; i++)
      await createWorkload(
        { kind: 'Deployment', namespace: unrelated, name: `other-${i}` },
        { app: 'web' },
        { replicas: 0 },
      );
    const first = uniqueName('first');
    await createSecret(first);
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'web' }, { app: 'web' }, { replicas: 0 });
    await applyMapping(ns, 'm', { secretId: first, selector: { matchLabels: { app: 'web' } } });
    const q = await testQueue(scope, { withRules: true });
    // Cluster-wide (WATCH_NAMESPACE empty), as the chart installs it by default; through a relay
    // that makes the fresh namespace's first LIST of Deployments slow (below).
    const relay = await FaultRelay.kube(await environment(), 33);
    scope.cleanups.push(() => relay.close());
    const op = await startOperator(scope, {
      kubeconfig: relay.kubeconfigThrough(await operatorKubeconfig(scope)),
      queueUrl: q.queueUrl,
      watchNamespace: '',
      env: { LEADER_ELECTION_NAMESPACE: ns },
    });
    await waitReason(ns, 'm', 'WatchingSecret');
    const before = await sizes(op);
    assert.equal(before.workloads, await mappedWorkloads(), 'only the workloads of namespaces with mappings');
    assert.ok(before.namespaces >= 1 && before.watches >= 3, JSON.stringify(before));

    // A mapping in a namespace no cache has listed: its first pass finds its workload (no NoWorkloads
    // on the way), and the first rotation restarts it.
    const fresh = await extraNamespace(scope, 'fresh');
    // Its Deployments' LIST answers 3 s late: a pass that did not wait for it would find no workload.
    relay.inject({
      kinds: ['kube-read'],
      faults: ['delay'],
      delayMs: [3000, 3000],
      times: 1,
      match: (r) => r.url.startsWith(`/apis/apps/v1/namespaces/${fresh}/deployments?`),
    });
    await createWorkload(
      { kind: 'Deployment', namespace: fresh, name: 'api' },
      { app: 'api' },
      { replicas: 0 },
    );
    const name = uniqueName('fresh');
    const secret = await createSecret(name);
    const reasons = await reasonsOf(fresh, 'm');
    scope.cleanups.push(() => Promise.resolve(reasons.stop()));
    await applyMapping(fresh, 'm', { secretId: name, selector: { matchLabels: { app: 'api' } } });
    const watching = await waitReason(fresh, 'm', 'WatchingSecret');
    assert.equal(watching.status?.matchedWorkloads, 1);
    assert.deepEqual(reasons.seen, ['WatchingSecret'], 'never without its workload');
    assert.equal(relay.injected.length, 1, 'the first LIST was the slow one');
    const v2 = await rotate(name, secret.arn);
    await waitFor(
      'api restarted on the first rotation',
      async () => (await templateState('Deployment', fresh, 'api')).stamp === `${name}@${v2}`,
      20_000,
    );
    const grown = await sizes(op);
    assert.deepEqual(
      { workloads: grown.workloads, namespaces: grown.namespaces },
      { workloads: before.workloads + 1, namespaces: before.namespaces + 1 },
    );
    // Three workload kinds, and the consumer kinds the cluster serves.
    assert.ok(grown.watches >= before.watches + 3, `${before.watches} → ${grown.watches} watches`);

    // Its last mapping goes: the namespace's watches stop and its workloads are forgotten.
    // Not waited for by kubectl: it runs synchronously in this process, where the relay runs too.
    await kc(['-n', fresh, 'delete', 'srm', 'm', '--wait=false']);
    await waitFor(
      'the fresh mapping gone',
      () =>
        getMapping(fresh, 'm').then(
          () => false,
          () => true,
        ),
      30_000,
    );
    await waitFor(
      'the fresh namespace dropped',
      async () => JSON.stringify(await sizes(op)) === JSON.stringify(before),
      10_000,
    );
    assert.equal((await getMapping(ns, 'm').then(ready)).reason, 'WatchingSecret');
  },
);
