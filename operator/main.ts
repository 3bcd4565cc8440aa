import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { Server } from 'node:http';
import { SecretVersions } from './aws/secret-versions.js';
import { SecretStageMover } from './aws/secret-stages.js';
import { EventRecorder } from './kube/events.js';
import { ExternalSecrets } from './kube/external-secrets.js';
import { loadKubeConfig } from './kube/kube.js';
import { LeaderElector } from './kube/leader-election.js';
import { LeadershipTerms } from './leadership-term.js';
import { MappingOperator } from './mapping-operator.js';
import { servedApis } from './kube/optional-apis.js';
import { Workloads } from './kube/workloads.js';
import { TokenBucket } from './loop/rate-limit.js';
import { ConfigError, loadConfig, type Config } from './runtime/config.js';
import { describe } from './runtime/errors.js';
import { startHealthServer } from './runtime/health.js';
import { createLogger, type Logger } from './runtime/logger.js';
import { Metrics } from './runtime/metrics.js';
import { headerReader, WebhookNotifier } from './notify/webhook.js';

const COMPONENT = 'secrets-rotation-operator';

/** How long a shutdown waits for Events still waiting for a write slot (see EventRecorder.flush). */
const EVENT_FLUSH_MS = 5_000;

/**
 * Wires config and clients: the Operator subclass (caches, router, the loop of each term), the
 * leadership terms (loop, SQS poller, resync), leader election, health and metrics. Returns a stop function.
 */
export async function run(config: Config, logger: Logger): Promise<() => Promise<void>> {
  const kc = loadKubeConfig(config.kubeRequestTimeoutMs, config.watchTimeoutMs);
  const metrics = new Metrics();
  // Request timeouts, so an AWS endpoint that hangs (rather than refuses) is retried, not waited on forever.
  // The SDK only warns (on the console) when a request outlives requestTimeout unless told to throw: a
  // hung DescribeSecret was waited on until the connection died.
  const aws = {
    region: config.awsRegion,
    ...(config.awsEndpoint ? { endpoint: config.awsEndpoint } : {}),
    requestHandler: {
      connectionTimeout: 5000,
      requestTimeout: (config.sqsWaitTimeSeconds + 10) * 1000,
      throwOnRequestTimeout: true,
    },
  };
  const secretsManager = new SecretsManagerClient(aws);
  const versions = new SecretVersions(secretsManager, config.secretCacheTtlMs, {
    onCall: (result) => metrics.awsCalls.inc({ operation: 'DescribeSecret', result }),
    onAnomaly: (secret, versions) =>
      logger.warn('AWSCURRENT is on several versions; the one an event names is taken as current', {
        secret,
        versions,
      }),
  });
  const sqs = new SQSClient(aws);
  const notifier = config.notifyWebhookUrl
    ? new WebhookNotifier({
        url: config.notifyWebhookUrl,
        format: config.notifyFormat,
        headers: headerReader(config.notifyHeadersDir, logger),
        log: logger,
        onSent: (result) => metrics.notifications.inc({ result }),
        onDropped: (reason) => metrics.notificationsDropped.inc({ reason }),
      })
    : undefined;
  const bucket = new TokenBucket(config.restartRatePerSecond, config.restartBurst);
  const api = kc.makeApiClient(CustomObjectsApi);
  const served = await servedApis(api, logger, config.watchNamespace);
  const recorder = new EventRecorder(kc.makeApiClient(CoreV1Api), COMPONENT, logger);
  const operator: MappingOperator = new MappingOperator({
    kubeConfig: kc,
    api,
    core: kc.makeApiClient(CoreV1Api),
    defaultSecretPolicy: config.defaultSecretPolicy,
    namespace: config.watchNamespace,
    fieldManager: COMPONENT,
    logger,
    versions,
    served,
    term: {
      concurrency: config.maxConcurrentReconciles,
      maxConcurrentRollouts: config.maxConcurrentRollouts,
      maxRolloutsPerNamespace: config.maxRolloutsPerNamespace,
    },
    pass: {
      versions,
      currentMover: new SecretStageMover(secretsManager, (result) =>
        metrics.awsCalls.inc({ operation: 'UpdateSecretVersionStage', result }),
      ),
      workloads: new Workloads(api, COMPONENT),
      externalSecrets: served.externalSecrets ? new ExternalSecrets(api, COMPONENT) : undefined,
      recorder,
      logger,
      secretRetryMs: 60_000,
      onRestart: (kind, result) => metrics.restarts.inc({ kind, result }),
      onSyncWait: (outcome, seconds) => metrics.externalSecretSyncWait.observe({ outcome }, seconds),
      takeRestartToken: () => bucket.take(),
      dryRun: config.dryRun,
      rolloutDeadlineMs: config.rolloutDeadlineMs,
      notify: notifier?.notify,
    },
    hooks: {
      onResult: (result, seconds) => {
        metrics.reconcileDuration.observe({ result }, seconds);
        if (result === 'error') metrics.reconcileErrors.inc();
      },
      queueDepth: (n) => metrics.queueDepth.set(n),
    },
  });

  metrics.cacheSizes = () => operator.cacheSizes();
  const terms = new LeadershipTerms({ config, operator, sqs, versions, logger, metrics });

  const elector = config.leaderElection
    ? new LeaderElector(
        // A Lease call never outlives the renew deadline (client-go bounds it the same way).
        loadKubeConfig(config.leaderElection.renewDeadlineMs, config.watchTimeoutMs).makeApiClient(
          CoordinationV1Api,
        ),
        config.leaderElection,
        logger,
      )
    : undefined;
  let server: Server | undefined;
  if (config.metricsPort > 0) {
    server = await startHealthServer(config.metricsPort, config.metricsBindAddress, metrics, () => {
      const polling = terms.polling;
      return {
        ok: operator.hasSynced && (!terms.leading || polling),
        detail: `watch synced: ${operator.hasSynced}, leader: ${terms.leading}, sqs poller running: ${polling}`,
      };
    });
  }
  metrics.leader.set(0);
  await operator.start();
  logger.info('operator started', {
    namespace: config.watchNamespace ?? '(all)',
    leaderElection: Boolean(elector),
  });
  if (elector)
    void elector.run(
      () => terms.start(),
      () => terms.end(),
    );
  else terms.start();
  return async () => {
    await terms.end();
    operator.stop();
    // The Lease goes first, so a follower leads while our last long poll returns (≤ its wait time)
    // and hands back what it received.
    await elector?.release();
    await terms.closed();
    // Events that waited for a write slot follow their passes' status: no later pass says them again.
    await recorder.flush(EVENT_FLUSH_MS);
    notifier?.stop();
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
