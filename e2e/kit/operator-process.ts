import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { localAwsEnv } from '../env/aws-setup.js';
import type { EnvState } from '../env/env.js';
import { OUR_CRDS, waitForCrdsEstablished } from '../env/crds-established.js';
import { operatorIdentity } from '../env/identity.js';
import { admissionGuardPath, crdDir, logDir, operatorEntry, repoRoot } from '../env/paths.js';
import { parse } from 'yaml';
import { freePort, tail } from '../env/processes.js';
import { operatorRoleEnv, type IdentityCluster } from './aws-role.js';
import { environment, kc, waitFor } from './clients.js';

/**
 * Who owns processes and objects the kit starts: a namespace named after it, cleanups run at its
 * end, and log files to show when it fails (a test's Scope is one; the benchmark and demo make theirs).
 */
export interface Owner {
  namespace: string;
  cleanups: (() => Promise<unknown>)[];
  logs: string[];
}

/**
 * The admission guard on the operator's writes, as env:up installs it: put back after something
 * removed it (kubectl delete -k manifests/base, helm uninstall), so later suites run under it.
 */
export async function installAdmissionGuard(): Promise<void> {
  await kc(['apply', '--server-side', '--force-conflicts', '-f', admissionGuardPath]);
}

export async function installCrd(): Promise<void> {
  await kc(['apply', '--server-side', '--force-conflicts', '-k', crdDir]);
  await waitForCrdsEstablished(kc, OUR_CRDS, 30_000);
}

/** The operator's ServiceAccount kubeconfig for `scope`'s namespace (see env/identity.ts); removed with its cleanups. */
export async function operatorKubeconfig(
  scope: Owner,
  bind: 'cluster' | 'namespace' = 'cluster',
): Promise<string> {
  const id = await operatorIdentity(kc, await environment(), scope.namespace, bind);
  scope.cleanups.push(id.cleanup);
  return id.kubeconfig;
}

/** A rule of the operator's ClusterRole, as manifests/base/clusterrole.yaml writes it. */
export interface RoleRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/**
 * Binds the operator's ServiceAccount of `scope` (see operatorKubeconfig) to a ClusterRole of the
 * shipped rules as `edit` changes them, instead of the shipped one: a previous release's role, or
 * one that may not list a kind. The role goes with the scope's cleanups.
 */
export async function bindEditedRole(
  scope: Owner,
  name: string,
  edit: (rules: RoleRule[]) => RoleRule[],
): Promise<void> {
  const ns = scope.namespace;
  const shipped = parse(
    fs.readFileSync(path.join(repoRoot, 'manifests', 'base', 'clusterrole.yaml'), 'utf8'),
  ) as { rules: RoleRule[] };
  const role = `sro-${name}-${ns}`.slice(0, 63);
  await kc(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: role },
      rules: edit(shipped.rules),
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
}

export interface RunningOperator {
  process: ChildProcess;
  log: string;
  metricsPort: number;
  kill(signal?: NodeJS.Signals): Promise<void>;
  metrics(): Promise<string>;
}

function httpGet(port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** The HTTP status of an operator's /readyz (0 when nothing answers). */
export const readyz = async (port: number): Promise<number> =>
  (await httpGet(port, '/readyz').catch(() => undefined))?.status ?? 0;

/** Leader election fast enough for tests (client-go's defaults are 15s / 10s / 2s). */
export const FAST_LEASE = { LEASE_DURATION: '6s', RENEW_DEADLINE: '4s', RETRY_PERIOD: '1s' };

/** True while `op` reports holding the Lease (its leader gauge). */
export const leads = async (op: RunningOperator): Promise<boolean> =>
  /^secrets_rotation_leader 1$/m.test(await op.metrics().catch(() => ''));

/**
 * Starts the operator (its bundle, as the image runs it) as the ServiceAccount, with the template's
 * IAM role from that ServiceAccount's token (kit/aws-role.ts); resolves once /readyz says ready.
 */
export async function startOperator(
  scope: Owner,
  opts: {
    kubeconfig: string;
    queueUrl: string;
    watchNamespace?: string;
    env?: Record<string, string>;
    /** Node flags before the bundle (V8 flags NODE_OPTIONS refuses, as the image's ENTRYPOINT has them). */
    nodeArgs?: string[];
    /** A cgroup's `cgroup.procs`: the operator starts in that cgroup (node sizes its heap from its limit). */
    cgroupProcs?: string;
    waitReady?: boolean;
    /** Another AWS endpoint (default: the shared environment's; a relay in front of it, or `aws`'s). */
    awsEndpoint?: string;
    /** The environment whose AWS endpoint holds the operator's role (default: the shared one). */
    aws?: EnvState;
    /** The cluster whose ServiceAccount the operator runs as (default: the shared one). */
    cluster?: IdentityCluster;
    /** Make the role allow DescribeSecret on these ARNs only (the stack's SecretArnPattern; default all). */
    secretArnPattern?: string;
    /** Make the role allow UpdateSecretVersionStage on these ARNs (the stack's RevertSecretArnPattern; default none). */
    revertSecretArnPattern?: string;
  },
): Promise<RunningOperator> {
  const awsEndpoint = opts.awsEndpoint ?? (opts.aws ?? (await environment())).awsEndpoint;
  const role = await operatorRoleEnv(scope.namespace, {
    queueUrl: opts.queueUrl,
    awsEndpoint,
    aws: opts.aws,
    cluster: opts.cluster,
    secretArnPattern: opts.secretArnPattern,
    revertSecretArnPattern: opts.revertSecretArnPattern,
  });
  const metricsPort = await freePort();
  fs.mkdirSync(logDir, { recursive: true });
  const log = path.join(logDir, `operator-${scope.namespace}-${metricsPort}.log`);
  const fd = fs.openSync(log, 'a');
  const argv = [process.execPath, ...(opts.nodeArgs ?? []), operatorEntry];
  // In the cgroup before node starts: the shell moves itself in, then becomes node (same pid).
  const [file, ...args] = opts.cgroupProcs
    ? ['/bin/sh', '-c', 'echo $$ > "$0" && exec "$@"', opts.cgroupProcs, ...argv]
    : argv;
  const child = spawn(file, args, {
    stdio: ['ignore', fd, fd],
    env: {
      PATH: process.env.PATH,
      KUBECONFIG: opts.kubeconfig,
      WATCH_NAMESPACE: opts.watchNamespace ?? scope.namespace,
      SQS_QUEUE_URL: opts.queueUrl,
      ...localAwsEnv(awsEndpoint, role),
      METRICS_PORT: String(metricsPort),
      METRICS_BIND_ADDRESS: '127.0.0.1',
      SQS_WAIT_TIME_SECONDS: '2',
      LOG_LEVEL: 'debug',
      ...opts.env,
    },
  });
  fs.closeSync(fd);
  scope.logs.push(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  scope.cleanups.push(() => kill('SIGKILL'));
  const op: RunningOperator = {
    process: child,
    log,
    metricsPort,
    kill,
    metrics: async () => (await httpGet(metricsPort, '/metrics')).body,
  };
  if (opts.waitReady ?? true) {
    await waitFor('operator /readyz', async () => {
      if (child.exitCode !== null) throw new Error(`operator exited with ${child.exitCode}\n${tail(log)}`);
      return (await readyz(metricsPort)) === 200;
    });
  }
  return op;
}
