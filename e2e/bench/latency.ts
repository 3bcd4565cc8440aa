import { DescribeSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { AppsV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { withSharedAgents } from '../../operator/kube/kube.js';
import { awsClients, environment, testQueue, waitFor, type Owner } from '../harness.js';
import { waitReason } from '../mapping-helpers.js';
import {
  benchOperator,
  benchScope,
  createDeployments,
  createMappings,
  createSecrets,
  eventBody,
  teardown,
  type BenchSecret,
} from './fixtures.js';
import { now, percentiles, progress, rss, STAMP, stampWatch, type Percentiles } from './measure.js';

export interface RateResult {
  rate: number;
  operator: Percentiles;
  floor: Percentiles;
  /** Floor components, p50 (ms): SQS long-poll wake, DescribeSecret, PATCH → seen on a watch. */
  floorParts: { wake: number; describe: number; patch: number };
  missed: number;
}

export interface LatencyResult {
  rates: RateResult[];
  idleRssMiB: number;
  peakRssMiB: number;
  mappings: number;
}

/**
 * The floor: what any operator must spend between SendMessage and a patch seen on a watch — the SQS
 * long-poll wake, one DescribeSecret and one PATCH with a warm client — done by the benchmark itself,
 * with nothing else, on the same schedule and the same machine as the operator's run.
 */
class FloorPipeline {
  private running = true;
  private readonly loop: Promise<void>;
  readonly parts = { wake: [] as number[], describe: [] as number[], patch: [] as number[] };
  private readonly sentAt = new Map<string, number>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly namespace: string,
    private readonly seen: Map<string, number>,
  ) {
    this.loop = this.poll();
  }

  sent(body: string, at: number): void {
    this.sentAt.set(body, at);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async poll(): Promise<void> {
    const { sm } = await awsClients();
    const kcfg = new KubeConfig();
    kcfg.loadFromFile((await environment()).kubeconfig);
    const apps = withSharedAgents(kcfg).makeApiClient(AppsV1Api);
    const merge = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
    while (this.running) {
      const out = await this.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      const woke = now();
      for (const m of out.Messages ?? []) {
        void (async () => {
          const body = m.Body ?? '';
          const { detail } = JSON.parse(body) as { detail: { requestParameters: { secretId: string } } };
          this.parts.wake.push(woke - (this.sentAt.get(body) ?? woke));
          const t0 = now();
          const d = await sm.send(new DescribeSecretCommand({ SecretId: detail.requestParameters.secretId }));
          const t1 = now();
          this.parts.describe.push(t1 - t0);
          const version = Object.entries(d.VersionIdsToStages ?? {}).find(([, s]) =>
            s.includes('AWSCURRENT'),
          )?.[0];
          const stamp = `${d.Name}@${version}`;
          const name = `d-${d.Name}`;
          const body2 = { spec: { template: { metadata: { annotations: { [STAMP]: stamp } } } } };
          const patch = (): Promise<unknown> =>
            apps.patchNamespacedDeployment({ namespace: this.namespace, name, body: body2 }, merge);
          // A keep-alive connection the server closed as it was reused fails at once: one retry,
          // as the operator's queue would retry its pass.
          await patch().catch(patch);
          await waitFor('floor patch seen', () => Promise.resolve(this.seen.get(stamp)), 10_000);
          this.parts.patch.push((this.seen.get(stamp) ?? t1) - t1);
          await this.sqs.send(
            new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: m.ReceiptHandle }),
          );
        })().catch((err: unknown) => progress(`floor: a message failed (${String(err)}); counted as missed`));
      }
    }
  }
}

/**
 * Sends `count` rotations at `rate` per second (open loop: the schedule does not wait for restarts),
 * round-robin over `secrets`; returns SendMessage → stamp-seen latencies and how many never showed.
 */
async function drive(
  { secrets, rate, count }: { secrets: BenchSecret[]; rate: number; count: number },
  send: (s: BenchSecret, version: string) => Promise<number>,
  seen: Map<string, number>,
): Promise<{ samples: number[]; missed: number }> {
  const { sm } = await awsClients();
  const start = now();
  const runs: Promise<number | undefined>[] = [];
  for (let i = 0; i < count; i++) {
    const wait = start + (i * 1000) / rate - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    runs.push(
      (async () => {
        const s = secrets[i % secrets.length];
        const out = await sm.send(new PutSecretValueCommand({ SecretId: s.name, SecretString: `v${i}` }));
        const t0 = await send(s, out.VersionId ?? '');
        const key = `${s.name}@${out.VersionId}`;
        const t1 = await waitFor('stamp', () => Promise.resolve(seen.get(key)), 15_000).catch(
          () => undefined,
        );
        return t1 === undefined ? undefined : t1 - t0;
      })(),
    );
  }
  const all = await Promise.all(runs);
  const samples = all.filter((v): v is number => v !== undefined);
  return { samples, missed: all.length - samples.length };
}

async function setup(sc: Owner, n: number, prefix: string): Promise<BenchSecret[]> {
  const secrets = await createSecrets(prefix, n);
  await createDeployments(
    sc.namespace,
    secrets.map((s) => `d-${s.name}`),
    () => ({}),
    { replicas: 0 },
  );
  return secrets;
}

/** Latency at each rate: the floor's run, then the operator's, on the same schedule. */
export async function latency(rates: number[], perRate: (rate: number) => number): Promise<LatencyResult> {
  const sc = await benchScope('bench-latency');
  const { sqs } = await awsClients();
  const width = Math.max(...rates);
  const floorSecrets = await setup(sc, width, 'floor');
  const opSecrets = await setup(sc, width, 'lat');
  await createMappings(
    sc.namespace,
    opSecrets.map((s) => ({ secretId: s.name, workloads: [{ kind: 'Deployment', name: `d-${s.name}` }] })),
  );
  const floorQ = await testQueue({ ...sc, namespace: `${sc.namespace}-floor` });
  const q = await testQueue(sc);
  const op = await benchOperator(sc, q.queueUrl);
  for (let i = 0; i < opSecrets.length; i++)
    await waitReason(sc.namespace, `m-${i}`, 'WatchingSecret', 60_000);
  const idle = rss(op.process.pid ?? 0);
  const watch = await stampWatch(sc.namespace);
  const results: RateResult[] = [];
  for (const rate of rates) {
    const count = perRate(rate);
    progress(`latency at ${rate}/s: ${count} rotations, floor then operator`);
    const floor = new FloorPipeline(sqs, floorQ.queueUrl, sc.namespace, watch.seen);
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
    const o = await drive(
      { secrets: opSecrets, rate, count },
      async (s, v) => {
        const t0 = now();
        await sqs.send(new SendMessageCommand({ QueueUrl: q.queueUrl, MessageBody: eventBody(s, v) }));
        return t0;
      },
      watch.seen,
    );
    results.push({
      rate,
      operator: percentiles(o.samples),
      floor: percentiles(f.samples),
      floorParts: {
        wake: percentiles(floor.parts.wake).p50,
        describe: percentiles(floor.parts.describe).p50,
        patch: percentiles(floor.parts.patch).p50,
      },
      missed: o.missed + f.missed,
    });
  }
  watch.stop();
  const mem = rss(op.process.pid ?? 0);
  await teardown(sc, [op]);
  return { rates: results, idleRssMiB: idle.rss, peakRssMiB: mem.peak, mappings: opSecrets.length };
}
