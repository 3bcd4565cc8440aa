import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { Server } from 'node:http';
import { ConfigError, loadConfig, type Config } from './config.js';
import { Controller } from './controller.js';
import { describe } from './errors.js';
import { EventRecorder } from './events.js';
import { loadKubeConfig } from './kube.js';
import { LeaderElector } from './leader-election.js';
import { startHealthServer } from './health.js';
import { createLogger, type Logger } from './logger.js';
import { MappingIndex } from './mapping-index.js';
import { MappingOperator } from './mapping-operator.js';
import { MappingClient } from './mappings.js';
import { Metrics } from './metrics.js';
import { WorkQueue } from './queue.js';
import { reconcile, type ReconcileDeps } from './reconcile.js';
import { Resync } from './resync.js';
import { SecretVersions } from './secret-versions.js';
import { PendingSignals } from './signals.js';
import { SqsPoller } from './sqs-poller.js';
import { Workloads } from './workloads.js';

const COMPONENT = 'secrets-rotation-operator';

/** Wires watch → queue → reconcile → Kubernetes, and SQS → queue; returns a stop function. */
export async function run(config: Config, logger: Logger): Promise<() => Promise<void>> {
  const kc = loadKubeConfig();
  const metrics = new Metrics();
  const aws = { region: config.awsRegion, ...(config.awsEndpoint ? { endpoint: config.awsEndpoint } : {}) };
  const versions = new SecretVersions(new SecretsManagerClient(aws), config.secretCacheTtlMs, (result) =>
    metrics.awsCalls.inc({ operation: 'DescribeSecret', result }),
  );
  const index = new MappingIndex();
  const queue = new WorkQueue();
  const deps: ReconcileDeps = {
    mappings: new MappingClient(kc.makeApiClient(CustomObjectsApi), COMPONENT),
    workloads: new Workloads(kc.makeApiClient(AppsV1Api), COMPONENT),
    versions,
    index,
    recorder: new EventRecorder(kc.makeApiClient(CoreV1Api), COMPONENT, logger),
    logger,
    secretRetryMs: 60_000,
    onRestart: (kind, result) => metrics.restarts.inc({ kind, result }),
  };
  const controller = new Controller(queue, new PendingSignals(), (key) => reconcile(key, deps), logger, {
    onResult: (result, seconds) => {
      metrics.reconcileDuration.observe({ result }, seconds);
      if (result === 'error' || result === 'terminal') metrics.reconcileErrors.inc();
      metrics.queueDepth.set(queue.length);
    },
  });
  const operator = new MappingOperator({
    kubeConfig: kc,
    namespace: config.watchNamespace,
    logger,
    enqueue: (key) => controller.enqueue(key),
  });
  const poller = new SqsPoller({
    sqs: new SQSClient(aws),
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
  const elector = config.leaderElection
    ? new LeaderElector(kc.makeApiClient(CoordinationV1Api), config.leaderElection, logger)
    : undefined;
  const isLeader = (): boolean => elector?.isLeader ?? true;
  let server: Server | undefined;
  if (config.metricsPort > 0) {
    server = await startHealthServer(config.metricsPort, config.metricsBindAddress, metrics, () => ({
      ok: operator.hasSynced && (!isLeader() || poller.isRunning),
      detail: `watch synced: ${operator.hasSynced}, leader: ${isLeader()}, sqs poller running: ${poller.isRunning}`,
    }));
  }
  // Followers keep the watch warm (the queue only collects keys); only the leader reconciles, polls
  // SQS and resyncs, so there is one writer.
  const lead = (): void => {
    metrics.leader.set(1);
    controller.start(config.maxConcurrentReconciles);
    poller.start();
    resync.start();
    logger.info('leading: reconciling, polling SQS', {
      queue: config.sqsQueueUrl,
      resyncIntervalMs: config.resyncIntervalMs,
    });
  };
  metrics.leader.set(0);
  await operator.start();
  logger.info('operator started', {
    namespace: config.watchNamespace ?? '(all)',
    leaderElection: Boolean(elector),
  });
  if (elector) {
    void elector.run(lead, () => {
      metrics.leader.set(0);
      process.exit(1);
    });
  } else {
    lead();
  }
  return async () => {
    resync.stop();
    operator.stop();
    await poller.stop();
    await controller.stop();
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
