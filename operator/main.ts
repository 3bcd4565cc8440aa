import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { Server } from 'node:http';
import { ConfigError, loadConfig, type Config } from './runtime/config.js';
import { Controller } from './loop/controller.js';
import { describe } from './runtime/errors.js';
import { EventRecorder } from './kube/events.js';
import { loadKubeConfig } from './kube/kube.js';
import { LeaderElector } from './kube/leader-election.js';
import { startHealthServer } from './runtime/health.js';
import { createLogger, type Logger } from './runtime/logger.js';
import { MappingIndex } from './aws/mapping-index.js';
import { MappingOperator } from './kube/mapping-operator.js';
import { MappingClient } from './kube/mappings.js';
import { Metrics } from './runtime/metrics.js';
import { WorkQueue } from './loop/queue.js';
import { reconcile, type ReconcileDeps } from './loop/reconcile.js';
import { TokenBucket } from './loop/rate-limit.js';
import { RolloutSlots } from './loop/rollout-slots.js';
import { Resync } from './aws/resync.js';
import { SecretVersions } from './aws/secret-versions.js';
import { PendingSignals } from './loop/signals.js';
import { SqsPoller } from './aws/sqs-poller.js';
import { Workloads } from './kube/workloads.js';

const COMPONENT = 'secrets-rotation-operator';

/** What runs only while this process leads: the reconcile loop, the SQS poller and the resync. */
interface Term {
  controller: Controller;
  poller: SqsPoller;
  stop(): Promise<void>;
}

/** Wires watch → queue → reconcile → Kubernetes, and SQS → queue; returns a stop function. */
export async function run(config: Config, logger: Logger): Promise<() => Promise<void>> {
  const kc = loadKubeConfig();
  const metrics = new Metrics();
  // Request timeouts, so an AWS endpoint that hangs (rather than refuses) is retried, not waited on forever.
  const aws = {
    region: config.awsRegion,
    ...(config.awsEndpoint ? { endpoint: config.awsEndpoint } : {}),
    requestHandler: { connectionTimeout: 5000, requestTimeout: (config.sqsWaitTimeSeconds + 10) * 1000 },
  };
  const versions = new SecretVersions(new SecretsManagerClient(aws), config.secretCacheTtlMs, (result) =>
    metrics.awsCalls.inc({ operation: 'DescribeSecret', result }),
  );
  const sqs = new SQSClient(aws);
  const index = new MappingIndex();
  const deps: ReconcileDeps = {
    mappings: new MappingClient(kc.makeApiClient(CustomObjectsApi), COMPONENT),
    workloads: new Workloads(kc.makeApiClient(AppsV1Api), COMPONENT),
    versions,
    index,
    recorder: new EventRecorder(kc.makeApiClient(CoreV1Api), COMPONENT, logger),
    logger,
    secretRetryMs: 60_000,
    onRestart: (kind, result) => metrics.restarts.inc({ kind, result }),
    takeRestartToken: (
      (bucket) => () =>
        bucket.take()
    )(new TokenBucket(config.restartRatePerSecond, config.restartBurst)),
    dryRun: config.dryRun,
    rolloutSlots: new RolloutSlots(config.maxConcurrentRollouts),
  };
  let term: Term | undefined;
  const operator = new MappingOperator({
    kubeConfig: kc,
    namespace: config.watchNamespace,
    logger,
    // Followers keep the watch warm but queue nothing: a new leader visits every known mapping.
    enqueue: (key) => term?.controller.enqueue(key),
  });

  const startTerm = (): void => {
    const queue = new WorkQueue();
    const controller = new Controller(queue, new PendingSignals(), (key) => reconcile(key, deps), logger, {
      onResult: (result, seconds) => {
        metrics.reconcileDuration.observe({ result }, seconds);
        if (result === 'error' || result === 'terminal') metrics.reconcileErrors.inc();
        metrics.queueDepth.set(queue.length);
      },
    });
    const poller = new SqsPoller({
      sqs,
      queueUrl: config.sqsQueueUrl,
      versions,
      index,
      signal: (key, signal) => controller.signal(key, signal),
      logger,
      metrics,
      waitTimeSeconds: config.sqsWaitTimeSeconds,
    });
    const resync = new Resync({
      intervalMs: config.resyncIntervalMs,
      versions,
      index,
      keys: () => operator.keys(),
      enqueue: (key) => controller.enqueue(key),
      logger,
    });
    controller.start(config.maxConcurrentReconciles);
    for (const key of operator.keys()) controller.enqueue(key);
    poller.start();
    resync.start();
    metrics.leader.set(1);
    term = {
      controller,
      poller,
      stop: async () => {
        resync.stop();
        await poller.stop();
        await controller.stop();
        metrics.leader.set(0);
      },
    };
    logger.info('leading: reconciling mappings and polling SQS', {
      queue: config.sqsQueueUrl,
      resyncIntervalMs: config.resyncIntervalMs,
    });
  };
  const endTerm = async (): Promise<void> => {
    const ending = term;
    term = undefined;
    await ending?.stop();
  };

  const elector = config.leaderElection
    ? new LeaderElector(kc.makeApiClient(CoordinationV1Api), config.leaderElection, logger)
    : undefined;
  let server: Server | undefined;
  if (config.metricsPort > 0) {
    server = await startHealthServer(config.metricsPort, config.metricsBindAddress, metrics, () => {
      const polling = term?.poller.isRunning ?? false;
      return {
        ok: operator.hasSynced && (term === undefined || polling),
        detail: `watch synced: ${operator.hasSynced}, leader: ${term !== undefined}, sqs poller running: ${polling}`,
      };
    });
  }
  metrics.leader.set(0);
  await operator.start();
  logger.info('operator started', {
    namespace: config.watchNamespace ?? '(all)',
    leaderElection: Boolean(elector),
  });
  if (elector) void elector.run(startTerm, endTerm);
  else startTerm();
  return async () => {
    operator.stop();
    await endTerm();
    await elector?.release();
    server?.close();
  };
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`configuration error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  process.on('unhandledRejection', (err) => logger.error('unhandled rejection', { error: describe(err) }));
  const stop = await run(config, logger);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down; unacknowledged messages will be redelivered', { signal });
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error('shutdown failed', { error: describe(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();
