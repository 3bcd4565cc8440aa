import fs from 'node:fs';
import path from 'node:path';
import { localAws } from './aws-setup.js';
import { providerName, registerIssuer } from './aws-identity.js';
import { deployStack } from './aws-stack.js';
import {
  ensureToolchain,
  startControlPlane,
  startKwok,
  startMoto,
  clusterIssuer,
  kubectl,
  type ControlPlane,
  type Toolchain,
} from './cluster.js';
import { admissionGuardPath, crdDir, envFile, logDir, repoRoot, stateDir, stateFile } from './paths.js';
import { installPeerCrds, startEso } from './peers.js';
import { OUR_CRDS, waitForCrdsEstablished } from './crds-established.js';
import { isAlive, startDetached, stopProcess, waitUntil, type Started } from './processes.js';
import { POD_GATEWAY, POD_SUBNET, startPodRelay } from './pod-network.js';
import { cleanRealNode, drainRealNode, realNodeUnavailable, startRealNode } from './real-node.js';

/** What env:up started; written to .e2e/state.json so env:down and the test harness can find it. */
export interface EnvState {
  processes: Started[];
  kubeconfig: string;
  apiserverUrl: string;
  awsEndpoint: string;
  binDir: string;
  cacheDir: string;
  caCert: string;
  queueUrl: string;
  dlqUrl: string;
  /** The template stack's RoleArn output (the operator's IAM role). */
  roleArn?: string;
  /** The cluster's ServiceAccount token issuer, an IAM OIDC provider at the AWS endpoint. */
  oidcIssuer?: string;
  /** Where the AWS endpoint's STS reads the keys of the issuers it trusts (see aws-identity.ts). */
  jwksDir?: string;
  /** Template resources the endpoint's CloudFormation did not create, made through their own API. */
  createdAside?: string[];
  /** Why no real node runs (e.g. ENV_REAL_NODE=0), or undefined when `real-node` is up. */
  noRealNode?: string;
  /** host:port of the local registry real-node pulls from (skaffold's default repo). */
  registry?: string;
}

export function readState(): EnvState | undefined {
  if (!fs.existsSync(stateFile)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(stateFile, 'utf8')) as EnvState;
  } catch {
    return undefined;
  }
}

/** The running environment, if every process it started is still alive. */
export function runningEnv(): EnvState | undefined {
  const state = readState();
  return state && state.processes.every((p) => isAlive(p.pid)) ? state : undefined;
}

function envLines(s: EnvState): string {
  const lines: Record<string, string> = {
    KUBECONFIG: s.kubeconfig,
    PATH: `${s.binDir}:$PATH`,
    AWS_ENDPOINT_URL: s.awsEndpoint,
    AWS_REGION: localAws.region,
    AWS_ACCESS_KEY_ID: localAws.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localAws.secretAccessKey,
    SQS_QUEUE_URL: s.queueUrl,
    SQS_DLQ_URL: s.dlqUrl,
    // `npm start` runs the operator outside any install: its Lease goes to a namespace that exists.
    LEADER_ELECTION_NAMESPACE: 'default',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...(s.registry ? { SKAFFOLD_DEFAULT_REPO: s.registry, SKAFFOLD_INSECURE_REGISTRY: s.registry } : {}),
  };
  return Object.entries(lines)
    .map(([k, v]) => `export ${k}="${v}"`)
    .join('\n');
}

/** An environment a cold demo started while ESO was still building, where ESO is wanted now (tests). */
const lacksEso = (s: EnvState): boolean =>
  process.env.ENV_PEERS !== '0' &&
  process.env.SRO_ESO_IN_BACKGROUND !== '1' &&
  !s.processes.some((p) => p.name === 'external-secrets');

/** An environment with a real node started before the pod relay existed: its pods cannot reach it. */
const lacksRelay = (s: EnvState): boolean =>
  s.registry !== undefined && !s.processes.some((p) => p.name === 'pod-relay');

/** Why a running environment cannot be reused as it is, or undefined when it can. */
function staleness(s: EnvState): string | undefined {
  if (lacksEso(s)) return 'the running environment has no External Secrets Operator';
  if (lacksRelay(s)) return 'the running environment predates the pod relay';
  return undefined;
}

/**
 * The real node, when this machine can run one, and the relay by which its pods reach the API server
 * and the AWS endpoint without hostNetwork (PodSecurity restricted forbids it).
 */
async function realNode(
  tools: Toolchain,
  cp: ControlPlane,
  awsEndpoint: string,
  log: (msg: string) => void,
): Promise<{ noRealNode?: string; registry?: string; processes: Started[] }> {
  const noRealNode = realNodeUnavailable(tools);
  if (noRealNode) {
    log(`no real node: ${noRealNode}`);
    return { noRealNode, processes: [] };
  }
  log(`starting the real node (containerd + kubelet, pod network ${POD_SUBNET})…`);
  const node = await startRealNode(tools, cp);
  const relay = await startPodRelay([cp.apiserverUrl, awsEndpoint].map((u) => Number(new URL(u).port)));
  return { registry: node.registry, processes: [...node.processes, relay] };
}

/**
 * Starts the whole environment, or reuses it when it is already up and healthy. A half-dead one
 * (some process gone) is torn down first, so there are never two control planes.
 */
export async function up(opts: { quiet?: boolean } = {}): Promise<EnvState> {
  const log = (msg: string): void => {
    if (!opts.quiet) console.error(`[env] ${msg}`);
  };
  const existing = runningEnv();
  const stale = existing && staleness(existing);
  if (stale) log(`${stale}: starting it again`);
  else if (existing) {
    log(`already up (${existing.apiserverUrl}); reusing it`);
    return existing;
  }
  await down({ quiet: true });
  const tools: Toolchain = ensureToolchain(opts.quiet);
  fs.mkdirSync(logDir, { recursive: true });
  const started: Started[] = [];
  try {
    const t0 = Date.now();
    log('starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler…');
    const cp = await startControlPlane(tools);
    started.push(...cp.processes);
    log('starting kwok with 2 fake Nodes…');
    started.push(await startKwok(tools, cp, 2));
    log('starting moto (IAM enforced)…');
    const moto = await startMoto(tools, jwksDir);
    started.push(moto.proc);
    const { noRealNode, registry, processes } = await realNode(tools, cp, moto.url, log);
    started.push(...processes);
    // IRSA as a cluster sets it up: the cluster's token issuer becomes an IAM OIDC provider.
    const issuer = clusterIssuer(tools, cp);
    await registerIssuer(moto.url, jwksDir, issuer);
    // The AWS side as an install makes it: the CloudFormation template, deployed into the endpoint.
    const queue = await deployStack(moto.url, {
      ClusterName: 'local',
      SecretArnPattern: `arn:aws:secretsmanager:${localAws.region}:*:secret:*`,
      MaxReceiveCount: '3',
      OidcProvider: providerName(issuer.issuer),
    });
    // The CRD, as an install would have it, so `npm start` finds its API (the operator never creates it).
    kubectl(tools.binDir, cp.kubeconfig, ['apply', '--server-side', '-k', crdDir]);
    await waitForCrdsEstablished((args) => kubectl(tools.binDir, cp.kubeconfig, args), OUR_CRDS, 60_000);
    // The admission guard on the operator's own writes, as every install ships it: the whole suite
    // runs under it (it binds any ServiceAccount named secrets-rotation-operator).
    kubectl(tools.binDir, cp.kubeconfig, ['apply', '--server-side', '-f', admissionGuardPath]);
    // ENV_PEERS=0: a cluster without the other projects' APIs (the operator turns those paths off).
    if (process.env.ENV_PEERS !== '0') {
      log(
        'installing the ExternalSecret, SecretProviderClass and Rollout CRDs; starting External Secrets Operator…',
      );
      await installPeerCrds(tools, cp);
      if (fs.existsSync(path.join(tools.binDir, 'external-secrets')))
        started.push(await startEso(tools, cp, moto.url));
      else
        log(
          'External Secrets Operator is still building in the background: this environment goes without it',
        );
    }
    const state: EnvState = {
      processes: started,
      kubeconfig: cp.kubeconfig,
      apiserverUrl: cp.apiserverUrl,
      awsEndpoint: moto.url,
      binDir: tools.binDir,
      cacheDir: tools.cacheDir,
      caCert: cp.pki.caCert,
      queueUrl: queue.queueUrl,
      dlqUrl: queue.dlqUrl,
      roleArn: queue.roleArn,
      oidcIssuer: issuer.issuer,
      jwksDir,
      createdAside: queue.createdAside,
      noRealNode,
      registry,
    };
    fs.writeFileSync(stateFile, JSON.stringify(state, null, 2));
    if (state.registry) writeLocalValues(state);
    fs.writeFileSync(envFile, `${envLines(state)}\n`);
    log(
      `up in ${((Date.now() - t0) / 1000).toFixed(1)} s; run: source ${path.relative(process.cwd(), envFile)}`,
    );
    return state;
  } catch (err) {
    await Promise.all(started.map((p) => stopProcess(p.pid)));
    throw err;
  }
}

/**
 * Outage drills for tests: stops one component (SIGTERM) and, after `downMs`, starts it again with the
 * same command line (same ports, same data), waiting until it answers. Updates the state file.
 */
export async function restartComponent(
  name: string,
  downMs: number,
  ready: () => Promise<boolean>,
): Promise<void> {
  const state = readState();
  const proc = state?.processes.find((p) => p.name === name);
  if (!state || !proc) throw new Error(`no running component ${name}`);
  await stopProcess(proc.pid);
  await new Promise((r) => setTimeout(r, downMs));
  const again = startDetached(proc.name, proc.command, proc.args);
  state.processes = state.processes.map((p) => (p.name === name ? again : p));
  fs.writeFileSync(stateFile, JSON.stringify(state, null, 2));
  await waitUntil(`${name} back`, ready, { pid: again.pid, log: again.log, timeoutMs: 60_000 });
}

/** Freezes a component (SIGSTOP) for `ms`: it keeps its state but answers nothing, like a hung endpoint. */
export async function freezeComponent(name: string, ms: number): Promise<void> {
  const proc = readState()?.processes.find((p) => p.name === name);
  if (!proc) throw new Error(`no running component ${name}`);
  process.kill(proc.pid, 'SIGSTOP');
  try {
    await new Promise((r) => setTimeout(r, ms));
  } finally {
    process.kill(proc.pid, 'SIGCONT');
  }
}

/** The keys of the issuers the AWS endpoint's STS trusts (moto_iam.py --oidc-jwks-dir). */
const jwksDir = path.join(stateDir, 'oidc-jwks');

const localValues = path.join(repoRoot, 'manifests', 'local', 'generated', 'values.yaml');

/** An address of the host's loopback as a pod on the real node reaches it: through the pod relay. */
const fromPods = (url: string): string => url.replace('//127.0.0.1:', `//${POD_GATEWAY}:`);

/**
 * The chart values with this environment's addresses for skaffold's local profile (beside
 * manifests/local/values.yaml), written when the environment runs the real node it deploys to.
 */
function writeLocalValues(state: EnvState): void {
  fs.mkdirSync(path.dirname(localValues), { recursive: true });
  fs.writeFileSync(
    localValues,
    `# Written by npm run env:up for the environment now running; removed by env:down.
# The SQS client sends to the queue URL's host, so it names the relay too.
config:
  sqsQueueUrl: '${fromPods(state.queueUrl)}'
  awsEndpointUrl: '${fromPods(state.awsEndpoint)}'
extraEnv:
  # In-cluster config, but no kube-proxy serves the kubernetes Service here: the API server through the relay.
  - {name: KUBERNETES_SERVICE_HOST, value: ${POD_GATEWAY}}
  - {name: KUBERNETES_SERVICE_PORT, value: '${new URL(state.apiserverUrl).port}'}
webIdentity:
  # The stack's role, from the pod's projected ServiceAccount token (IRSA): no static keys.
  roleArn: '${state.roleArn ?? ''}'
`,
  );
}

/** Stops every process env:up started and removes .e2e/env (logs stay for post-mortems). */
export async function down(opts: { quiet?: boolean } = {}): Promise<void> {
  const state = readState();
  if (state) {
    await drainRealNode();
    // Reverse order: clients before the apiserver, the apiserver before etcd.
    for (const p of [...state.processes].reverse()) await stopProcess(p.pid);
    if (!opts.quiet) console.error(`[env] stopped ${state.processes.map((p) => p.name).join(', ')}`);
  }
  // Only the environment that runs the real node wrote it (another one, e.g. in a test's own folder, did not).
  if (state?.registry) fs.rmSync(localValues, { force: true });
  cleanRealNode();
  fs.rmSync(stateFile, { force: true });
  fs.rmSync(envFile, { force: true });
  fs.rmSync(path.join(stateDir, 'etcd'), { recursive: true, force: true });
  fs.rmSync(jwksDir, { recursive: true, force: true });
  // The operators' ServiceAccount tokens for AWS (kit/aws-role.ts): good for this cluster only.
  fs.rmSync(path.join(stateDir, 'tokens'), { recursive: true, force: true });
}
