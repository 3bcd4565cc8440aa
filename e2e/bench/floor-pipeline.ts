import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { DeleteMessageCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { DEFAULT_SQS_RECEIVERS } from '../../operator/runtime/config.js';
import { waitFor } from '../harness.js';
import { MERGE_PATCH, type FloorClients } from './floor-identity.js';
import { now, progress, STAMP } from './measure.js';

/**
 * The floor: what any correct operator must spend between SendMessage and a patch seen on a watch —
 * the SQS long-poll wake, one DescribeSecret and one PATCH with a warm client, as the operator's
 * identities (floor-identity.ts) — done by the benchmark itself, with nothing else, on the same
 * schedule and the same machine as the operator's run. Two rules keep it a floor of a correct operator:
 * - As many long polls open as the operator's default (SQS_RECEIVERS). With one, the floor fell behind
 *   at 50 events/s on a loaded machine (its wake p50 2–10 s in three of seven runs on 2026-12-06, and a
 *   third of its messages lost to connections the server closed): it measured its own intake.
 * - One pass per secret at a time. Two PATCHes of one Deployment for two versions, racing, can leave the
 *   older version's stamp last. A message that arrives while its secret's pass runs is served by the
 *   next pass, which reads AWSCURRENT then: a version a later one replaced is superseded, as in the
 *   operator's queue (one pass per mapping).
 */
export class FloorPipeline {
  private running = true;
  private readonly receivers: Promise<void>[];
  readonly parts = { wake: [] as number[], describe: [] as number[], patch: [] as number[] };
  private readonly sentAt = new Map<string, number>();
  /** Per secret whose pass runs: the messages its next pass serves. */
  private readonly next = new Map<string, Message[]>();

  constructor(
    private readonly clients: FloorClients,
    private readonly queueUrl: string,
    private readonly namespace: string,
    private readonly seen: Map<string, number>,
  ) {
    this.receivers = Array.from({ length: DEFAULT_SQS_RECEIVERS }, () => this.receive());
  }

  sent(body: string, at: number): void {
    this.sentAt.set(body, at);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.receivers);
  }

  private async receive(): Promise<void> {
    while (this.running) {
      const out = await this.clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      const woke = now();
      for (const m of out.Messages ?? []) {
        const body = m.Body ?? '';
        this.parts.wake.push(woke - (this.sentAt.get(body) ?? woke));
        const { detail } = JSON.parse(body) as { detail: { requestParameters: { secretId: string } } };
        this.take(detail.requestParameters.secretId, m);
      }
    }
  }

  private take(secretId: string, m: Message): void {
    const waiting = this.next.get(secretId);
    if (waiting) {
      waiting.push(m);
      return;
    }
    this.next.set(secretId, []);
    void this.serve(secretId, [m]);
  }

  /** Passes over `secretId` until no message waits for one. */
  private async serve(secretId: string, first: Message[]): Promise<void> {
    for (let batch = first; batch.length; batch = this.next.get(secretId)?.splice(0) ?? [])
      await this.pass(secretId, batch).catch((err: unknown) =>
        progress(`floor: a pass failed (${String(err)}); its messages count as missed`),
      );
    this.next.delete(secretId);
  }

  private async pass(secretId: string, messages: Message[]): Promise<void> {
    const { sm, sqs, apps } = this.clients;
    const t0 = now();
    const d = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
    const t1 = now();
    this.parts.describe.push(t1 - t0);
    const version = Object.entries(d.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
    const stamp = `${d.Name}@${version}`;
    const body = { spec: { template: { metadata: { annotations: { [STAMP]: stamp } } } } };
    const patch = (): Promise<unknown> =>
      apps.patchNamespacedDeployment({ namespace: this.namespace, name: `d-${d.Name}`, body }, MERGE_PATCH);
    // A keep-alive connection the server closed as it was reused fails at once: one retry, as the
    // operator's queue would retry its pass.
    await patch().catch(patch);
    await waitFor('floor patch seen', () => Promise.resolve(this.seen.get(stamp)), 10_000);
    this.parts.patch.push((this.seen.get(stamp) ?? t1) - t1);
    for (const m of messages)
      await sqs.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: m.ReceiptHandle }));
  }
}
