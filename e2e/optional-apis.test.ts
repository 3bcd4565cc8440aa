import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import type { Mapping } from '../resources/types.js';
import { awsClientConfig } from './env/aws-setup.js';
import { operatorIdentity } from './env/identity.js';
import { startSecondEnvironment } from './kit/second-environment.js';
import { tail } from './env/processes.js';
import {
  bindEditedRole,
  createSecret,
  e2eTest,
  installCrd,
  operatorKubeconfig,
  rotate,
  startOperator,
  testQueue,
  waitFor,
  type Scope,
} from './harness.js';
import { applyMapping, waitReason } from './mapping-helpers.js';
import { createWorkload, templateState } from './workloads-fixtures.js';

/**
 * A cluster without External Secrets Operator, the CSI driver or Argo Rollouts: a second environment
 * (ENV_PEERS=0) whose API server serves none of their APIs. The operator, under its ServiceAccount,
 * says once per path that it is off, and its mappings work as before.
 */
test(
  'without the ExternalSecret, SecretProviderClass and Rollout CRDs each path is off, said once at start; mappings still work',
  { timeout: 240_000 },
  async (t) => {
    const scope: Scope = { t, namespace: 'no-peers', cleanups: [], logs: [] };
    const env2 = await startSecondEnvironment('no-peers', { peers: false });
    try {
      const s = env2.state;
      assert.ok(!s.processes.some((p) => p.name === 'external-secrets'), 'no ESO in this environment');
      const kubectl = env2.kubectl;
      const ns = scope.namespace;
      await kubectl(['create', 'namespace', ns]);
      await waitFor('default ServiceAccount', () => kubectl(['-n', ns, 'get', 'serviceaccount', 'default']));
      const id = await operatorIdentity(kubectl, s, ns);
      const sm = new SecretsManagerClient(awsClientConfig(s.awsEndpoint));
      await sm.send(new CreateSecretCommand({ Name: 'no-peers-db', SecretString: 'initial' }));
      await kubectl(['-n', ns, 'create', 'deployment', 'web', '--image=nginx:1.27']);
      const mapping = {
        apiVersion: 'secretsrotation.io/v1alpha1',
        kind: 'SecretsRotationMapping',
        metadata: { name: 'm', namespace: ns },
        spec: {
          secretId: 'no-peers-db',
          discover: true,
          workloads: [
            { kind: 'Deployment', name: 'web' },
            { kind: 'Rollout', name: 'api' },
          ],
        },
      };
      await kubectl(['apply', '-f', '-'], JSON.stringify(mapping));
      const op = await startOperator(scope, {
        kubeconfig: id.kubeconfig,
        queueUrl: s.queueUrl,
        aws: s,
        cluster: env2,
      });
      const m = await waitFor('the mapping reconciled', async () => {
        const got = JSON.parse(await kubectl(['-n', ns, 'get', 'srm', 'm', '-o', 'json'])) as Mapping;
        return got.status?.conditions?.some((c) => c.reason === 'WatchingSecret') ? got : undefined;
      });
      assertPathsOff(m, op.log);
    } finally {
      for (const c of scope.cleanups.reverse()) await c().catch(() => undefined);
      await env2.down();
    }
  },
);

/** The Rollout target reported as not served, the Deployment served as ever, each path said off once. */
function assertPathsOff(m: Mapping, log: string): void {
  const rollout = m.status?.workloads?.find((w) => w.kind === 'Rollout');
  assert.equal(rollout?.state, 'Missing');
  assert.match(rollout?.message ?? '', /Rollout API \(Argo Rollouts\) is not served in this cluster/);
  assert.equal(m.status?.workloads?.find((w) => w.kind === 'Deployment')?.state, 'Current');
  const lines = fs.readFileSync(log, 'utf8');
  for (const kind of ['ExternalSecret', 'SecretProviderClass', 'Rollout']) {
    const off = lines.split('\n').filter((l) => l.includes(`"${kind} (`) && l.includes('is not served'));
    assert.equal(off.length, 1, `${kind}: said once that its path is off\n${tail(log)}`);
  }
}

const OPTIONAL_GROUPS = ['argoproj.io', 'external-secrets.io', 'secrets-store.csi.x-k8s.io'];

e2eTest(
  'an operator whose role predates these paths turns each off with an error at start, and keeps restarting',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const kubeconfig = await operatorKubeconfig(scope);
    // The previous release's ClusterRole: the same rules without the three optional APIs.
    await bindEditedRole(scope, 'previous', (rules) =>
      rules.filter((r) => !r.apiGroups.some((g) => OPTIONAL_GROUPS.includes(g))),
    );
    const name = `${ns}-db`;
    const secret = await createSecret(name);
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'web' }, { app: 'web' });
    await applyMapping(ns, 'm', {
      secretId: name,
      discover: true,
      selector: { matchLabels: { app: 'web' } },
    });
    const queue = await testQueue(scope, { withRules: true });
    const op = await startOperator(scope, { kubeconfig, queueUrl: queue.queueUrl });
    await waitReason(ns, 'm', 'WatchingSecret');
    const v2 = await rotate(name, secret.arn);
    await waitFor(
      'restarted',
      async () => (await templateState('Deployment', ns, 'web')).stamp === `${name}@${v2}`,
    );
    const lines = fs.readFileSync(op.log, 'utf8').split('\n');
    for (const plural of ['externalsecrets', 'secretproviderclasses', 'rollouts']) {
      const said = lines.filter((l) => l.includes(`may not list ${plural} in namespace ${ns}`));
      assert.equal(said.length, 1, `${plural}: said once`);
      assert.match(said[0], /"level":"error"/);
    }
  },
);
