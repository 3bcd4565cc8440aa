import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { kubeconfigYaml } from '../env/pki.js';
import { logDir, repoRoot, stateDir } from '../env/paths.js';
import { freePort, tail } from '../env/processes.js';
import { environment, kc, waitFor, type Owner } from '../harness.js';
import { metric } from './measure.js';

/** Stakater Reloader running out of cluster as its own ServiceAccount, as the bench compares it. */
export interface RunningReloader {
  process: ChildProcess;
  log: string;
  version: string;
  metrics(): Promise<string>;
  kill(): Promise<void>;
}

/** The Reloader binary, built once from its Go module by e2e/env/build-reloader.sh (cached outside the repo). */
export function reloaderBinary(): { path: string; version: string } {
  const out = execFileSync('bash', [path.join(repoRoot, 'e2e', 'env', 'build-reloader.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const bin = out.trim().split('\n').pop() ?? '';
  return { path: bin, version: /reloader-(v[^/]+)\//.exec(bin)?.[1] ?? 'unknown' };
}

/**
 * The rules of Reloader's chart's ClusterRole (deployments/kubernetes/chart/reloader/templates/
 * clusterrole.yaml, watchGlobally, no namespace selector, no Argo Rollouts, no CSI integration).
 */
const CLUSTER_RULES = [
  { apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['list', 'get', 'watch'] },
  {
    apiGroups: ['apps'],
    resources: ['deployments', 'daemonsets', 'statefulsets'],
    verbs: ['list', 'get', 'update', 'patch'],
  },
  { apiGroups: ['batch'], resources: ['cronjobs'], verbs: ['list', 'get'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'delete', 'list', 'get'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
];

/** Its chart's metadata Role in its own namespace: the meta-info ConfigMap it publishes at start. */
const NAMESPACE_RULES = [
  { apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'get', 'watch', 'create', 'update'] },
];

/** A ServiceAccount `reloader` in the scope's namespace, bound to the chart's rules; its token's kubeconfig. */
async function reloaderIdentity(sc: Owner): Promise<string> {
  const ns = sc.namespace;
  const role = `bench-reloader-${ns}`.slice(0, 63);
  await kc(['-n', ns, 'create', 'serviceaccount', 'reloader']);
  const objects = [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: role },
      rules: CLUSTER_RULES,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: role },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ kind: 'ServiceAccount', name: 'reloader', namespace: ns }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'reloader-metadata', namespace: ns },
      rules: NAMESPACE_RULES,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'reloader-metadata', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reloader-metadata' },
      subjects: [{ kind: 'ServiceAccount', name: 'reloader', namespace: ns }],
    },
  ];
  await kc(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  sc.cleanups.push(() => kc(['delete', 'clusterrole,clusterrolebinding', role, '--ignore-not-found']));
  const token = (await kc(['-n', ns, 'create', 'token', 'reloader', '--duration=8h'])).trim();
  const env = await environment();
  const kubeconfig = path.join(stateDir, `reloader-${ns}.kubeconfig`);
  fs.writeFileSync(kubeconfig, kubeconfigYaml(env.apiserverUrl, env.caCert, { token }), { mode: 0o600 });
  sc.cleanups.push(() => Promise.resolve(fs.rmSync(kubeconfig, { force: true })));
  return kubeconfig;
}

function get(port: number, p: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/** How many objects of `resource` (secrets, configmaps) its informers have been handed so far. */
export const received = (metrics: string, resource: string, event = 'add'): number =>
  metric(metrics, 'reloader_events_received_total', `event_type="${event}",resource_type="${resource}"`);

/**
 * Reloader with its chart's defaults (all namespaces, env-vars reload strategy, no HA), as the
 * ServiceAccount of the scope's namespace; resolves once its Secret and ConfigMap informers have listed
 * `expect` objects each: only then does it see an update as an update (an object changed before its
 * first list arrives as an add, which it ignores by default).
 */
export async function startReloader(
  sc: Owner,
  expect: { secrets: number; configMaps: number },
): Promise<RunningReloader> {
  const bin = reloaderBinary();
  const kubeconfig = await reloaderIdentity(sc);
  const port = await freePort();
  fs.mkdirSync(logDir, { recursive: true });
  const log = path.join(logDir, `reloader-${sc.namespace}.log`);
  const fd = fs.openSync(log, 'a');
  const child = spawn(bin.path, [], {
    stdio: ['ignore', fd, fd],
    env: {
      PATH: process.env.PATH,
      HOME: stateDir,
      KUBECONFIG: kubeconfig,
      RELOADER_HTTP_ADDR: `127.0.0.1:${port}`,
      RELOADER_NAMESPACE: sc.namespace,
    },
  });
  fs.closeSync(fd);
  sc.logs.push(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  sc.cleanups.push(kill);
  const metrics = (): Promise<string> => get(port, '/metrics');
  await waitFor(
    `Reloader's informers listed ${expect.secrets} Secrets and ${expect.configMaps} ConfigMaps`,
    async () => {
      if (child.exitCode !== null) throw new Error(`reloader exited with ${child.exitCode}\n${tail(log)}`);
      const m = await metrics().catch(() => '');
      return received(m, 'secrets') >= expect.secrets && received(m, 'configmaps') >= expect.configMaps;
    },
    300_000,
  );
  return { process: child, log, version: bin.version, metrics, kill };
}
