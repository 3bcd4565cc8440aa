import type { SQSClient } from '@aws-sdk/client-sqs';
import { Resync } from './aws/resync.js';
import type { SecretVersions } from './aws/secret-versions.js';
import { SqsPoller } from './aws/sqs-poller.js';
import type { MappingOperator } from './mapping-operator.js';
import type { Config } from './runtime/config.js';
import type { Logger } from './runtime/logger.js';
import type { Metrics } from './runtime/metrics.js';

export interface TermDeps {
  config: Config;
  operator: MappingOperator;
  sqs: SQSClient;
  versions: SecretVersions;
  logger: Logger;
  metrics: Metrics;
}

/**
 * What runs only while this process leads: the term's reconcile loop, the SQS poller and the resync.
 * Terms follow each other (leader election); pollers of ended terms may still have a long poll out,
 * whose messages they hand back (`closing`).
 */
export class LeadershipTerms {
  private current: { poller: SqsPoller; stop(): Promise<void> } | undefined;
  private readonly closing = new Set<Promise<void>>();

  constructor(private readonly deps: TermDeps) {}

  /** Whether a term runs and its poller receives (readiness). */
  get leading(): boolean {
    return this.current !== undefined;
  }

  get polling(): boolean {
    return this.current?.poller.isRunning ?? false;
  }

  start(): void {
    const { config, operator, sqs, versions, logger, metrics } = this.deps;
    operator.startLoop();
    const poller = new SqsPoller({
      sqs,
      queueUrl: config.sqsQueueUrl,
      versions,
      router: operator.router,
      signal: (key, signal) => operator.signal(key, signal),
      logger,
      metrics,
      waitTimeSeconds: config.sqsWaitTimeSeconds,
      receivers: config.sqsReceivers,
      maxInFlight: config.maxMessagesInFlight,
      maxHoldMs: config.messageMaxHoldMs,
    });
    const resync = new Resync({
      intervalMs: config.resyncIntervalMs,
      versions,
      router: operator.router,
      keys: () => operator.keys(),
      enqueue: (key) => operator.enqueue(key),
      logger,
    });
    poller.start();
    resync.start();
    metrics.leader.set(1);
    this.current = {
      poller,
      // Receiving stops first; the loop's end then rejects pending signals (their messages are
      // released at once for the next leader) and abandons passes before their next write.
      stop: async () => {
        metrics.leader.set(0);
        resync.stop();
        poller.stopReceiving();
        await operator.stopLoop();
        await poller.stop();
        const closed = poller.closed.finally(() => this.closing.delete(closed));
        this.closing.add(closed);
      },
    };
    logger.info('leading: reconciling mappings and polling SQS', {
      queue: config.sqsQueueUrl,
      resyncIntervalMs: config.resyncIntervalMs,
    });
  }

  async end(): Promise<void> {
    const ending = this.current;
    this.current = undefined;
    await ending?.stop();
  }

  /** Resolves once the last long poll of every ended term returned and released its messages. */
  closed(): Promise<void> {
    return Promise.all(this.closing).then(() => undefined);
  }
}
