import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { WORKLOAD_KINDS } from '../../resources/types.js';

/** What the workload and consumer caches hold (see MappingOperator.cacheSizes). */
export interface CacheSizes {
  workloads: number;
  namespaces: number;
  consumers: number;
  watches: number;
}

/** Prometheus metrics, every name prefixed secrets_rotation_. One instance per process. */
export class Metrics {
  readonly registry = new Registry();
  readonly messagesReceived = this.counter('messages_received_total', 'SQS messages received');
  readonly messagesAcknowledged = this.counter(
    'messages_acknowledged_total',
    'SQS messages deleted after handling',
  );
  readonly messagesMalformed = this.counter(
    'messages_malformed_total',
    'SQS messages that can never be processed',
  );
  readonly messagesDeadLettered = this.counter(
    'messages_dead_lettered_total',
    'Malformed messages left for the dead-letter queue (redrive policy present)',
  );
  readonly signals = this.counter('signals_total', 'Parsed events by kind and outcome', ['event', 'outcome']);
  readonly restarts = this.counter('restarts_total', 'Workload restarts by kind and result', [
    'kind',
    'result',
  ]);
  readonly reconcileErrors = this.counter('reconcile_errors_total', 'Reconcile passes that failed');
  readonly reconcileDuration = new Histogram({
    name: 'secrets_rotation_reconcile_duration_seconds',
    help: 'Duration of reconcile passes by result',
    labelNames: ['result'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly eventToRestart = new Histogram({
    name: 'secrets_rotation_event_to_restart_seconds',
    help: 'Time from receiving an SQS message to the end of the reconcile pass that recorded it',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly externalSecretSyncWait = new Histogram({
    name: 'secrets_rotation_external_secret_sync_wait_seconds',
    help: 'How long a restart waited for External Secrets Operator to sync the new value, by outcome (synced, timed_out)',
    labelNames: ['outcome'],
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'secrets_rotation_queue_depth',
    help: 'Mapping keys waiting in the reconcile queue',
    registers: [this.registry],
  });
  readonly messagesInFlight = new Gauge({
    name: 'secrets_rotation_sqs_messages_in_flight',
    help: 'SQS messages received and not yet deleted or released (capped by MAX_MESSAGES_IN_FLIGHT)',
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'secrets_rotation_leader',
    help: '1 when this process holds the leader Lease (or runs without leader election)',
    registers: [this.registry],
  });
  readonly awsCalls = this.counter('aws_calls_total', 'AWS API calls by operation and result', [
    'operation',
    'result',
  ]);

  readonly notifications = this.counter(
    'notifications_total',
    'Webhook notification attempts by result (delivered, failed: retried with backoff)',
    ['result'],
  );
  readonly notificationsDropped = this.counter(
    'notifications_dropped_total',
    'Webhook notifications dropped: queue_full (the receiver is too slow), gave_up (every attempt failed)',
    ['reason'],
  );

  /** Read at each scrape by the cache gauges; main points it at the operator's caches. */
  cacheSizes: () => CacheSizes = () => ({ workloads: 0, namespaces: 0, consumers: 0, watches: 0 });
  readonly cachedWorkloads = this.sizeGauge(
    'cached_workloads',
    'Workload projections cached (only those of namespaces that have mappings)',
    'workloads',
  );
  readonly cachedNamespaces = this.sizeGauge(
    'cached_namespaces',
    'Namespaces whose workloads are watched and cached (those that have mappings)',
    'namespaces',
  );
  readonly cachedConsumers = this.sizeGauge(
    'cached_consumers',
    'SecretProviderClasses and ExternalSecrets cached (namespaces that have mappings)',
    'consumers',
  );
  readonly cacheWatches = this.sizeGauge(
    'cache_watches',
    'Watches open for the workload and consumer caches (one per namespace and kind in use)',
    'watches',
  );

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'secrets_rotation_' });
    // Labelled series the alerts and the dashboard read start at 0. A series that first appears
    // at 1 has no increase to Prometheus (increase() and rate() need two samples of it), so the
    // first failed restart or ESO timeout would not fire its alert, and a kind's first restart
    // would not show on the dashboard (e2e/prometheus-scrape.test.ts proves it against a real Prometheus).
    for (const kind of WORKLOAD_KINDS) {
      for (const result of ['success', 'failure']) this.restarts.inc({ kind, result }, 0);
    }
    for (const outcome of ['synced', 'timed_out']) this.externalSecretSyncWait.zero({ outcome });
    for (const result of ['delivered', 'failed']) this.notifications.inc({ result }, 0);
    for (const reason of ['queue_full', 'gave_up']) this.notificationsDropped.inc({ reason }, 0);
  }

  private sizeGauge(name: string, help: string, field: keyof CacheSizes): Gauge {
    const read = (): number => this.cacheSizes()[field];
    return new Gauge({
      name: `secrets_rotation_${name}`,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[] = []): Counter<L> {
    return new Counter({ name: `secrets_rotation_${name}`, help, labelNames, registers: [this.registry] });
  }
}
