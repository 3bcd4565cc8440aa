import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { ClusterIssuer } from './aws-identity.js';
import { createPki, kubeconfigYaml, type Pki } from './pki.js';
import { freePort, startDetached, tcpOpen, waitUntil, type Started } from './processes.js';
import { auditArgs } from './audit.js';
import { repoRoot, stateDir } from './paths.js';

/** Where the built binaries live (see build.sh). */
export interface Toolchain {
  cacheDir: string;
  binDir: string;
  stagesDir: string;
  /** The Python of moto's venv (moto_iam.py runs moto's server in it). */
  motoPython: string;
}

/** Runs e2e/env/build.sh (a no-op in seconds when everything is cached) and returns the cache paths. */
export function ensureToolchain(quiet = false): Toolchain {
  let out: string;
  try {
    out = execFileSync('bash', [path.join(repoRoot, 'e2e', 'env', 'build.sh')], {
      stdio: ['ignore', 'pipe', quiet ? 'pipe' : 'inherit'],
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stderr?: string; status?: number };
    const why = (e.stderr ?? '')
      .split('\n')
      .filter((l) => l.includes('ERROR'))
      .join('\n');
    throw new Error(why || `e2e/env/build.sh failed (exit ${e.status ?? '?'}); run it directly to see why`, {
      cause: err,
    });
  }
  const cacheDir = out.trim().split('\n').pop() ?? '';
  return {
    cacheDir,
    binDir: path.join(cacheDir, 'bin'),
    stagesDir: path.join(cacheDir, 'kwok-stages'),
    motoPython: path.join(cacheDir, 'venv', 'bin', 'python'),
  };
}

export interface ControlPlane {
  processes: Started[];
  apiserverUrl: string;
  kubeconfig: string;
  pki: Pki;
}

function getOk(url: string, pki: Pki): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get(
      url,
      {
        ca: fs.readFileSync(pki.caCert),
        cert: fs.readFileSync(pki.adminCert),
        key: fs.readFileSync(pki.adminKey),
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => resolve(false));
    req.setTimeout(2000, () => req.destroy());
  });
}

async function startEtcd(bin: string): Promise<{ proc: Started; url: string }> {
  const [client, peer] = [await freePort(), await freePort()];
  const dataDir = path.join(stateDir, 'etcd');
  fs.rmSync(dataDir, { recursive: true, force: true });
  const url = `http://127.0.0.1:${client}`;
  const proc = startDetached('etcd', path.join(bin, 'etcd'), [
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${url}`,
    `--advertise-client-urls=${url}`,
    `--listen-peer-urls=http://127.0.0.1:${peer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
    `--initial-cluster=default=http://127.0.0.1:${peer}`,
    '--listen-metrics-urls=',
    '--unsafe-no-fsync',
    '--quota-backend-bytes=2147483648',
  ]);
  await waitUntil('etcd', () => tcpOpen(client), { pid: proc.pid, log: proc.log });
  return { proc, url };
}

/**
 * The cluster's ServiceAccount token issuer, named after its signing key as EKS names a cluster's
 * (oidc.eks.<region>.amazonaws.com/id/<id>): two local clusters are two IAM OIDC providers.
 */
export function serviceAccountIssuer(pki: Pki): string {
  const id = crypto
    .createHash('sha256')
    .update(fs.readFileSync(pki.saPub))
    .digest('hex')
    .slice(0, 20)
    .toUpperCase();
  return `https://oidc.secrets-rotation.local/id/${id}`;
}

/** The issuer and its keys as the API server publishes them (/openid/v1/jwks), for IAM to trust. */
export function clusterIssuer(tools: Toolchain, cp: ControlPlane): ClusterIssuer {
  return {
    issuer: serviceAccountIssuer(cp.pki),
    jwks: JSON.parse(kubectl(tools.binDir, cp.kubeconfig, ['get', '--raw', '/openid/v1/jwks'])) as unknown,
  };
}

function apiserverArgs(pki: Pki, etcdUrl: string, port: number): string[] {
  return [
    ...auditArgs(),
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.caCert}`,
    '--authorization-mode=Node,RBAC',
    `--service-account-issuer=${serviceAccountIssuer(pki)}`,
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    '--allow-privileged=true',
    '--profiling=false',
    `--cert-dir=${path.join(pki.dir, 'apiserver')}`,
  ];
}

/** etcd, kube-apiserver (TLS, RBAC, SA tokens), controller-manager and scheduler on free loopback ports. */
export async function startControlPlane(tools: Toolchain): Promise<ControlPlane> {
  const pki = createPki(path.join(stateDir, 'pki'));
  const etcd = await startEtcd(tools.binDir);
  const port = await freePort();
  const apiserverUrl = `https://127.0.0.1:${port}`;
  const apiserver = startDetached(
    'kube-apiserver',
    path.join(tools.binDir, 'kube-apiserver'),
    apiserverArgs(pki, etcd.url, port),
  );
  await waitUntil('kube-apiserver /readyz', () => getOk(`${apiserverUrl}/readyz`, pki), {
    timeoutMs: 120_000,
    pid: apiserver.pid,
    log: apiserver.log,
  });
  const kubeconfig = path.join(stateDir, 'admin.kubeconfig');
  fs.writeFileSync(
    kubeconfig,
    kubeconfigYaml(apiserverUrl, pki.caCert, { certFile: pki.adminCert, keyFile: pki.adminKey }),
  );
  const common = [`--kubeconfig=${kubeconfig}`, '--leader-elect=false', '--bind-address=127.0.0.1'];
  const kcm = startDetached('kube-controller-manager', path.join(tools.binDir, 'kube-controller-manager'), [
    ...common,
    `--secure-port=${await freePort()}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    `--service-account-private-key-file=${pki.saKey}`,
    `--root-ca-file=${pki.caCert}`,
    '--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller',
    '--concurrent-deployment-syncs=10',
    '--concurrent-replicaset-syncs=10',
    // Client-side limits high enough that the environment is not the bottleneck of a benchmark with
    // thousands of workloads (the defaults, 20 qps / 30 burst, took minutes to observe 5,000 Deployments).
    '--kube-api-qps=1000',
    '--kube-api-burst=2000',
  ]);
  const scheduler = startDetached('kube-scheduler', path.join(tools.binDir, 'kube-scheduler'), [
    ...common,
    `--secure-port=${await freePort()}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--kube-api-qps=1000',
    '--kube-api-burst=2000',
  ]);
  return { processes: [etcd.proc, apiserver, kcm, scheduler], apiserverUrl, kubeconfig, pki };
}

/** kubectl from the built binaries (`binDir`), against `kubeconfig`; throws with stderr on failure. */
export function kubectl(binDir: string, kubeconfig: string, args: string[], input?: string): string {
  return execFileSync(path.join(binDir, 'kubectl'), [`--kubeconfig=${kubeconfig}`, ...args], {
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
  });
}

const fakeNode = (name: string): string => `apiVersion: v1
kind: Node
metadata:
  name: ${name}
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {kubernetes.io/hostname: ${name}, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}
spec: {}
`;

/** kwok simulating `nodes` Nodes and every Pod scheduled on them (Stage files from the kwok module). */
export async function startKwok(tools: Toolchain, cp: ControlPlane, nodes = 2): Promise<Started> {
  const stages = [
    'node/fast/node-initialize.yaml',
    'node/heartbeat/node-heartbeat.yaml',
    'pod/fast/pod-ready.yaml',
    'pod/fast/pod-complete.yaml',
    'pod/fast/pod-delete.yaml',
  ];
  const config = path.join(stateDir, 'kwok-stages.yaml');
  fs.writeFileSync(
    config,
    stages.map((s) => fs.readFileSync(path.join(tools.stagesDir, s), 'utf8')).join('\n---\n'),
  );
  const kwok = startDetached('kwok', path.join(tools.binDir, 'kwok'), [
    `--kubeconfig=${cp.kubeconfig}`,
    `--config=${config}`,
    '--manage-all-nodes=false',
    '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
    '--cidr=10.0.0.1/16',
    '--node-ip=10.0.0.1',
    `--server-address=127.0.0.1:${await freePort()}`,
  ]);
  const names = Array.from({ length: nodes }, (_, i) => `kwok-node-${i}`);
  kubectl(tools.binDir, cp.kubeconfig, ['apply', '-f', '-'], names.map(fakeNode).join('---\n'));
  await waitUntil(
    `${nodes} kwok Nodes Ready`,
    () =>
      Promise.resolve(
        kubectl(tools.binDir, cp.kubeconfig, [
          'get',
          'nodes',
          '-o',
          'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}',
        ])
          .split(/\s+/)
          .filter((s) => s === 'True').length === nodes,
      ),
    { pid: kwok.pid, log: kwok.log, timeoutMs: 60_000 },
  );
  return kwok;
}

/**
 * moto's server (SQS, Secrets Manager, EventBridge, IAM, STS, CloudFormation) on a free loopback
 * port, with IAM enforced (e2e/env/moto_iam.py); `jwksDir` holds the keys of the clusters
 * whose tokens its STS accepts (aws-identity.ts registerIssuer).
 */
export async function startMoto(tools: Toolchain, jwksDir: string): Promise<{ proc: Started; url: string }> {
  const port = await freePort();
  const proc = startDetached('moto', tools.motoPython, [
    path.join(repoRoot, 'e2e', 'env', 'moto_iam.py'),
    '--oidc-jwks-dir',
    jwksDir,
    '-H',
    '127.0.0.1',
    '-p',
    String(port),
  ]);
  await waitUntil('moto', () => tcpOpen(port), { pid: proc.pid, log: proc.log, timeoutMs: 60_000 });
  return { proc, url: `http://127.0.0.1:${port}` };
}
