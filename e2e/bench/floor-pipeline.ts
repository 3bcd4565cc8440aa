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
 *   at 50 events/s on this 2-core machine (a study run, not kept: its wake p50 2 s, 300 of 1,000 missed):
 *   it measured its own intake.
 * - One DescribeSecret and PATCH per secret at a time. Two PATCHes of one Deployment for two versions,
 *   racing, can leave the older version's stamp last. The PATCH's answer ends the turn (the order is
 *   kept then); waiting for the watch and deleting the messages do not hold it. A message that arrives
 *   during a turn is served by the next, which reads AWSCURRENT then: a version a later one replaced
 *   is superseded, as in the operator's queue.
 */
interface Turn {
  stamp: string;
  describedAt: number;
  seenBefore: boolean;
}

export class FloorPipeline {
  private running = true;
  private readonly receivers: Promise<void>[];
  /** Turns and their follow-ups (watch, delete) still running: stop() waits for them. */
  private readonly inFlight = new Set<Promise<void>>();
  readonly parts = { wake: [] as number[], describe: [] as number[], patch: [] as number[] };
  private readonly sentAt = new Map<string, number>();
  /** Per secret whose turn runs: the messages its next turn serves. */
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
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  private async receive(): Promise<void> {
    while (this.running) {
      const out = await this.clients.sqs
        .send(
          new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        )
        .catch(async (err: unknown) => {
          progress(`floor: a receive failed (${String(err)}); receiving again in 1 s`);
          await new Promise((r) => setTimeout(r, 1000));
          return { Messages: [] };
        });
      const woke = now();
      for (const m of out.Messages ?? []) {
        const body = m.Body ?? '';
        this.parts.wake.push(woke - (this.sentAt.get(body) ?? woke));
        try {
          const { detail } = JSON.parse(body) as { detail: { requestParameters: { secretId: string } } };
          this.take(detail.requestParameters.secretId, m);
        } catch (err) {
          progress(`floor: a message it cannot read (${String(err)}); left to SQS`);
        }
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
    this.track(this.serve(secretId, [m]));
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Turns over `secretId` until no message waits for one. */
  private async serve(secretId: string, first: Message[]): Promise<void> {
    for (let batch = first; batch.length; batch = this.next.get(secretId)?.splice(0) ?? []) {
      const turn = await this.turn(secretId).catch((err: unknown) => {
        progress(
          `floor: a turn failed (${String(err)}); its versions count as missed unless a later one is stamped`,
        );
        return undefined;
      });
      // Deleted either way: the queue serves every rate, and a message back after its visibility
      // timeout would be taken for one of the next rate's.
      this.track(this.settle(turn, batch));
    }
    this.next.delete(secretId);
  }

  /**
   * DescribeSecret, then the PATCH: the stamp patched, when the answer came, and whether the stamp
   * was seen before the PATCH (its watch time is then an earlier turn's).
   */
  private async turn(secretId: string): Promise<Turn> {
    const { sm, apps } = this.clients;
    const t0 = now();
    const d = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
    const describedAt = now();
    this.parts.describe.push(describedAt - t0);
    const version = Object.entries(d.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
    const stamp = `${d.Name}@${version}`;
    const seenBefore = this.seen.has(stamp);
    const body = { spec: { template: { metadata: { annotations: { [STAMP]: stamp } } } } };
    const patch = (): Promise<unknown> =>
      apps.patchNamespacedDeployment({ namespace: this.namespace, name: `d-${d.Name}`, body }, MERGE_PATCH);
    // A keep-alive connection the server closed as it was reused fails at once: one retry, as the
    // operator's queue would retry its pass.
    await patch().catch(patch);
    return { stamp, describedAt, seenBefore };
  }

  /** After a turn: its stamp seen on the watch (and timed), then its messages deleted. */
  private async settle(turn: Turn | undefined, messages: Message[]): Promise<void> {
    if (turn) {
      const at = await waitFor(
        'floor patch seen',
        () => Promise.resolve(this.seen.get(turn.stamp)),
        10_000,
      ).catch(() => undefined);
      if (at !== undefined && !turn.seenBefore) this.parts.patch.push(at - turn.describedAt);
    }
    for (const m of messages)
      await this.clients.sqs
        .send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: m.ReceiptHandle }))
        .catch((err: unknown) => progress(`floor: a delete failed (${String(err)})`));
  }
}
