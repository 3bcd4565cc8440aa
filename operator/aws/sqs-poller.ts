import { ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { AccessDeniedError, SecretNotFoundError, TermEndedError, describe } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import type { Metrics } from '../runtime/metrics.js';
import { freshAfter, metricEventLabel, parseMessage, type ParsedMessage } from './event-parser.js';
import type { RotationSignal } from './rotation-signal.js';
import type { SecretRouter } from './secret-router.js';
import type { SecretVersions } from './secret-versions.js';
import { MessageActions } from './sqs-messages.js';
import { DEFAULT_THROTTLE_RETRY, retryThrottled } from './throttle-retry.js';

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
  /** A message whose signals are not settled after this long goes back to SQS (see keepInvisible). */
  maxHoldMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * What becomes of a message: deleted; left to reappear after its visibility timeout (the retry
 * backoff for a transient failure); or released — visible again at once (malformed: on its way to the
 * dead-letter queue; for the next leader; held too long).
 */
type Outcome = 'ack' | 'leave' | 'release';

const BODY_LOG_LIMIT = 256;

/**
 * Long-polls the rotation queue and turns messages into rotation signals for the reconcile queue. It
 * never patches Kubernetes objects. A message is deleted only once every mapping it concerns recorded
 * it (or it is irrelevant); a transient failure leaves it for redelivery; a malformed one goes to the
 * dead-letter queue (redrive policy) or, without one, is deleted and logged.
 */
export class SqsPoller {
  private running = false;
  private readonly inflight = new Set<Promise<void>>();
  /** Resolves when a message in flight is done (backpressure waits on it). */
  private slotFreed: () => void = () => {};
  private loopDone: Promise<void> = Promise.resolve();
  /** Ends the backoff sleep early (stop()). */
  private wake: () => void = () => {};
  private hasRedrive = false;
  private readonly messages: MessageActions;

  private readonly maxInFlight: number;
  private readonly maxHoldMs: number;

  constructor(private readonly deps: PollerDeps) {
    this.messages = new MessageActions(deps);
    this.maxInFlight = deps.maxInFlight ?? 100;
    this.maxHoldMs = deps.maxHoldMs ?? 15 * 60_000;
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    this.running = true;
    this.loopDone = this.loop();
  }

  /**
   * Stops receiving. The long poll in flight is not aborted: SQS would still hand it messages after
   * the connection closed, and they would stay invisible for the whole visibility timeout (measured: a
   * leader change delayed a rotation by 30 s). It returns by itself within waitTimeSeconds and
   * releases what it got (see `closed`).
   */
  stopReceiving(): void {
    this.running = false;
    this.wake();
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

  /** Resolves once the last long poll returned and its messages, if any, were made visible again. */
  get closed(): Promise<void> {
    return this.loopDone;
  }

  private async loop(): Promise<void> {
    const min = this.deps.minBackoffMs ?? 1000;
    let backoff = min;
    let attributesKnown = false;
    while (this.running) {
      try {
        if (!attributesKnown) {
          this.hasRedrive = (await this.messages.readQueueAttributes()).redrive;
          attributesKnown = true;
        }
        await this.belowCap();
        if (!this.running) break;
        await this.receiveOnce();
        backoff = min;
      } catch (err) {
        if (!this.running) break;
        this.deps.metrics.awsCalls.inc({ operation: 'ReceiveMessage', result: 'error' });
        this.deps.logger.warn('receiving from SQS failed; backing off', {
          error: describe(err),
          retryInMs: backoff,
        });
        await new Promise<void>((r) => {
          const timer = setTimeout(r, backoff);
          this.wake = () => (clearTimeout(timer), r());
        });
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
    while (this.running && this.inflight.size >= this.maxInFlight) {
      if (!logged)
        this.deps.logger.info('messages in flight at the cap; receiving pauses until one is done', {
          inFlight: this.inflight.size,
        });
      logged = true;
      await new Promise<void>((r) => {
        this.slotFreed = r;
        this.wake = r;
      });
    }
  }

  /** One long poll; its messages are handled, or released at once when the poller stopped meanwhile. */
  private async receiveOnce(): Promise<void> {
    const out = await this.deps.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.deps.queueUrl,
        MaxNumberOfMessages: Math.min(10, this.maxInFlight - this.inflight.size),
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
    for (const m of out.Messages ?? []) this.track(this.handle(m, receivedAt));
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    this.deps.metrics.messagesInFlight.set(this.inflight.size);
    void p.finally(() => {
      this.inflight.delete(p);
      this.deps.metrics.messagesInFlight.set(this.inflight.size);
      this.slotFreed();
    });
  }

  private async handle(m: Message, receivedAt: number): Promise<void> {
    this.deps.metrics.messagesReceived.inc();
    const log = this.deps.logger.child({ messageId: m.MessageId });
    let outcome: Outcome;
    try {
      const parsed = parseMessage(m.Body ?? '');
      outcome = await this.decide(parsed, m, receivedAt, log);
    } catch (err) {
      if (err instanceof TermEndedError) {
        log.info('leadership ended before the message was recorded; released for the next leader');
        outcome = 'release';
      } else {
        // Never crash, never drop: an unexpected failure leaves the message for redelivery.
        log.error('handling message failed; it will be redelivered', { error: describe(err) });
        outcome = 'leave';
      }
    }
    // A term that ended hands every message it did not finish to the next leader at once.
    if (outcome === 'leave' && !this.running) outcome = 'release';
    if (outcome === 'ack') this.messages.ack(m);
    else if (outcome === 'release') await this.messages.releaseNow(m);
  }

  private async decide(parsed: ParsedMessage, m: Message, receivedAt: number, log: Logger): Promise<Outcome> {
    if (parsed.kind === 'malformed') {
      this.deps.metrics.messagesMalformed.inc();
      const body = (m.Body ?? '').slice(0, BODY_LOG_LIMIT);
      if (this.hasRedrive) {
        this.deps.metrics.messagesDeadLettered.inc();
        log.warn('malformed message left for the dead-letter queue', { reason: parsed.reason, body });
        return 'release';
      }
      log.warn('malformed message deleted (the queue has no redrive policy)', {
        reason: parsed.reason,
        body,
      });
      return 'ack';
    }
    this.deps.metrics.signals.inc({ event: metricEventLabel(parsed.eventKind), outcome: parsed.kind });
    if (parsed.kind === 'ignored') {
      log.debug('event cannot change a current value; acknowledged', {
        event: parsed.eventKind,
        reason: parsed.reason,
      });
      return 'ack';
    }
    return this.signalMappings(parsed, m, receivedAt, log);
  }

  private async signalMappings(
    parsed: Extract<ParsedMessage, { kind: 'candidate' }>,
    m: Message,
    receivedAt: number,
    log: Logger,
  ): Promise<Outcome> {
    // Routing by name first: an event for a secret no mapping can be watching costs no AWS call.
    const candidates = this.deps.router.candidates([parsed.secretId, ...(parsed.aliases ?? [])]);
    if (candidates.length === 0) {
      log.debug('no mapping watches this secret; acknowledged', { secret: parsed.secretId });
      return 'ack';
    }
    let secret;
    try {
      const notBefore = freshAfter(parsed, receivedAt);
      const resolve = (): ReturnType<SecretVersions['resolve']> =>
        this.deps.versions.resolve(parsed.secretId, { notBefore, expectedVersionId: parsed.versionId });
      // Invisible meanwhile: a throttled lookup waits here, not in SQS's redelivery.
      const retrying = retryThrottled(resolve, { ...DEFAULT_THROTTLE_RETRY, keepGoing: () => this.running });
      await this.messages.keepInvisible(
        m,
        retrying.catch(() => undefined),
        this.maxHoldMs,
      );
      secret = await retrying;
    } catch (err) {
      if (err instanceof SecretNotFoundError || err instanceof AccessDeniedError) {
        // No mapping can be matched to a secret we cannot describe; mappings report it themselves.
        log.info('event for a secret that cannot be described; acknowledged', {
          secret: parsed.secretId,
          error: describe(err),
        });
        return 'ack';
      }
      log.warn('could not resolve the secret; the message will be redelivered', {
        secret: parsed.secretId,
        error: describe(err),
      });
      return 'leave';
    }
    const keys = this.deps.router.watchers(secret.arn, candidates);
    if (keys.length === 0) {
      log.debug('no mapping watches this secret; acknowledged', { secret: secret.arn });
      return 'ack';
    }
    log.info('rotation signal', {
      secret: secret.arn,
      version: secret.currentVersionId,
      event: parsed.eventKind,
      mappings: keys,
    });
    const withdrawn = new AbortController();
    const signal: RotationSignal = { observedAt: secret.fetchedAt, withdrawn: withdrawn.signal };
    const recorded = await this.messages.keepInvisible(
      m,
      Promise.all(keys.map((k) => this.deps.signal(k, signal))),
      this.maxHoldMs,
    );
    if (!recorded) {
      withdrawn.abort();
      log.warn('message held too long without being recorded; released for redelivery', {
        secret: secret.arn,
        mappings: keys,
        heldMs: this.maxHoldMs,
        receiveCount: m.Attributes?.ApproximateReceiveCount,
      });
      return 'release';
    }
    this.deps.metrics.eventToRestart.observe((Date.now() - receivedAt) / 1000);
    return 'ack';
  }
}
