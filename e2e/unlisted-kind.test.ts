import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
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
import { repoRoot } from './env/paths.js';
import { createWorkload, templateState } from './workloads-fixtures.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

e2eTest(
  'mappings whose workload kind never lists (LIST refused) hold no worker: another mapping still restarts at once',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const kubeconfig = await operatorKubeconfig(scope);
    // The shipped ClusterRole without StatefulSets: their cache can never list.
    const shipped = parse(
      fs.readFileSync(path.join(repoRoot, 'manifests', 'base', 'clusterrole.yaml'), 'utf8'),
    ) as { rules: Rule[] };
    const rules = shipped.rules.map((r) => ({
      ...r,
      resources: r.resources.filter((res) => res !== 'statefulsets'),
    }));
    const role = `sro-no-sts-${ns}`.slice(0, 63);
    await kc(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: role },
        rules,
      }),
    );
    scope.cleanups.push(() => kc(['delete', 'clusterrole', role, '--ignore-not-found']));
    const binding = `sro-${ns}`.slice(0, 63);
    await kc(['delete', 'clusterrolebinding', binding]);
    await kc([
      'create',
      'clusterrolebinding',
      binding,
      `--clusterrole=${role}`,
      `--serviceaccount=${ns}:secrets-rotation-operator`,
    ]);

    // More such mappings than the operator has workers (MAX_CONCURRENT_RECONCILES, 4 by default).
    const stuckSecret = uniqueName('sts');
    await createSecret(stuckSecret);
    for (let i = 0; i < 6; i++)
      await applyMapping(ns, `sts-${i}`, {
        secretId: stuckSecret,
        workloads: [{ kind: 'StatefulSet', name: `db-${i}` }],
      });
    const name = uniqueName('web');
    const secret = await createSecret(name);
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'web' }, { app: 'web' });
    await applyMapping(ns, 'web', { secretId: name, workloads: [{ kind: 'Deployment', name: 'web' }] });

    const queue = await testQueue(scope, { withRules: true });
    await startOperator(scope, {
      kubeconfig,
      queueUrl: queue.queueUrl,
      // Readiness waits for the caches the mappings started: the StatefulSets' never lists.
      waitReady: false,
    });
    await waitReason(ns, 'web', 'WatchingSecret');
    const v2 = await rotate(name, secret.arn);
    await waitFor(
      'web restarted while the StatefulSet mappings wait for their cache',
      async () => (await templateState('Deployment', ns, 'web')).stamp === `${name}@${v2}`,
      20_000,
    );
  },
);
