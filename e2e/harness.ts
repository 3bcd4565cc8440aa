import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  DeleteRuleCommand,
  EventBridgeClient,
  PutEventsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { DeleteQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import {
  awsClientConfig,
  createRotationQueue,
  localAws,
  localAwsEnv,
  type RotationQueue,
} from './env/aws-setup.js';
import { kubectl } from './env/cluster.js';
import { up, type EnvState } from './env/env.js';
import { operatorIdentity } from './env/identity.js';
import { logDir, operatorEntry, repoRoot } from './env/paths.js';
import { delay, freePort, tail } from './env/processes.js';

let envPromise: Promise<EnvState> | undefined;

/** The shared environment: started once per test run, or reused when `npm run env:up` already runs. */
export function environment(): Promise<EnvState> {
  envPromise ??= up({ quiet: true });
  return envPromise;
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
    const config = new KubeConfig();
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

/** What a test gets: its own namespace, its own queue, cleanup registered, logs printed on failure. */
export interface Scope {
  t: TestContext;
  namespace: string;
  cleanups: (() => Promise<unknown>)[];
  logs: string[];
}

/**
 * A real-environment test: its own namespace (deleted afterwards, even on failure); when it fails,
 * the tails of the operator's and the components' logs are printed.
 */
export function e2eTest(
  name: string,
  fn: (scope: Scope) => Promise<void>,
  opts: { timeout?: number } = {},
): void {
  test(name, { timeout: opts.timeout ?? 180_000 }, async (t) => {
    await environment();
    await waitFor('Nodes Ready and untainted', () => nodesHealthy(), 120_000);
    const namespace = uniqueName(name);
    await kc(['create', 'namespace', namespace]);
    // As the Kubernetes e2e framework does: pods cannot be created before the namespace's default
    // ServiceAccount exists (slow right after an API server restart).
    await waitFor(
      'default ServiceAccount',
      () => kc(['-n', namespace, 'get', 'serviceaccount', 'default']),
      60_000,
    );
    const scope: Scope = { t, namespace, cleanups: [], logs: [] };
    try {
      await fn(scope);
    } catch (err) {
      const components = ['kube-apiserver', 'kube-controller-manager'].map((c) =>
        path.join(logDir, `${c}.log`),
      );
      console.error(
        [...scope.logs.map((f) => tail(f, 60)), ...components.map((f) => tail(f, 15))].join('\n'),
      );
      throw err;
    } finally {
      await releaseMappings(namespace);
      for (const c of scope.cleanups.reverse()) await c().catch(() => undefined);
      await kc(['delete', 'namespace', namespace, '--wait=false']).catch(() => undefined);
    }
  });
}

/**
 * Deletes the namespace's mappings while its operator may still run (it removes its finalizer); a
 * mapping left with the finalizer because no operator runs any more gets it stripped, so neither the
 * namespace nor a later CRD deletion hangs.
 */
export async function releaseMappings(namespace: string, operatorRunning = true): Promise<void> {
  const names = await kc(['-n', namespace, 'get', 'srm', '-o', 'name']).catch(() => '');
  if (!names.trim()) return;
  const strip = async (): Promise<void> => {
    for (const n of names.trim().split('\n')) {
      await kc(['-n', namespace, 'patch', n, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']).catch(
        () => undefined,
      );
    }
  };
  if (!operatorRunning) return strip();
  await kc(['-n', namespace, 'delete', 'srm', '--all', '--timeout=10s']).catch(strip);
}

/** A queue (+DLQ) for this test alone, with the template's EventBridge rules when `withRules`. */
export async function testQueue(
  scope: Scope,
  opts: { withRules?: boolean; maxReceiveCount?: number; visibilityTimeout?: number; redrive?: boolean } = {},
): Promise<RotationQueue> {
  const s = await environment();
  const q = await createRotationQueue(s.awsEndpoint, scope.namespace, {
    ...opts,
    withRules: opts.withRules ?? false,
    maxReceiveCount: opts.maxReceiveCount ?? 2,
  });
  scope.cleanups.push(async () => {
    const { sqs, events } = await awsClients();
    for (const rule of q.ruleNames) {
      await events.send(new RemoveTargetsCommand({ Rule: rule, Ids: ['queue'] }));
      await events.send(new DeleteRuleCommand({ Name: rule }));
    }
    await sqs.send(new DeleteQueueCommand({ QueueUrl: q.queueUrl }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: q.dlqUrl }));
  });
  return q;
}

export async function installCrd(): Promise<void> {
  await kc([
    'apply',
    '--server-side',
    '--force-conflicts',
    '-f',
    path.join(repoRoot, 'resources', 'secretsrotationmapping.crd.yaml'),
  ]);
  await kc([
    'wait',
    '--for=condition=Established',
    'crd/secretsrotationmappings.secretsrotation.io',
    '--timeout=30s',
  ]);
}

/** The operator's ServiceAccount kubeconfig for this test (see env/identity.ts); removed afterwards. */
export async function operatorKubeconfig(
  scope: Scope,
  bind: 'cluster' | 'namespace' = 'cluster',
): Promise<string> {
  const id = await operatorIdentity(kc, await environment(), scope.namespace, bind);
  scope.cleanups.push(id.cleanup);
  return id.kubeconfig;
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

/** Leader election fast enough for tests (client-go's defaults are 15s / 10s / 2s). */
export const FAST_LEASE = { LEASE_DURATION: '6s', RENEW_DEADLINE: '4s', RETRY_PERIOD: '1s' };

/** True while `op` reports holding the Lease (its leader gauge). */
export const leads = async (op: RunningOperator): Promise<boolean> =>
  /^secrets_rotation_leader 1$/m.test(await op.metrics().catch(() => ''));

/** Starts the operator (its bundle, as the image runs it) as the ServiceAccount; resolves once /readyz says ready. */
export async function startOperator(
  scope: Scope,
  opts: {
    kubeconfig: string;
    queueUrl: string;
    watchNamespace?: string;
    env?: Record<string, string>;
    waitReady?: boolean;
    /** Another environment's AWS endpoint (default: the shared environment's). */
    awsEndpoint?: string;
  },
): Promise<RunningOperator> {
  const awsEndpoint = opts.awsEndpoint ?? (await environment()).awsEndpoint;
  const metricsPort = await freePort();
  fs.mkdirSync(logDir, { recursive: true });
  const log = path.join(logDir, `operator-${scope.namespace}-${metricsPort}.log`);
  const fd = fs.openSync(log, 'a');
  const child = spawn(process.execPath, [operatorEntry], {
    stdio: ['ignore', fd, fd],
    env: {
      PATH: process.env.PATH,
      KUBECONFIG: opts.kubeconfig,
      WATCH_NAMESPACE: opts.watchNamespace ?? scope.namespace,
      SQS_QUEUE_URL: opts.queueUrl,
      ...localAwsEnv(awsEndpoint),
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
      return (await httpGet(metricsPort, '/readyz')).status === 200;
    });
  }
  return op;
}

/** A secret in the local Secrets Manager; returns its ARN and first version. */
export async function createSecret(name: string): Promise<{ arn: string; versionId: string }> {
  const { sm } = await awsClients();
  const out = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'initial' }));
  return { arn: out.ARN ?? '', versionId: out.VersionId ?? '' };
}

/** The CloudTrail-via-EventBridge event AWS emits for a PutSecretValue. */
export function putSecretValueEvent(
  secretId: string,
  arn: string,
  versionId: string,
  stages?: string[],
): object {
  return {
    eventVersion: '1.08',
    eventSource: 'secretsmanager.amazonaws.com',
    eventName: 'PutSecretValue',
    awsRegion: localAws.region,
    requestParameters: {
      secretId,
      clientRequestToken: versionId,
      ...(stages ? { versionStages: stages } : {}),
    },
    responseElements: { arn, versionId, versionStages: stages ?? ['AWSCURRENT'] },
    eventType: 'AwsApiCall',
  };
}

/** Puts an event on the default bus, as Secrets Manager/CloudTrail would. */
export async function putEvent(detailType: string, detail: object, resources: string[] = []): Promise<void> {
  const { events } = await awsClients();
  const out = await events.send(
    new PutEventsCommand({
      Entries: [
        {
          Source: 'aws.secretsmanager',
          DetailType: detailType,
          Detail: JSON.stringify(detail),
          Resources: resources,
        },
      ],
    }),
  );
  if (out.FailedEntryCount) throw new Error(`PutEvents failed: ${JSON.stringify(out.Entries)}`);
}

/** Rotates a secret the way AWS would be seen: PutSecretValue, then the event EventBridge would deliver. */
export async function rotate(
  secretId: string,
  arn: string,
  opts: { sendEvent?: boolean } = {},
): Promise<string> {
  const { sm } = await awsClients();
  const out = await sm.send(
    new PutSecretValueCommand({
      SecretId: secretId,
      SecretString: `value-${randomBytes(4).toString('hex')}`,
    }),
  );
  const versionId = out.VersionId ?? '';
  if (opts.sendEvent ?? true)
    await putEvent('AWS API Call via CloudTrail', putSecretValueEvent(secretId, arn, versionId));
  return versionId;
}

export async function moveCurrent(secretId: string, to: string, from: string): Promise<void> {
  const { sm } = await awsClients();
  await sm.send(
    new UpdateSecretVersionStageCommand({
      SecretId: secretId,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: to,
      RemoveFromVersionId: from,
    }),
  );
}

/** Waits until the queue holds no message, visible or in flight. */
export async function drained(url: string): Promise<void> {
  await waitFor('queue drained', async () => {
    const c = await queueCounts(url);
    return c.visible + c.inflight === 0;
  });
}

export async function queueCounts(url: string): Promise<{ visible: number; inflight: number }> {
  const { sqs } = await awsClients();
  const a = (
    await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    )
  ).Attributes;
  return {
    visible: Number(a?.ApproximateNumberOfMessages ?? 0),
    inflight: Number(a?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}
