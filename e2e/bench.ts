import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { Watch, type V1Deployment } from '@kubernetes/client-node';
import fs from 'node:fs';
import { down, runningEnv } from './env/env.js';
import {
  adminClients,
  awsClients,
  createSecret,
  environment,
  installCrd,
  kc,
  operatorKubeconfig,
  putSecretValueEvent,
  queueCounts,
  releaseMappings,
  rotate,
  startOperator,
  testQueue,
  uniqueName,
  waitFor,
  type RunningOperator,
  type Scope,
} from './harness.js';
import { applyMapping, waitReason } from './mapping-helpers.js';
import { createWorkload } from './workloads-fixtures.js';

/**
 * `npm run bench`: figures on the real environment, not a pass/fail test.
 *  1. latency: SendMessage → the Deployment's template patch seen on a watch, over ROTATIONS rotations;
 *  2. burst: EVENTS events over SECRETS secrets and SECRETS×PER_SECRET workloads, with duplicates.
 */
const ROTATIONS = Number(process.env.BENCH_ROTATIONS ?? 300);
const SECRETS = Number(process.env.BENCH_SECRETS ?? 20);
const PER_SECRET = Number(process.env.BENCH_WORKLOADS_PER_SECRET ?? 5);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 500);
const STAMP = 'secretsrotation.io/secret-version';

const progress = (msg: string): void => console.error(`[bench] ${msg}`);
const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
/** The event EventBridge delivers for a PutSecretValue, with its `time` (second precision, as AWS's). */
const eventBody = (name: string, arn: string, version: string, at = new Date()): string =>
  JSON.stringify({
    source: 'aws.secretsmanager',
    'detail-type': 'AWS API Call via CloudTrail',
    time: `${at.toISOString().slice(0, 19)}Z`,
    detail: putSecretValueEvent(name, arn, version),
  });

function scope(namespace: string): Scope {
  return { t: undefined as never, namespace, cleanups: [], logs: [] };
}

/** The benchmark's operator: as the tests run it, quieter, with the production long-poll wait. */
function benchOperator(sc: Scope, queueUrl: string): Promise<RunningOperator> {
  return operatorKubeconfig(sc).then((kubeconfig) =>
    startOperator(sc, {
      kubeconfig,
      queueUrl,
      env: {
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
        SQS_WAIT_TIME_SECONDS: '20',
        ...(process.env.BENCH_RESTART_RATE_LIMIT
          ? { RESTART_RATE_LIMIT: process.env.BENCH_RESTART_RATE_LIMIT }
          : {}),
      },
    }),
  );
}

/** Mappings released while the operator still runs, then everything the phase created removed. */
async function teardown(sc: Scope, op: RunningOperator): Promise<void> {
  await releaseMappings(sc.namespace);
  await op.kill();
  for (const c of sc.cleanups.reverse()) await c().catch(() => undefined);
  await kc(['delete', 'namespace', sc.namespace, '--wait=false']);
}

const describeCalls = (metrics: string): number =>
  Number(
    /secrets_rotation_aws_calls_total\{operation="DescribeSecret",result="success"\} (\d+)/.exec(
      metrics,
    )?.[1] ?? 0,
  );

async function apiserverCount(pattern: RegExp): Promise<number> {
  const text = await kc(['get', '--raw', '/metrics']);
  return text
    .split('\n')
    .filter((l) => l.startsWith('apiserver_request_total{') && pattern.test(l))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

const rss = (pid: number): { rss: number; peak: number } => {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
};

async function latency(): Promise<string[]> {
  const sc = scope(uniqueName('bench-latency'));
  await kc(['create', 'namespace', sc.namespace]);
  const name = uniqueName('bench');
  const secret = await createSecret(name);
  await createWorkload('Deployment', sc.namespace, 'web', { app: 'web' }, { replicas: 1 });
  await applyMapping(sc.namespace, 'm', { secretId: name, selector: { matchLabels: { app: 'web' } } });
  const q = await testQueue(sc);
  const op = await benchOperator(sc, q.queueUrl);
  await waitReason(sc.namespace, 'm', 'WatchingSecret');
  const { config } = await adminClients();
  const seen = new Map<string, number>();
  const abort = await new Watch(config).watch(
    `/apis/apps/v1/namespaces/${sc.namespace}/deployments`,
    {},
    (_phase: string, d: V1Deployment) => {
      const stamp = d.spec?.template.metadata?.annotations?.[STAMP];
      if (stamp && !seen.has(stamp)) seen.set(stamp, performance.now() + performance.timeOrigin);
    },
    () => undefined,
  );
  const { sqs } = await awsClients();
  const samples: number[] = [];
  progress(`latency: ${ROTATIONS} rotations`);
  for (let i = 0; i < ROTATIONS; i++) {
    const v = await rotate(name, secret.arn, { sendEvent: false });
    const t0 = performance.now() + performance.timeOrigin;
    await sqs.send(
      new SendMessageCommand({ QueueUrl: q.queueUrl, MessageBody: eventBody(name, secret.arn, v) }),
    );
    const t1 = await waitFor('patch', () => Promise.resolve(seen.get(`${name}@${v}`)), 10_000);
    samples.push(t1 - t0);
  }
  abort.abort();
  const mem = rss(op.process.pid ?? 0);
  await teardown(sc, op);
  const s = [...samples].sort((a, b) => a - b);
  return [
    `latency: SendMessage → template patch seen on a watch, ${ROTATIONS} sequential rotations`,
    `  p50 ${pct(s, 50).toFixed(1)} ms   p95 ${pct(s, 95).toFixed(1)} ms   p99 ${pct(s, 99).toFixed(1)} ms   max ${s[s.length - 1].toFixed(1)} ms`,
    `  operator RSS after: ${mem.rss.toFixed(0)} MiB (peak ${mem.peak.toFixed(0)} MiB)`,
  ];
}

async function burst(): Promise<string[]> {
  const sc = scope(uniqueName('bench-burst'));
  const ns = sc.namespace;
  await kc(['create', 'namespace', ns]);
  const secrets: { name: string; arn: string }[] = [];
  for (let s = 0; s < SECRETS; s++) {
    const name = uniqueName(`burst-${s}`);
    secrets.push({ name, arn: (await createSecret(name)).arn });
    for (let w = 0; w < PER_SECRET; w++)
      await createWorkload('Deployment', ns, `w-${s}-${w}`, { secret: `s${s}` }, { replicas: 1 });
    await applyMapping(ns, `m-${s}`, { secretId: name, selector: { matchLabels: { secret: `s${s}` } } });
  }
  const q = await testQueue(sc);
  progress(
    `burst: ${SECRETS} mappings over ${SECRETS * PER_SECRET} Deployments created; starting the operator`,
  );
  const op = await benchOperator(sc, q.queueUrl);
  for (let s = 0; s < SECRETS; s++) await waitReason(ns, `m-${s}`, 'WatchingSecret', 60_000);
  const versions = await Promise.all(secrets.map((s) => rotate(s.name, s.arn, { sendEvent: false })));
  const bodies = Array.from({ length: EVENTS }, (_, i) =>
    eventBody(secrets[i % SECRETS].name, secrets[i % SECRETS].arn, versions[i % SECRETS]),
  );
  progress(`burst: sending ${EVENTS} events`);
  const patchesBefore = await apiserverCount(/verb="PATCH"/);
  const describeBefore = describeCalls(await op.metrics());
  const { sqs } = await awsClients();
  const t0 = Date.now();
  for (let i = 0; i < bodies.length; i += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: q.queueUrl,
        Entries: bodies.slice(i, i + 10).map((b, j) => ({ Id: String(j), MessageBody: b })),
      }),
    );
  }
  const { apps } = await adminClients();
  const target = SECRETS * PER_SECRET;
  await waitFor(
    'every workload restarted',
    async () => {
      const list = await apps.listNamespacedDeployment({ namespace: ns });
      return list.items.filter((d) => d.spec?.template.metadata?.annotations?.[STAMP]).length === target;
    },
    120_000,
  );
  const restartedAt = Date.now();
  await waitFor(
    'queue drained',
    async () => {
      const c = await queueCounts(q.queueUrl);
      return c.visible + c.inflight === 0;
    },
    120_000,
  );
  const drainedAt = Date.now();
  const list = await apps.listNamespacedDeployment({ namespace: ns });
  const restarts = list.items.reduce((n, d) => n + (d.metadata?.generation ?? 1) - 1, 0);
  const patches = (await apiserverCount(/verb="PATCH"/)) - patchesBefore;
  const metrics = await op.metrics();
  const describes = describeCalls(metrics) - describeBefore;
  const mem = rss(op.process.pid ?? 0);
  await teardown(sc, op);
  return [
    `burst: ${EVENTS} events (with duplicates) over ${SECRETS} secrets and ${target} Deployments (RESTART_RATE_LIMIT ${process.env.BENCH_RESTART_RATE_LIMIT ?? 'default 10'}/s)`,
    `  restarts made ${restarts} (expected ${target}: one per workload per version)`,
    `  wall time: all restarted ${restartedAt - t0} ms, queue drained ${drainedAt - t0} ms`,
    `  API writes (PATCH, all clients) ${patches}; DescribeSecret calls ${describes}`,
    `  operator RSS after: ${mem.rss.toFixed(0)} MiB (peak ${mem.peak.toFixed(0)} MiB)`,
  ];
}

async function main(): Promise<void> {
  const reuse = runningEnv() !== undefined;
  await environment();
  await installCrd();
  try {
    const lines = [...(await latency()), ...(await burst())];
    console.log(`\n${lines.join('\n')}`);
  } finally {
    if (!reuse) await down();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
