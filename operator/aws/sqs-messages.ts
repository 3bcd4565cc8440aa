import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describe } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import type { Metrics } from '../runtime/metrics.js';

export interface MessageActionsDeps {
  sqs: SQSClient;
  queueUrl: string;
  logger: Logger;
  metrics: Metrics;
}

/**
 * What the poller does to a message it received: delete it (batched), make it visible again at once,
 * or keep it invisible while the reconcile loop works on it. Each failure is logged and harmless: a
 * message not deleted is redelivered and handled idempotently.
 */
export class MessageActions {
  private ackBatch: { Id: string; ReceiptHandle: string }[] = [];
  private ackFlush: Promise<void> | undefined;
  /** The queue's visibility timeout in seconds (see readQueueAttributes). */
  visibilityTimeout = 30;

  constructor(private readonly deps: MessageActionsDeps) {}

  /** Reads the queue's visibility timeout (kept here) and whether it has a redrive policy. */
  async readQueueAttributes(): Promise<{ redrive: boolean }> {
    const out = await this.deps.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.deps.queueUrl,
        AttributeNames: ['VisibilityTimeout', 'RedrivePolicy'],
      }),
    );
    this.visibilityTimeout = Number(out.Attributes?.VisibilityTimeout ?? 30) || 30;
    const redrive = Boolean(out.Attributes?.RedrivePolicy);
    this.deps.logger.info('polling SQS', {
      queue: this.deps.queueUrl,
      redrive,
      visibilityTimeout: this.visibilityTimeout,
    });
    return { redrive };
  }

  /**
   * Extends the message's visibility while `work` runs, so it is not redelivered meanwhile — for at
   * most `maxHoldMs`: a message that never settles is then released, so it is redelivered and, past
   * maxReceiveCount, reaches the dead-letter queue instead of hiding for SQS's 12-hour cap. False
   * when it was held that long.
   */
  async keepInvisible(m: Message, work: Promise<unknown>, maxHoldMs: number): Promise<boolean> {
    const every = Math.max(1, this.visibilityTimeout / 2) * 1000;
    const timer = setInterval(() => {
      void this.deps.sqs
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: this.deps.queueUrl,
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: this.visibilityTimeout,
          }),
        )
        .catch((err: unknown) =>
          this.deps.logger.warn('could not extend message visibility', {
            messageId: m.MessageId,
            error: describe(err),
          }),
        );
    }, every);
    let giveUp: NodeJS.Timeout | undefined;
    const held = new Promise<false>((r) => (giveUp = setTimeout(() => r(false), maxHoldMs)));
    try {
      return await Promise.race([work.then(() => true), held]);
    } finally {
      clearInterval(timer);
      clearTimeout(giveUp);
    }
  }

  /**
   * Makes a message visible again at once: a malformed one reaches the redrive limit quickly; one
   * received after stop() goes to the next leader without waiting for the visibility timeout.
   */
  async releaseNow(m: Message): Promise<void> {
    try {
      await this.deps.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.deps.queueUrl,
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    } catch (err) {
      this.deps.logger.warn('could not release message; it is redelivered after its visibility timeout', {
        messageId: m.MessageId,
        error: describe(err),
      });
    }
  }

  /** Deletes the message, batched with the others acknowledged in the same tick. */
  ack(m: Message): void {
    if (!m.ReceiptHandle) return;
    this.ackBatch.push({ Id: String(this.ackBatch.length), ReceiptHandle: m.ReceiptHandle });
    this.ackFlush ??= new Promise<void>((r) => setImmediate(r)).then(() => this.flushAcks());
  }

  /** DeleteMessageBatch, ten at a time, checking each entry; a failed delete means a harmless redelivery. */
  async flushAcks(): Promise<void> {
    const batch = this.ackBatch;
    this.ackBatch = [];
    this.ackFlush = undefined;
    for (let i = 0; i < batch.length; i += 10) {
      const entries = batch.slice(i, i + 10).map((e, j) => ({ ...e, Id: String(j) }));
      try {
        const out = await this.deps.sqs.send(
          new DeleteMessageBatchCommand({ QueueUrl: this.deps.queueUrl, Entries: entries }),
        );
        this.deps.metrics.messagesAcknowledged.inc(out.Successful?.length ?? 0);
        this.deps.metrics.awsCalls.inc({
          operation: 'DeleteMessageBatch',
          result: out.Failed?.length ? 'partial' : 'success',
        });
        for (const f of out.Failed ?? []) {
          this.deps.logger.warn('message delete failed; it will be redelivered and handled idempotently', {
            code: f.Code,
            error: f.Message,
          });
        }
      } catch (err) {
        this.deps.metrics.awsCalls.inc({ operation: 'DeleteMessageBatch', result: 'error' });
        this.deps.logger.warn('message delete failed; messages will be redelivered', {
          error: describe(err),
          count: entries.length,
        });
      }
    }
  }
}
