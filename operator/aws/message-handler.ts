import type { Message } from '@aws-sdk/client-sqs';
import { AccessDeniedError, SecretNotFoundError, TermEndedError, describe } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import { freshAfter, metricEventLabel, parseMessage, type ParsedMessage } from './event-parser.js';
import type { RotationSignal } from './rotation-signal.js';
import type { SecretVersions } from './secret-versions.js';
import type { MessageActions } from './sqs-messages.js';
import type { PollerDeps } from './sqs-poller.js';
import { DEFAULT_THROTTLE_RETRY, retryThrottled } from './throttle-retry.js';

/**
 * What becomes of a message: deleted; left to reappear after its visibility timeout (the retry
 * backoff for a transient failure); or released — visible again at once (malformed: on its way to the
 * dead-letter queue; for the next leader; held too long).
 */
type Outcome = 'ack' | 'leave' | 'release';

const BODY_LOG_LIMIT = 256;

/** What the handler reads of the poller's state. */
export interface PollerState {
  /** False once the poller stopped: the term ended, what is not finished goes to the next leader. */
  running(): boolean;
  /** Whether the queue has a redrive policy (a malformed message is left for the dead-letter queue). */
  hasRedrive(): boolean;
}

/**
 * What becomes of one message (see SqsPoller): parsed, routed to the mappings that watch its secret
 * (by name first, then by the ARN DescribeSecret gives), signalled to them, and acknowledged once
 * every one recorded it; kept invisible meanwhile, up to maxHoldMs.
 */
export class MessageHandler {
  private readonly maxHoldMs: number;

  constructor(
    private readonly deps: PollerDeps,
    private readonly messages: MessageActions,
    private readonly state: PollerState,
  ) {
    this.maxHoldMs = deps.maxHoldMs ?? 15 * 60_000;
  }

  /** Handles one message to its end: deleted, left for redelivery, or released at once. */
  async handle(m: Message, receivedAt: number): Promise<void> {
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
    if (outcome === 'leave' && !this.state.running()) outcome = 'release';
    if (outcome === 'ack') this.messages.ack(m);
    else if (outcome === 'release') await this.messages.releaseNow(m);
  }

  private async decide(parsed: ParsedMessage, m: Message, receivedAt: number, log: Logger): Promise<Outcome> {
    if (parsed.kind === 'malformed') {
      this.deps.metrics.messagesMalformed.inc();
      const body = (m.Body ?? '').slice(0, BODY_LOG_LIMIT);
      if (this.state.hasRedrive()) {
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
      const retrying = retryThrottled(resolve, {
        ...DEFAULT_THROTTLE_RETRY,
        keepGoing: () => this.state.running(),
      });
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
