import assert from 'node:assert/strict';
import {
  createSecret,
  e2eTest,
  installCrd,
  kc,
  operatorKubeconfig,
  rotate,
  startOperator,
  testQueue,
  uniqueName,
  waitFor,
} from './harness.js';
import { applyMapping, waitReason } from './mapping-helpers.js';
import { createWorkload, templateState } from './workloads-fixtures.js';

/** `kubectl auth can-i` as the operator's ServiceAccount: true, false. */
async function can(namespace: string, ...args: string[]): Promise<boolean> {
  try {
    return (
      (
        await kc([
          'auth',
          'can-i',
          ...args,
          `--as=system:serviceaccount:${namespace}:secrets-rotation-operator`,
        ])
      ).trim() === 'yes'
    );
  } catch (err) {
    if ((err as { stdout?: string }).stdout?.trim() === 'no') return false;
    throw err;
  }
}

e2eTest(
  'the ClusterRole grants exactly what the operator needs: no Secrets, no pods, no CRDs, no ESO stores',
  async (scope) => {
    const ns = scope.namespace;
    await operatorKubeconfig(scope);
    for (const denied of [
      ['get', 'secrets'],
      ['list', 'secrets'],
      ['list', 'configmaps'],
      ['delete', 'pods'],
      ['create', 'customresourcedefinitions.apiextensions.k8s.io'],
      ['delete', 'deployments.apps'],
      ['update', 'deployments.apps'],
      ['delete', 'secretsrotationmappings.secretsrotation.io'],
      // Reads come from watch caches: no GET of mappings or workloads is needed, so none is granted.
      ['get', 'secretsrotationmappings.secretsrotation.io'],
      ['get', 'deployments.apps'],
      // Consumers: read through watch caches; the one write is ESO's force-sync annotation.
      ['update', 'externalsecrets.external-secrets.io'],
      ['delete', 'externalsecrets.external-secrets.io'],
      ['create', 'externalsecrets.external-secrets.io'],
      ['list', 'secretstores.external-secrets.io'],
      ['patch', 'secretproviderclasses.secrets-store.csi.x-k8s.io'],
      ['update', 'rollouts.argoproj.io'],
      ['delete', 'rollouts.argoproj.io'],
    ]) {
      assert.equal(await can(ns, ...denied, '-A'), false, `may not ${denied.join(' ')}`);
    }
    for (const allowed of [
      ['watch', 'secretsrotationmappings.secretsrotation.io'],
      ['patch', 'secretsrotationmappings.secretsrotation.io', '--subresource=status'],
      ['patch', 'deployments.apps'],
      ['list', 'daemonsets.apps'],
      ['watch', 'statefulsets.apps'],
      ['create', 'events'],
      ['watch', 'externalsecrets.external-secrets.io'],
      ['patch', 'externalsecrets.external-secrets.io'],
      ['list', 'secretproviderclasses.secrets-store.csi.x-k8s.io'],
      ['watch', 'rollouts.argoproj.io'],
      ['patch', 'rollouts.argoproj.io'],
    ]) {
      assert.equal(await can(ns, ...allowed, '-A'), true, `may ${allowed.join(' ')}`);
    }
    // Leader election: its own Lease by name (create cannot be limited by name), no other Lease.
    const lease = 'leases.coordination.k8s.io/secrets-rotation-operator';
    for (const [verb, resource, expected] of [
      ['get', lease, true],
      ['update', lease, true],
      ['create', 'leases.coordination.k8s.io', true],
      ['delete', lease, false],
      ['list', 'leases.coordination.k8s.io', false],
      ['get', 'leases.coordination.k8s.io/kube-controller-manager', false],
      ['update', 'leases.coordination.k8s.io/another-operator', false],
    ] as const) {
      assert.equal(await can(ns, verb, resource, '-n', ns), expected, `${verb} ${resource}: ${expected}`);
    }
  },
);

e2eTest(
  'a namespace-scoped install rotates in its namespace and cannot touch workloads elsewhere',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const other = uniqueName('other');
    await kc(['create', 'namespace', other]);
    scope.cleanups.push(() => kc(['delete', 'namespace', other, '--wait=false']));
    const kubeconfig = await operatorKubeconfig(scope, 'namespace');
    assert.equal(await can(ns, 'patch', 'deployments.apps', '-n', ns), true);
    assert.equal(
      await can(ns, 'patch', 'deployments.apps', '-n', other),
      false,
      'no access outside its namespace',
    );
    assert.equal(await can(ns, 'list', 'secretsrotationmappings.secretsrotation.io', '-A'), false);

    const name = uniqueName('scoped');
    const secret = await createSecret(name);
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'web' }, { app: 'web' });
    await createWorkload({ kind: 'Deployment', namespace: other, name: 'web' }, { app: 'web' });
    await applyMapping(ns, 'm', { secretId: name, selector: { matchLabels: { app: 'web' } } });
    const queue = await testQueue(scope, { withRules: true });
    await startOperator(scope, { kubeconfig, queueUrl: queue.queueUrl });
    await waitReason(ns, 'm', 'WatchingSecret');
    const v2 = await rotate(name, secret.arn);
    await waitFor(
      'restart in its namespace',
      async () => (await templateState('Deployment', ns, 'web')).stamp === `${name}@${v2}`,
    );
    assert.equal(
      (await templateState('Deployment', other, 'web')).stamp,
      undefined,
      'the other namespace is untouched',
    );
    // The code never aims at another namespace, so the line above alone could not fail: the operator's
    // own credentials try the restart patch and the watch there, and the API server must refuse both.
    const asOperator = (args: string[]): Promise<string> => kc([`--kubeconfig=${kubeconfig}`, ...args]);
    for (const args of [
      [
        '-n',
        other,
        'patch',
        'deployment',
        'web',
        '-p',
        '{"spec":{"template":{"metadata":{"annotations":{"x":"y"}}}}}',
      ],
      ['-n', other, 'get', 'deployments', '--watch=false'],
    ]) {
      await assert.rejects(asOperator(args), (err: Error & { stderr?: string }) => {
        assert.match(String(err.stderr ?? err.message), /forbidden/i, args.join(' '));
        return true;
      });
    }
  },
);
