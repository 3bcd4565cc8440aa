import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { teardown } from '../bench/fixtures.js';
import {
  awsClients,
  nodesHealthy,
  podsRunAgain,
  putEvent,
  putSecretValueEvent,
  queueCounts,
  rotate,
  waitFor,
} from '../harness.js';
import { createWorkload } from '../workloads-fixtures.js';
import { FAULTS, FAULT_KINDS, GLOBAL_FAULTS, type FaultContext, type FaultKind } from './faults.js';
import { latencyVerdict, RSS_WARM_MS, RSS_WORK_MS, rssVerdict, type Window } from './health.js';
import type { ChaosReport } from './report.js';
import { Rng } from './rng.js';
import { buildTimeline, type TimelineInput } from './timeline.js';
import { setUpWorld, type World } from './setup.js';

export { failures, formatReport, type ChaosReport } from './report.js';

export interface ChaosOptions {
  seed: number;
  durationMs: number;
  secrets: number;
  /** Mean pause between two rotations and between two faults. */
  rotateEveryMs: number;
  faultEveryMs: number;
}

/** The faults injected (by kind), the windows of the global ones, and every fault's span (timeline). */
interface Tally {
  faults: Map<string, number>;
  windows: Window[];
  spans: TimelineInput['faults'];
  startedAt: number;
  faultsEndedAt: number;
}

const log = (msg: string): void => console.error(`[chaos] ${msg}`);

/** How long after a global fault ends the healthy tenant's latency is still not judged (a new leader's Lease). */
const RECOVERY_MS = 10_000;

/**
 * One chaos run on the real environment: rotations over several secrets and workloads while faults
 * hit at seeded times, hostile tenants act beside a quiet one, then every invariant of the ledgers
 * checked (report.ts prints them). See e2e/chaos/main.ts.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const rng = new Rng(o.seed);
  const w = await setUpWorld(rng, o.secrets, o.seed);
  const ns = w.scope.namespace;
  const locks = new Map<string, Promise<void>>();
  const ctx: FaultContext = {
    rng,
    namespace: ns,
    queueUrl: w.queue.queueUrl,
    secrets: w.secrets,
    replicas: w.replicas,
    ledger: w.ledger,
    churn: [],
    badInputs: new Map(),
    expectDeadLettered: { n: 0 },
    primaries: w.primaries,
    extras: [],
    tenants: w.tenants,
    tenancy: w.tenancy,
    lock: (secret, fn) => {
      const next = (locks.get(secret) ?? Promise.resolve()).then(fn);
      locks.set(
        secret,
        next.catch(() => undefined),
      );
      return next;
    },
    recordRotation: (secret, version, calledAt, returnedAt) => {
      w.ledger.rotated(secret, version, calledAt, returnedAt);
      w.tenancy.identifies(secret, version);
    },
    identifies: (secret, id) => w.tenancy.identifies(secret, id),
    note: () => undefined,
  };
  // Workloads the run relabels and deletes: checked for duplicates, never counted as missing.
  for (const s of w.secrets)
    for (let i = 0; i < 2; i++) {
      const name = `churn-${ctx.churn.length}-${s.label}`;
      ctx.churn.push(name);
      await createWorkload({ kind: 'Deployment', namespace: ns, name }, { chaos: s.label }, { replicas: 1 });
    }
  const tally: Tally = { faults: new Map(), windows: [], spans: [], startedAt: Date.now(), faultsEndedAt: 0 };
  const endAt = Date.now() + o.durationMs;
  const faulting = { done: false };
  const rotatedQuiet = (v: string, calledAt: number, returnedAt: number): void =>
    ctx.recordRotation(w.quiet.secret.name, v, calledAt, returnedAt);
  await Promise.all([
    rotations(ctx, w, o, faulting),
    w.quiet.run(w.queue.queueUrl, rotatedQuiet, () => faulting.done),
    injectFaults(ctx, o, endAt, tally).finally(() => {
      faulting.done = true;
      tally.faultsEndedAt = Date.now();
    }),
  ]);
  return settle(w, o, ctx, tally);
}

/** After the faults: convergence, the queue drained, then every verdict; the world torn down. */
async function settle(w: World, o: ChaosOptions, ctx: FaultContext, tally: Tally): Promise<ChaosReport> {
  const { faults, windows } = tally;
  log('faults over; waiting for every tracked workload to run its secret’s current version');
  const settleFrom = Date.now();
  const stamps = async (): Promise<Map<string, string | undefined>> =>
    new Map([...(await w.main.finalStamps()), ...(await w.quiet.finalStamps())]);
  await waitFor('both replicas running', () => Promise.resolve(w.replicas.allRunning()), 60_000);
  const converged = await waitFor(
    'convergence',
    async () => (w.ledger.verdict(w.tracked, await stamps()).missing.length === 0 ? true : undefined),
    120_000,
  ).catch(() => false);
  const convergedAfterMs = converged ? Date.now() - settleFrom : -1;
  const left = await waitFor(
    'queue drained',
    async () => {
      const c = await queueCounts(w.queue.queueUrl);
      return c.visible + c.inflight === 0 || undefined;
    },
    60_000,
  ).then(
    () => 0,
    async () => {
      const c = await queueCounts(w.queue.queueUrl);
      return c.visible + c.inflight;
    },
  );
  // The end of each replica's RSS record: idle after convergence, until the youngest replica has
  // worked past its warm-up long enough to be judged (a late upgrade replaced both).
  const judged = RSS_WARM_MS + RSS_WORK_MS + 6000;
  await new Promise((r) => setTimeout(r, Math.max(6000, judged - w.replicas.youngestAgeMs())));
  const report: ChaosReport = {
    seed: o.seed,
    durationMs: o.durationMs,
    rotations: w.ledger.rotations(),
    faults: Object.fromEntries(faults),
    badInputs: Object.fromEntries(ctx.badInputs),
    workloads: {
      tracked: w.tracked.size,
      churned: ctx.churn.length,
      hostileMappings: w.tenants.mappings.size,
    },
    restarts: w.ledger.verdict(w.tracked, await stamps()),
    staged: w.stages.verdict(),
    tenancy: w.tenancy.verdict(),
    latency: latencyVerdict(w.quiet.healthy, w.quiet.floor, windows),
    rss: rssVerdict(w.replicas.rssSamples()),
    convergedAfterMs,
    messagesLeft: left,
    deadLettered: await approximateCount(w.queue.dlqUrl),
    expectedDeadLettered: ctx.expectDeadLettered.n,
    operatorCrashes: w.replicas.crashes,
    wire: w.replicas.wireCounts(),
    peakRssMiB: Math.round(w.replicas.peakRssMiB),
    timeline: buildTimeline({
      startedAt: tally.startedAt,
      faultsEndedAt: tally.faultsEndedAt,
      endedAt: Date.now(),
      faults: tally.spans,
      replicas: w.replicas.lifecycle,
      rotationTimes: w.ledger.rotationTimes(),
      restartTimes: w.ledger.restartTimes(),
    }),
  };
  for (const ob of w.observers) ob.stop();
  await w.replicas.stop();
  // The next user of the shared environment expects Nodes heartbeating and pods running after an API
  // server restart.
  await waitFor('Nodes healthy', () => nodesHealthy(), 120_000);
  await podsRunAgain(w.scope.namespace);
  await teardown(w.scope, []);
  return report;
}

/** A rotation of a random secret every ~rotateEveryMs (PutSecretValue, then its event) while faults run. */
async function rotations(
  ctx: FaultContext,
  w: World,
  o: ChaosOptions,
  faulting: { done: boolean },
): Promise<void> {
  const pool = [...ctx.secrets, ...w.tenants.secrets];
  // A stream of its own: faults draw theirs undisturbed by how many rotations ran meanwhile.
  const rng = new Rng(o.seed ^ 0x5eed);
  while (!faulting.done) {
    const s = rng.pick(pool);
    await ctx.lock(s.name, async () => {
      const calledAt = Date.now();
      const v = await rotate(s.name, s.arn, { sendEvent: false });
      ctx.recordRotation(s.name, v, calledAt, Date.now());
      await putEvent('AWS API Call via CloudTrail', putSecretValueEvent(s.name, s.arn, v));
    });
    await new Promise((r) => setTimeout(r, rng.int(o.rotateEveryMs / 2, (o.rotateEveryMs * 3) / 2)));
  }
}

/**
 * Every fault kind in a seeded order, then again, one every ~faultEveryMs, until the end — and past
 * it until each kind was injected once, so even a short run meets them all. Global faults leave a
 * window (plus RECOVERY_MS) in which the healthy tenant's latency is not judged.
 */
async function injectFaults(
  ctx: FaultContext,
  o: ChaosOptions,
  endAt: number,
  { faults: count, windows, spans }: Tally,
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
      spans.push({ kind, from: started, to: Date.now() });
      log(`fault ${kind} ${detail} (${Date.now() - started} ms)`);
    } catch (err) {
      spans.push({ kind, from: started, to: Date.now(), failed: true });
      log(`fault ${kind} could not be injected: ${String(err)}`);
    } finally {
      if (GLOBAL_FAULTS.includes(kind)) windows.push({ from: started, to: Date.now() + RECOVERY_MS });
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
