import fs from 'node:fs';
import { parseAllDocuments } from 'yaml';
import path from 'node:path';
import { kubeconfigYaml } from './pki.js';
import { repoRoot, stateDir } from './paths.js';

type Kubectl = (args: string[], input?: string) => Promise<string> | string;

/**
 * The operator's identity for tests and the demo: a ServiceAccount `secrets-rotation-operator` in
 * `namespace`, bound to the ClusterRole shipped in manifests/base (cluster-wide, or in `namespace`
 * only with a RoleBinding), and a kubeconfig holding a token of that ServiceAccount — never admin.
 */
export async function operatorIdentity(
  kubectl: Kubectl,
  server: { apiserverUrl: string; caCert: string },
  namespace: string,
  bind: 'cluster' | 'namespace' = 'cluster',
): Promise<{ kubeconfig: string; bindingName: string; cleanup: () => Promise<void> }> {
  await kubectl(['apply', '-f', path.join(repoRoot, 'manifests', 'base', 'clusterrole.yaml')]);
  // The tenancy reads are cluster-wide in both installs (see tenancy-clusterrole.yaml); only the
  // ClusterRole is taken from that file, its binding is made for this ServiceAccount.
  await kubectl(['apply', '-f', '-'], tenancyRole());
  await kubectl(['-n', namespace, 'create', 'serviceaccount', 'secrets-rotation-operator']);
  const bindingName = `sro-${namespace}`.slice(0, 63);
  const tenancyBinding = `sro-tenancy-${namespace}`.slice(0, 63);
  const subject = `--serviceaccount=${namespace}:secrets-rotation-operator`;
  await kubectl([
    'create',
    'clusterrolebinding',
    tenancyBinding,
    '--clusterrole=secrets-rotation-operator-tenancy',
    subject,
  ]);
  if (bind === 'cluster') {
    await kubectl([
      'create',
      'clusterrolebinding',
      bindingName,
      '--clusterrole=secrets-rotation-operator',
      subject,
    ]);
  } else {
    await kubectl([
      '-n',
      namespace,
      'create',
      'rolebinding',
      bindingName,
      '--clusterrole=secrets-rotation-operator',
      subject,
    ]);
  }
  // Leader election: the Lease lives in `namespace` (the operator's LEADER_ELECTION_NAMESPACE in tests).
  await kubectl([
    '-n',
    namespace,
    'apply',
    '-f',
    path.join(repoRoot, 'manifests', 'base', 'leader-election-role.yaml'),
  ]);
  await kubectl([
    '-n',
    namespace,
    'create',
    'rolebinding',
    'sro-leader-election',
    '--role=secrets-rotation-operator-leader-election',
    subject,
  ]);
  const token = String(
    await kubectl(['-n', namespace, 'create', 'token', 'secrets-rotation-operator', '--duration=8h']),
  ).trim();
  const kubeconfig = path.join(stateDir, `operator-${namespace}.kubeconfig`);
  fs.writeFileSync(kubeconfig, kubeconfigYaml(server.apiserverUrl, server.caCert, { token }), {
    mode: 0o600,
  });
  return {
    kubeconfig,
    bindingName,
    cleanup: async () => {
      fs.rmSync(kubeconfig, { force: true });
      await kubectl(['delete', 'clusterrolebinding', tenancyBinding, '--ignore-not-found']);
      if (bind === 'cluster')
        await kubectl(['delete', 'clusterrolebinding', bindingName, '--ignore-not-found']);
    },
  };
}

/** The tenancy ClusterRole of manifests/base, as JSON for kubectl apply. */
function tenancyRole(): string {
  const file = path.join(repoRoot, 'manifests', 'base', 'tenancy-clusterrole.yaml');
  const docs = parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJSON() as { kind: string });
  return JSON.stringify(docs.find((d) => d.kind === 'ClusterRole'));
}
