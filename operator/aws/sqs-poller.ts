import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { describe } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import type { Metrics } from '../runtime/metrics.js';
import { MessageHandler } from './message-handler.js';
import type { RotationSignal } from './rotation-signal.js';
import type { SecretRouter } from './secret-router.js';
import type { SecretVersions } from './secret-versions.js';
import { MessageActions } from './sqs-messages.js';

export interface PollerDeps {
  sqs: SQSClient;
  queueUrl: string;
  versions: Pick<SecretVersions, 'resolve'>;
  /** Who watches which secret: asked before any AWS call. */
  router: Pick<SecretRouter, 'candidates' | 'watchers'>;
  /** The reconcile queue's signal entry point; resolves once the signal is recorded. */
  signal: (key: string, signal: RotationSignal) => Promise<void>;
  logger: Logger;
  metrics: Metrics;
  waitTimeSeconds: number;
  /** Messages handled at once; receiving pauses at the cap (backpressure while passes stall). */
  maxInFlight?: number;
  /**
   * Long polls kept open at once (default 1). One ReceiveMessage answers at most 10 messages, and the
   * next is sent only once it returned: in a burst, intake is 10 messages per round trip. Measured at
   * 50 events/s on the local endpoint: with one receiver a message waited 381 ms (p50) to be received.
   */
  receivers?: number;
  /** A message whose signals are not settled after this long goes back to SQS (see keepInvisible). */
  maxHoldMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Long-polls the rotation queue and turns messages into rotation signals for the reconcile queue. It
 * never patches Kubernetes objects. A message is deleted only once every mapping it concerns recorded
 * it (or it is irrelevant); a transient failure leaves it for redelivery; a malformed one goes to the
 * dead-letter queue (redrive policy) or, without one, is deleted and logged.
 */
export class SqsPoller {
  private running = false;
  private readonly inflight = new Set<Promise<void>>();
  /** Messages asked for by receives in flight: counted against the cap with those being handled. */
  private reserved = 0;
  /** Receivers waiting for a message in flight to be done (backpressure). */
  private readonly atCap = new Set<() => void>();
  /** Receivers in a backoff sleep: only stop() ends it early. */
  private readonly sleeping = new Set<() => void>();
  private loopDone: Promise<void> = Promise.resolve();
  /** The queue's attributes, read once per term by whichever receiver starts first. */
  private attributes: Promise<void> | undefined;
  private hasRedrive = false;
  private readonly messages: MessageActions;
  private readonly handler: MessageHandler;
  private readonly receivers: number;

  private readonly maxInFlight: number;

  constructor(private readonly deps: PollerDeps) {
    this.messages = new MessageActions(deps);
    this.maxInFlight = deps.maxInFlight ?? 100;
    this.receivers = Math.max(1, deps.receivers ?? 1);
    this.handler = new MessageHandler(deps, this.messages, {
      running: () => this.running,
      hasRedrive: () => this.hasRedrive,
    });
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    this.running = true;
    this.loopDone = Promise.all(Array.from({ length: this.receivers }, () => this.loop())).then(() => {});
  }

  /**
   * Stops receiving. The long poll in flight is not aborted: SQS would still hand it messages after
   * the connection closed, and they would stay invisible for the whole visibility timeout (measured: a
   * leader change delayed a rotation by 30 s). It returns by itself within waitTimeSeconds and
   * releases what it got (see `closed`).
   */
  stopReceiving(): void {
    this.running = false;
    wakeAll(this.atCap);
    wakeAll(this.sleeping);
  }

  /**
   * Stops receiving and waits up to `graceMs` for the messages being handled (once the term's loop
   * stopped, their signals are rejected and they are released at once), then sends pending deletes.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopReceiving();
    const timeout = new Promise((r) => setTimeout(r, graceMs).unref());
    await Promise.race([Promise.all(this.inflight), timeout]);
    await this.messages.flushAcks();
  }

  /** Resolves once every receiver's last long poll returned and its messages, if any, were made visible again. */
  get closed(): Promise<void> {
    return this.loopDone;
  }

  private async loop(): Promise<void> {
    const min = this.deps.minBackoffMs ?? 1000;
    let backoff = min;
    while (this.running) {
      let receiving = false;
      try {
        await this.readAttributes();
        receiving = true;
        await this.belowCap();
        if (!this.running) break;
        await this.receiveOnce();
        backoff = min;
      } catch (err) {
        if (!this.running) break;
        // A failed GetQueueAttributes is counted once, by the call (readAttributes), not per receiver.
        if (receiving) this.deps.metrics.awsCalls.inc({ operation: 'ReceiveMessage', result: 'error' });
        this.deps.logger.warn('receiving from SQS failed; backing off', {
          error: describe(err),
          retryInMs: backoff,
        });
        await pause(this.sleeping, backoff);
        backoff = Math.min(backoff * 2, this.deps.maxBackoffMs ?? 30_000);
      }
    }
  }

  /**
   * Waits while the cap of messages in flight is reached: when passes stall (an API server outage),
   * messages stay in SQS instead of piling up in memory.
   */
  private async belowCap(): Promise<void> {
    let logged = false;
    while (this.running && this.inflight.size + this.reserved >= this.maxInFlight) {
      if (!logged)
        this.deps.logger.info('messages in flight at the cap; receiving pauses until one is done', {
          inFlight: this.inflight.size,
          askedFor: this.reserved,
        });
      logged = true;
      await pause(this.atCap);
    }
  }

  /** The queue's redrive policy, read once; a failed read is tried again by the next receive. */
  private async readAttributes(): Promise<void> {
    const count = (result: 'success' | 'error'): void =>
      this.deps.metrics.awsCalls.inc({ operation: 'GetQueueAttributes', result });
    this.attributes ??= this.messages.readQueueAttributes().then(
      (a) => {
        count('success');
        this.hasRedrive = a.redrive;
      },
      (err: unknown) => {
        count('error');
        this.attributes = undefined;
        throw err;
      },
    );
    await this.attributes;
  }

  /** One long poll; its messages are handled, or released at once when the poller stopped meanwhile. */
  private async receiveOnce(): Promise<void> {
    const count = Math.min(10, this.maxInFlight - this.inflight.size - this.reserved);
    // Another receiver took the last free places since this one's cap check: back to the check.
    if (count < 1) return;
    this.reserved += count;
    try {
      const out = await this.deps.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.deps.queueUrl,
          MaxNumberOfMessages: count,
          WaitTimeSeconds: this.deps.waitTimeSeconds,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      this.deps.metrics.awsCalls.inc({ operation: 'ReceiveMessage', result: 'success' });
      const receivedAt = Date.now();
      if (!this.running) {
        // Received after stop(): this term will not handle them; the next leader should, at once.
        await Promise.all((out.Messages ?? []).map((m) => this.messages.releaseNow(m)));
        return;
      }
      for (const m of out.Messages ?? []) this.track(this.handler.handle(m, receivedAt));
    } finally {
      // The places asked for and not taken are free again (the taken ones are in flight now).
      this.reserved -= count;
      wakeAll(this.atCap);
    }
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    this.deps.metrics.messagesInFlight.set(this.inflight.size);
    void p.finally(() => {
      this.inflight.delete(p);
      this.deps.metrics.messagesInFlight.set(this.inflight.size);
      wakeAll(this.atCap);
    });
  }
}

/** Resolves after `ms` (never, without), or once woken through `waiters`. */
function pause(waiters: Set<() => void>, ms?: number): Promise<void> {
  return new Promise<void>((r) => {
    const timer = ms === undefined ? undefined : setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      waiters.delete(done);
      r();
    }
    waiters.add(done);
  });
}

function wakeAll(waiters: Set<() => void>): void {
  for (const wake of [...waiters]) wake();
}
