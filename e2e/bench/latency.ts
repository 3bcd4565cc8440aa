import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { adminClients, awsClients, operatorKubeconfig, testQueue, waitFor } from '../harness.js';
import { waitReason } from '../mapping-helpers.js';
import {
  benchOperator,
  benchScope,
  createDeployments,
  createMappings,
  eventBody,
  teardown,
  type BenchSecret,
  createSecretsWithDeployments,
} from './fixtures.js';
import { floorClients, patchCost, type PatchCost } from './floor-identity.js';
import { FloorPipeline } from './floor-pipeline.js';
import { now, percentiles, progress, quantileCurve, rss, stampWatch, type Percentiles } from './measure.js';
import { recordRss, type RssSeries } from './rss-series.js';
import { costMeter, type SideCost } from './rate-cost.js';

/**
 * The operator's global restart rate limit in this phase. The default (10/s) paces restarts on
 * purpose: at 50 events/s it released them exactly 100 ms apart, and the phase measured that valve
 * (its own tests prove it), not the event path.
 */
const RESTART_RATE_LIMIT = '10000';

/**
 * The rollout slots, opened for the same reason: the phase's 50 mappings share one namespace, whose
 * default share is 10 slots, and on a loaded machine (load average 13–18, 2026-12-06) rollouts took
 * seconds to end, so restarts waited "for a free rollout slot" (their status said so) and 10 events/s
 * measured 15–26× the floor: the valve again (rollout.test.ts proves it), not the event path.
 */
const MAX_CONCURRENT_ROLLOUTS = '100000';

export interface RateResult {
  rate: number;
  operator: Percentiles;
  floor: Percentiles;
  /** Floor components, p50 (ms): SQS long-poll wake, DescribeSecret, PATCH → seen on a watch. */
  floorParts: { wake: number; describe: number; patch: number };
  /**
   * Rotations never stamped, not counting superseded ones (the floor's counted its superseded ones too
   * until 2026-12-06, when it served all versions at once: see floor-pipeline.ts).
   */
  missed: { operator: number; floor: number };
  /** The operator's rotations a later version of their secret replaced (see Driven). */
  superseded: number;
  /** The floor's, likewise (one pass per secret at a time, as the operator's). */
  floorSuperseded?: number;
  /** SendMessage → this version's stamp or a later one's seen, superseded rotations included (see Driven). */
  covered?: { operator: Percentiles; floor: Percentiles };
  /** Latency (ms) at every percentile 0..100 of each side: the distribution the bench plots. */
  quantiles?: { operator: number[]; floor: number[] };
  /** What each side cost the machine at this rate: CPU by process, API writes (see rate-cost.ts). */
  cost?: { operator: SideCost; floor: SideCost };
}

export interface LatencyResult {
  rates: RateResult[];
  /** What the operator's identity adds to one PATCH (floor-identity.ts). */
  patchCost: PatchCost;
  restartRateLimit: number;
  idleRssMiB: number;
  peakRssMiB: number;
  mappings: number;
  /** The operator's RSS from its start to the end of the phase, each rate marked where it began. */
  rss?: RssSeries;
}

/** What `drive` measured: latencies, versions never stamped, and those of them a later version replaced. */
interface Driven {
  samples: number[];
  missed: number;
  /**
   * Versions not stamped because a later version of the same secret was: a pass that ran after the
   * next rotation saw that one as AWSCURRENT and restarted once, for it (level-based, by design).
   */
  superseded: number;
  /** When the last SendMessage of the schedule was made. */
  lastSentAt: number;
  /**
   * Per rotation stamped or superseded, SendMessage → its version's stamp or a later version's of the
   * same secret seen, whichever first: when the pods had a value at least that new. Superseded
   * rotations count here (samples leaves them out, so a pipeline that falls behind and supersedes more
   * looks faster there); missed ones (nothing as new ever stamped) do not.
   */
  covered: number[];
}

/**
 * Sends `count` rotations at `rate` per second (open loop: the schedule does not wait for restarts),
 * round-robin over `secrets`; returns SendMessage → stamp-seen latencies and what never showed.
 */
async function drive(
  { secrets, rate, count }: { secrets: BenchSecret[]; rate: number; count: number },
  send: (s: BenchSecret, version: string) => Promise<number>,
  seen: Map<string, number>,
): Promise<Driven> {
  const { sm } = await awsClients();
  const start = now();
  const runs: Promise<{ i: number; secret: string; sentAt: number; seenAt?: number; latency?: number }>[] =
    [];
  let lastSentAt = start;
  for (let i = 0; i < count; i++) {
    const wait = start + (i * 1000) / rate - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    runs.push(
      (async () => {
        const s = secrets[i % secrets.length];
        const out = await sm.send(new PutSecretValueCommand({ SecretId: s.name, SecretString: `v${i}` }));
        const t0 = await send(s, out.VersionId ?? '');
        lastSentAt = Math.max(lastSentAt, t0);
        const key = `${s.name}@${out.VersionId}`;
        const t1 = await waitFor('stamp', () => Promise.resolve(seen.get(key)), 15_000).catch(
          () => undefined,
        );
        return { i, secret: s.name, sentAt: t0, seenAt: t1, latency: t1 === undefined ? undefined : t1 - t0 };
      })(),
    );
  }
  const all = await Promise.all(runs);
  const samples = all.flatMap((r) => (r.latency === undefined ? [] : [r.latency]));
  const unseen = all.filter((r) => r.latency === undefined);
  const superseded = unseen.filter((r) =>
    all.some((o) => o.secret === r.secret && o.i > r.i && o.latency !== undefined),
  ).length;
  const covered = all.flatMap((r) => {
    const seen = all.flatMap((o) => (o.secret === r.secret && o.i >= r.i && o.seenAt ? [o.seenAt] : []));
    return seen.length ? [Math.min(...seen) - r.sentAt] : [];
  });
  return { samples, missed: unseen.length - superseded, superseded, lastSentAt, covered };
}

/** Latency at each rate: the floor's run, then the operator's, on the same schedule. */
export async function latency(rates: number[], perRate: (rate: number) => number): Promise<LatencyResult> {
  const sc = await benchScope('bench-latency');
  const { sqs } = await awsClients();
  const width = Math.max(...rates);
  const floorSecrets = await createSecretsWithDeployments(sc.namespace, 'floor', width);
  const opSecrets = await createSecretsWithDeployments(sc.namespace, 'lat', width);
  await createMappings(
    sc.namespace,
    opSecrets.map((s) => ({ secretId: s.name, workloads: [{ kind: 'Deployment', name: `d-${s.name}` }] })),
  );
  const floorQ = await testQueue({ ...sc, namespace: `${sc.namespace}-floor` });
  const q = await testQueue(sc);
  const kubeconfig = await operatorKubeconfig(sc);
  const asOperator = await floorClients(sc, floorQ.queueUrl, kubeconfig);
  await createDeployments(sc.namespace, ['patch-cost'], () => ({}), { replicas: 0 });
  progress('latency: PATCH as the admin and as the operator, one at a time');
  const cost = await patchCost(sc.namespace, 'patch-cost', {
    admin: (await adminClients()).apps,
    operator: asOperator.apps,
  });
  const op = await benchOperator(
    sc,
    q.queueUrl,
    { RESTART_RATE_LIMIT, MAX_CONCURRENT_ROLLOUTS },
    { kubeconfig },
  );
  const rssSeries = recordRss(op.process.pid ?? 0);
  for (let i = 0; i < opSecrets.length; i++)
    await waitReason(sc.namespace, `m-${i}`, 'WatchingSecret', 60_000);
  const idle = rss(op.process.pid ?? 0);
  const watch = await stampWatch(sc.namespace);
  const results: RateResult[] = [];
  for (const rate of rates) {
    const count = perRate(rate);
    progress(`latency at ${rate}/s: ${count} rotations, floor then operator`);
    const floorMeter = await costMeter();
    const floor = new FloorPipeline(asOperator, floorQ.queueUrl, sc.namespace, watch.seen);
    const f = await drive(
      { secrets: floorSecrets, rate, count },
      async (s, v) => {
        const body = eventBody(s, v);
        const t0 = now();
        floor.sent(body, t0);
        await sqs.send(new SendMessageCommand({ QueueUrl: floorQ.queueUrl, MessageBody: body }));
        return t0;
      },
      watch.seen,
    );
    await floor.stop();
    const floorCost = await floorMeter.done(count, f.lastSentAt);
    rssSeries.mark(`${rate}/s`);
    const opMeter = await costMeter(op.process.pid);
    const o = await drive(
      { secrets: opSecrets, rate, count },
      async (s, v) => {
        const t0 = now();
        await sqs.send(new SendMessageCommand({ QueueUrl: q.queueUrl, MessageBody: eventBody(s, v) }));
        return t0;
      },
      watch.seen,
    );
    const opCost = await opMeter.done(count, o.lastSentAt);
    results.push({
      rate,
      operator: percentiles(o.samples),
      floor: percentiles(f.samples),
      floorParts: {
        wake: percentiles(floor.parts.wake).p50,
        describe: percentiles(floor.parts.describe).p50,
        patch: percentiles(floor.parts.patch).p50,
      },
      missed: { operator: o.missed, floor: f.missed },
      superseded: o.superseded,
      floorSuperseded: f.superseded,
      covered: { operator: percentiles(o.covered), floor: percentiles(f.covered) },
      quantiles: { operator: quantileCurve(o.samples), floor: quantileCurve(f.samples) },
      cost: { operator: opCost, floor: floorCost },
    });
  }
  watch.stop();
  const mem = rss(op.process.pid ?? 0);
  const series = rssSeries.stop();
  await teardown(sc, [op]);
  return {
    rates: results,
    patchCost: cost,
    restartRateLimit: Number(RESTART_RATE_LIMIT),
    idleRssMiB: idle.rss,
    peakRssMiB: mem.peak,
    mappings: opSecrets.length,
    rss: series,
  };
}
