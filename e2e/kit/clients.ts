import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { withSharedAgents } from '../../operator/kube/kube.js';
import { awsClientConfig } from '../env/aws-setup.js';
import { kubectl } from '../env/cluster.js';
import { up, type EnvState } from '../env/env.js';
import { delay } from '../env/processes.js';

/*
 * The kit: what tests, the demo, the benchmark and the chaos run share — the environment and its
 * clients, waits, AWS actions (aws-actions.ts), the operator as a process (operator-process.ts). It
 * knows nothing of node:test; the test-only parts are in ../harness.ts.
 */

let envPromise: Promise<EnvState> | undefined;

/** The shared environment: started once per process, or reused when `npm run env:up` already runs. */
export function environment(): Promise<EnvState> {
  envPromise ??= up({ quiet: true });
  return envPromise;
}

/** The environment a program started itself (the demo): every kit function then works on it. */
export function useEnvironment(env: EnvState): void {
  envPromise = Promise.resolve(env);
}

/** kubectl as cluster admin. */
export async function kc(args: string[], input?: string): Promise<string> {
  const s = await environment();
  return kubectl(s.binDir, s.kubeconfig, args, input);
}

type AdminClients = { apps: AppsV1Api; core: CoreV1Api; custom: CustomObjectsApi; config: KubeConfig };
let admin: Promise<AdminClients> | undefined;

/** API clients as cluster admin, built once per test process (tests poll with them). */
export function adminClients(): Promise<AdminClients> {
  admin ??= environment().then((s) => {
    // Keep-alive, as the operator's own client: without it every request is a new TLS handshake,
    // which made fixtures slow and a write floor measured with this client too high.
    const config = withSharedAgents(new KubeConfig());
    config.loadFromFile(s.kubeconfig);
    return {
      apps: config.makeApiClient(AppsV1Api),
      core: config.makeApiClient(CoreV1Api),
      custom: config.makeApiClient(CustomObjectsApi),
      config,
    };
  });
  return admin;
}

export async function awsClients(): Promise<{
  sm: SecretsManagerClient;
  sqs: SQSClient;
  events: EventBridgeClient;
}> {
  const s = await environment();
  const cfg = awsClientConfig(s.awsEndpoint);
  return { sm: new SecretsManagerClient(cfg), sqs: new SQSClient(cfg), events: new EventBridgeClient(cfg) };
}

/** Polls until `check` returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`,
      );
    }
    await delay(100);
  }
}

const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 30);
export const uniqueName = (prefix: string): string => `${slug(prefix)}-${randomBytes(3).toString('hex')}`;

/**
 * True when every Node is Ready and carries no NoSchedule/NoExecute taint. An outage drill (API server
 * stopped) makes the node lifecycle controller taint the kwok Nodes for a while; tests that need pods
 * to roll wait for this first.
 */
export async function nodesHealthy(heartbeatAfter = 0): Promise<boolean> {
  type Node = {
    spec?: { taints?: { key: string; effect: string }[] };
    status?: { conditions?: { type: string; status: string; lastHeartbeatTime?: string }[] };
  };
  const nodes = (JSON.parse(await kc(['get', 'nodes', '-o', 'json'])) as { items: Node[] }).items;
  const ready = (n: Node): boolean =>
    Boolean(
      n.status?.conditions?.some(
        (c) =>
          c.type === 'Ready' && c.status === 'True' && Date.parse(c.lastHeartbeatTime ?? '') > heartbeatAfter,
      ),
    );
  // The node lifecycle controller's taints (node.kubernetes.io/…), not the real node's own.
  const untainted = (n: Node): boolean =>
    !(n.spec?.taints ?? []).some(
      (t) =>
        t.key.startsWith('node.kubernetes.io/') && (t.effect === 'NoSchedule' || t.effect === 'NoExecute'),
    );
  return nodes.length > 0 && nodes.every((n) => ready(n) && untainted(n));
}

/**
 * Waits until a pod created now in `namespace` is scheduled and Running: after an API server restart
 * the scheduler's and kwok's watches reconnect with a backoff (measured: kwok ran a new pod 25 s after
 * its creation), and the next test that needs pods to roll must not pay for it.
 */
export async function podsRunAgain(namespace: string): Promise<void> {
  const name = uniqueName('canary');
  const { core } = await adminClients();
  await core.createNamespacedPod({
    namespace,
    body: { metadata: { name }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } },
  });
  await waitFor(
    'a new pod Running (scheduler and kwok caught up)',
    async () => (await core.readNamespacedPod({ namespace, name })).status?.phase === 'Running',
    120_000,
  );
  await core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 });
}
