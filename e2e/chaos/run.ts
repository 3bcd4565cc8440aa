import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { benchScope, createSecrets, teardown } from '../bench/fixtures.js';
import {
  awsClients,
  installCrd,
  nodesHealthy,
  operatorKubeconfig,
  podsRunAgain,
  putEvent,
  putSecretValueEvent,
  queueCounts,
  rotate,
  testQueue,
  waitFor,
} from '../harness.js';
import { applyMapping, getMapping } from '../mapping-helpers.js';
import { createWorkload } from '../workloads-fixtures.js';
import {
  FAULTS,
  FAULT_KINDS,
  primarySpec,
  type ChaosSecret,
  type FaultContext,
  type FaultKind,
} from './faults.js';
import { Ledger } from './ledger.js';
import { Observer } from './observer.js';
import { Replicas } from './replicas.js';
import { Rng } from './rng.js';

export interface ChaosOptions {
  seed: number;
  durationMs: number;
  secrets: number;
  /** Mean pause between two rotations and between two faults. */
  rotateEveryMs: number;
  faultEveryMs: number;
}

export interface ChaosReport {
  seed: number;
  durationMs: number;
  rotations: number;
  faults: Record<string, number>;
  badInputs: Record<string, number>;
  workloads: { tracked: number; churned: number };
  restarts: { expected: number; made: number; missing: string[]; duplicated: string[]; outOfOrder: number };
  convergedAfterMs: number;
  messagesLeft: number;
  deadLettered: number;
  expectedDeadLettered: number;
  operatorCrashes: number;
  peakRssMiB: number;
}

const log = (msg: string): void => console.error(`[chaos] ${msg}`);

/** The tracked workloads of one secret: every kind, and the ones that do not roll by themselves. */
const TRACKED = [
  { suffix: 'deploy', kind: 'Deployment', opts: { replicas: 2 } },
  { suffix: 'sts', kind: 'StatefulSet', opts: { replicas: 1 } },
  { suffix: 'ds', kind: 'DaemonSet', opts: {} },
  { suffix: 'paused', kind: 'Deployment', opts: { replicas: 1, paused: true } },
  { suffix: 'ondelete', kind: 'StatefulSet', opts: { replicas: 1, onDelete: true } },
] as const;

/**
 * One chaos run on the real environment: rotations over several secrets and workloads while faults
 * hit at seeded times, then a check of every (workload, version) pair. See e2e/chaos/main.ts.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const rng = new Rng(o.seed);
  await installCrd();
  const scope = await benchScope('chaos');
  const ns = scope.namespace;
  const ledger = new Ledger();
  const secrets: ChaosSecret[] = (await createSecrets('chaos', o.secrets)).map((s, i) => ({
    ...s,
    label: `s${i}`,
  }));
  const tracked = new Map<string, string>();
  for (const s of secrets) {
    for (const t of TRACKED) {
      const name = `${s.label}-${t.suffix}`;
      await createWorkload({ kind: t.kind, namespace: ns, name }, { chaos: s.label }, t.opts);
      tracked.set(`${ns}/${t.kind}/${name}`, s.name);
    }
  }
  for (const s of secrets) {
    const v = await rotate(s.name, s.arn, { sendEvent: false });
    ledger.rotated(s.name, v);
  }
  const observer = new Observer(ns, ledger);
  await observer.start();
  const queue = await testQueue(scope, { withRules: true, visibilityTimeout: 10, maxReceiveCount: 5 });
  const replicas = new Replicas(scope, {
    count: 2,
    kubeconfig: await operatorKubeconfig(scope),
    queueUrl: queue.queueUrl,
    env: {
      LEASE_DURATION: '6s',
      RENEW_DEADLINE: '4s',
      RETRY_PERIOD: '1s',
      SQS_WAIT_TIME_SECONDS: '5',
      KUBE_REQUEST_TIMEOUT: '10s',
      ROLLOUT_DEADLINE: '30s',
      LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'info',
    },
  });
  const primaries = new Map(secrets.map((s) => [`m-${s.label}`, primarySpec(s)]));
  for (const [name, spec] of primaries) await applyMapping(ns, name, spec);
  await replicas.start();
  await waitFor(
    'every mapping watching its secret',
    async () => {
      for (const name of primaries.keys()) {
        const ready = (await getMapping(ns, name)).status?.conditions?.find((c) => c.type === 'Ready');
        if (ready?.status !== 'True') return false;
      }
      return true;
    },
    60_000,
  );
  log(
    `namespace ${ns}: ${secrets.length} secrets, ${tracked.size} tracked workloads, 2 replicas; seed ${o.seed}`,
  );

  const ctx: FaultContext = {
    rng,
    namespace: ns,
    queueUrl: queue.queueUrl,
    secrets,
    replicas,
    ledger,
    churn: [],
    badInputs: new Map(),
    expectDeadLettered: { n: 0 },
    primaries,
    extras: [],
    note: () => undefined,
  };
  // Workloads the run relabels and deletes: checked for duplicates, never counted as missing.
  for (const s of secrets)
    for (let i = 0; i < 2; i++) {
      const name = `churn-${ctx.churn.length}-${s.label}`;
      ctx.churn.push(name);
      await createWorkload({ kind: 'Deployment', namespace: ns, name }, { chaos: s.label }, { replicas: 1 });
    }
  const faults = new Map<string, number>();
  const endAt = Date.now() + o.durationMs;
  const faulting = { done: false };
  await Promise.all([
    rotations(ctx, o, faulting),
    injectFaults(ctx, o, endAt, faults).finally(() => (faulting.done = true)),
  ]);

  log('faults over; waiting for every tracked workload to run its secret’s current version');
  const settleFrom = Date.now();
  await waitFor('both replicas running', () => Promise.resolve(replicas.allRunning()), 60_000);
  const converged = await waitFor(
    'convergence',
    async () => {
      const v = ledger.verdict(tracked, await observer.finalStamps());
      return v.missing.length === 0 ? true : undefined;
    },
    120_000,
  ).catch(() => false);
  const convergedAfterMs = converged ? Date.now() - settleFrom : -1;
  const left = await waitFor(
    'queue drained',
    async () => {
      const c = await queueCounts(queue.queueUrl);
      return c.visible + c.inflight === 0 || undefined;
    },
    60_000,
  ).then(
    () => 0,
    async () => {
      const c = await queueCounts(queue.queueUrl);
      return c.visible + c.inflight;
    },
  );
  const verdict = ledger.verdict(tracked, await observer.finalStamps());
  const report: ChaosReport = {
    seed: o.seed,
    durationMs: o.durationMs,
    rotations: ledger.rotations() - secrets.length,
    faults: Object.fromEntries(faults),
    badInputs: Object.fromEntries(ctx.badInputs),
    workloads: { tracked: tracked.size, churned: ctx.churn.length },
    restarts: verdict,
    convergedAfterMs,
    messagesLeft: left,
    deadLettered: await approximateCount(queue.dlqUrl),
    expectedDeadLettered: ctx.expectDeadLettered.n,
    operatorCrashes: replicas.crashes,
    peakRssMiB: Math.round(replicas.peakRssMiB),
  };
  observer.stop();
  await replicas.stop();
  // The next user of the shared environment expects Nodes heartbeating and pods running after an API
  // server restart.
  await waitFor('Nodes healthy', () => nodesHealthy(), 120_000);
  await podsRunAgain(ns);
  await teardown(scope, []);
  return report;
}

/** A rotation of a random secret every ~rotateEveryMs (PutSecretValue, then its event) while faults run. */
async function rotations(ctx: FaultContext, o: ChaosOptions, faulting: { done: boolean }): Promise<void> {
  while (!faulting.done) {
    const s = ctx.rng.pick(ctx.secrets);
    const v = await rotate(s.name, s.arn, { sendEvent: false });
    ctx.ledger.rotated(s.name, v);
    await putEvent('AWS API Call via CloudTrail', putSecretValueEvent(s.name, s.arn, v));
    await new Promise((r) => setTimeout(r, ctx.rng.int(o.rotateEveryMs / 2, (o.rotateEveryMs * 3) / 2)));
  }
}

/**
 * Every fault kind in a seeded order, then again, one every ~faultEveryMs, until the end — and past
 * it until each kind was injected once, so even a short run meets them all.
 */
async function injectFaults(
  ctx: FaultContext,
  o: ChaosOptions,
  endAt: number,
  count: Map<string, number>,
): Promise<void> {
  let order: FaultKind[] = ctx.rng.shuffle(FAULT_KINDS);
  let firstRound = true;
  while (Date.now() < endAt || firstRound) {
    await new Promise((r) => setTimeout(r, ctx.rng.int(o.faultEveryMs / 2, (o.faultEveryMs * 3) / 2)));
    const kind = order.shift() as FaultKind;
    if (!order.length) {
      order = ctx.rng.shuffle(FAULT_KINDS);
      firstRound = false;
    }
    let detail = '';
    const started = Date.now();
    try {
      await FAULTS[kind]({ ...ctx, note: (s) => (detail = s) });
      count.set(kind, (count.get(kind) ?? 0) + 1);
      log(`fault ${kind} ${detail} (${Date.now() - started} ms)`);
    } catch (err) {
      log(`fault ${kind} could not be injected: ${String(err)}`);
    }
  }
}

async function approximateCount(url: string): Promise<number> {
  const { sqs } = await awsClients();
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
}

/** The one table a run prints. */
export function formatReport(r: ChaosReport): string {
  const kv = (o: Record<string, number>): string =>
    Object.entries(o)
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || '—';
  const rows: [string, string][] = [
    ['seed / duration', `${r.seed} / ${Math.round(r.durationMs / 1000)} s`],
    ['rotations', String(r.rotations)],
    ['faults', kv(r.faults)],
    ['bad inputs', kv(r.badInputs)],
    ['workloads tracked / churned', `${r.workloads.tracked} / ${r.workloads.churned}`],
    ['restarts expected (at least) / made', `${r.restarts.expected} / ${r.restarts.made}`],
    ['restarts missing', String(r.restarts.missing.length)],
    ['restarts duplicated', String(r.restarts.duplicated.length)],
    ['restarts out of order', String(r.restarts.outOfOrder)],
    ['converged after faults', r.convergedAfterMs < 0 ? 'NO' : `${(r.convergedAfterMs / 1000).toFixed(1)} s`],
    ['messages left in the queue', String(r.messagesLeft)],
    ['dead-lettered (malformed sent)', `${r.deadLettered} (${r.expectedDeadLettered})`],
    ['operator crashes', String(r.operatorCrashes)],
    ['peak RSS of a replica', `${r.peakRssMiB} MiB`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

/** The failures a run must not have; empty when it passed. */
export function failures(r: ChaosReport): string[] {
  const out: string[] = [];
  if (r.restarts.missing.length) out.push(`missing: ${r.restarts.missing.join(', ')}`);
  if (r.restarts.duplicated.length) out.push(`duplicated: ${r.restarts.duplicated.join(', ')}`);
  if (r.restarts.outOfOrder) out.push(`${r.restarts.outOfOrder} restart(s) to an older version`);
  if (r.operatorCrashes) out.push(`${r.operatorCrashes} operator crash(es)`);
  if (r.messagesLeft) out.push(`${r.messagesLeft} message(s) left in the queue`);
  return out;
}
