import assert from 'node:assert/strict';
import { operatorIdentity } from './env/identity.js';
import { startSecondEnvironment } from './kit/second-environment.js';
import {
  createSecret,
  e2eTest,
  installCrd,
  kc,
  operatorKubeconfig,
  rotate,
  startOperator,
  testQueue,
  waitFor,
} from './harness.js';
import { applyMapping, waitReason } from './mapping-helpers.js';
import { createWorkload, templateState } from './workloads-fixtures.js';

/**
 * Several clusters, one AWS account: each cluster runs its operator on its own queue with its own
 * rules (one stack of the template per cluster), never two operators on one queue — SQS consumers
 * of one queue compete, and each message would reach only one cluster. EventBridge delivers the
 * rotation's event to every matching rule, so each cluster's queue gets it.
 */
e2eTest(
  'two clusters, each with its own queue and rules from the template: one rotation restarts the workload in each',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const env2 = await startSecondEnvironment('second-cluster', { peers: false });
    scope.cleanups.push(env2.down);
    const second = env2.state;
    const kubectl2 = env2.kubectl;
    const main = JSON.parse(await kc(['config', 'view', '--minify', '-o', 'json'])) as {
      clusters: { cluster: { server: string } }[];
    };
    assert.notEqual(second.apiserverUrl, main.clusters[0].cluster.server, 'two control planes');

    // One secret in the shared account, a workload mapped to it in each cluster.
    const name = `${ns}-db`;
    const secret = await createSecret(name);
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'web' }, { app: 'web' }, { replicas: 1 });
    await applyMapping(ns, 'm', { secretId: name, workloads: [{ kind: 'Deployment', name: 'web' }] });
    await kubectl2(['create', 'namespace', ns]);
    await waitFor('default ServiceAccount', () => kubectl2(['-n', ns, 'get', 'serviceaccount', 'default']));
    await kubectl2(['-n', ns, 'create', 'deployment', 'web', '--image=nginx:1.27']);
    const mapping = {
      apiVersion: 'secretsrotation.io/v1alpha1',
      kind: 'SecretsRotationMapping',
      metadata: { name: 'm', namespace: ns },
      spec: { secretId: name, workloads: [{ kind: 'Deployment', name: 'web' }] },
    };
    await kubectl2(['apply', '-f', '-'], JSON.stringify(mapping));

    // Each cluster its own queue + the template's rules, in the one account.
    const queueA = await testQueue(scope, { withRules: true });
    const queueB = await testQueue({ ...scope, namespace: `${ns}-b` }, { withRules: true });
    assert.notEqual(queueA.queueUrl, queueB.queueUrl);
    await startOperator(scope, { kubeconfig: await operatorKubeconfig(scope), queueUrl: queueA.queueUrl });
    const idB = await operatorIdentity(kubectl2, second, ns);
    scope.cleanups.push(idB.cleanup);
    // Cluster B's issuer is a second IAM OIDC provider in the account; its role trusts only B's ServiceAccount.
    await startOperator(scope, { kubeconfig: idB.kubeconfig, queueUrl: queueB.queueUrl, cluster: env2 });
    await waitReason(ns, 'm', 'WatchingSecret');
    await waitFor(
      'the second cluster watching',
      async () =>
        (await kubectl2([
          '-n',
          ns,
          'get',
          'srm',
          'm',
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Ready")].reason}',
        ])) === 'WatchingSecret',
    );

    const v2 = await rotate(name, secret.arn);
    const stampB = async (): Promise<string> =>
      kubectl2([
        '-n',
        ns,
        'get',
        'deployment',
        'web',
        '-o',
        'jsonpath={.spec.template.metadata.annotations.secretsrotation\\.io/secret-version}',
      ]);
    await waitFor(
      'restarted in the first cluster',
      async () => (await templateState('Deployment', ns, 'web')).stamp === `${name}@${v2}`,
    );
    await waitFor('restarted in the second cluster', async () => (await stampB()) === `${name}@${v2}`);
  },
  { timeout: 300_000 },
);
