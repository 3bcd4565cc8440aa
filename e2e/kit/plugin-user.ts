import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { logDir, repoRoot, stateDir } from '../env/paths.js';
import { environment, kc } from './clients.js';
import type { Owner } from './operator-process.js';

/** The bundled plugin, run as kubectl runs a plugin: the executable file itself. */
export const PLUGIN = path.join(repoRoot, 'dist', 'kubectl-secretsrotation.mjs');
export const PLUGIN_RBAC = path.join(repoRoot, 'manifests', 'plugin', 'rbac.yaml');

export interface PluginRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A kubeconfig for plugin users of `scope`: one context per ServiceAccount `users` names (made in the
 * scope's namespace, with a token each), bound to the shipped roles as `users` says — `reader` roles
 * cluster-wide (ClusterRoleBinding), `resumer` in the namespace only (RoleBinding). The first user's
 * context is the current one; every context's namespace is the scope's.
 */
export async function pluginUsers(
  scope: Owner,
  users: { name: string; reader: boolean; resumer: boolean }[],
): Promise<string> {
  const ns = scope.namespace;
  const env = await environment();
  await kc(['apply', '-f', PLUGIN_RBAC]);
  const tokens: Record<string, string> = {};
  for (const u of users) {
    await kc(['-n', ns, 'create', 'serviceaccount', u.name]);
    const subject = `--serviceaccount=${ns}:${u.name}`;
    if (u.reader) {
      const binding = `plugin-${u.name}-${ns}`.slice(0, 63);
      await kc([
        'create',
        'clusterrolebinding',
        binding,
        '--clusterrole=secrets-rotation-plugin-reader',
        subject,
      ]);
      scope.cleanups.push(() => kc(['delete', 'clusterrolebinding', binding, '--ignore-not-found']));
    }
    if (u.resumer)
      await kc([
        '-n',
        ns,
        'create',
        'rolebinding',
        `resume-${u.name}`,
        '--clusterrole=secrets-rotation-plugin-resumer',
        subject,
      ]);
    tokens[u.name] = (await kc(['-n', ns, 'create', 'token', u.name, '--duration=1h'])).trim();
  }
  const file = path.join(stateDir, `plugin-${ns}.kubeconfig`);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'env', cluster: { server: env.apiserverUrl, 'certificate-authority': env.caCert } }],
    users: users.map((u) => ({ name: u.name, user: { token: tokens[u.name] } })),
    contexts: users.map((u) => ({ name: u.name, context: { cluster: 'env', user: u.name, namespace: ns } })),
    'current-context': users[0].name,
  };
  fs.writeFileSync(file, stringify(config), { mode: 0o600 });
  scope.cleanups.push(() => Promise.resolve(fs.rmSync(file, { force: true })));
  return file;
}

/**
 * Runs the bundled plugin with `args`, KUBECONFIG=`kubeconfig` (as a user's shell has it); every run
 * is appended to logs/kubectl-plugin-<namespace>.txt (the docs quote these runs).
 */
export function runPlugin(scope: Owner, kubeconfig: string, args: string[]): Promise<PluginRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(PLUGIN, args, { env: { ...process.env, KUBECONFIG: kubeconfig } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const log = path.join(logDir, `kubectl-plugin-${scope.namespace}.txt`);
      fs.appendFileSync(
        log,
        `$ kubectl secretsrotation ${args.join(' ')}\n${stdout}${stderr}(exit ${code})\n\n`,
      );
      if (!scope.logs.includes(log)) scope.logs.push(log);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
