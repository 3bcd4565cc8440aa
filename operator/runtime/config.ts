import { MAX_TIMER_MS, parseDuration } from './duration.js';
import type { LeaderElectionConfig } from '../kube/leader-election.js';

/** The operator's configuration, parsed once from the environment at start-up. */
export interface Config {
  /** Namespace to watch; undefined = all namespaces. */
  readonly watchNamespace: string | undefined;
  readonly sqsQueueUrl: string;
  readonly awsRegion: string | undefined;
  /** Custom AWS endpoint (local emulator); undefined = the SDK's default. */
  readonly awsEndpoint: string | undefined;
  readonly logLevel: 'error' | 'warn' | 'info' | 'debug';
  /** Period of the safety-net resync; 0 disables it. */
  readonly resyncIntervalMs: number;
  /** How long a DescribeSecret answer is reused. */
  readonly secretCacheTtlMs: number;
  readonly maxConcurrentReconciles: number;
  readonly metricsPort: number;
  readonly metricsBindAddress: string;
  readonly sqsWaitTimeSeconds: number;
  /** Long polls kept open at once (see PollerDeps.receivers). */
  readonly sqsReceivers: number;
  /** Global restart rate (token bucket): restarts per second and burst. */
  readonly restartRatePerSecond: number;
  readonly restartBurst: number;
  /** Report what would be restarted, restart nothing. */
  readonly dryRun: boolean;
  /** Rollouts in progress at once, across mappings. */
  readonly maxConcurrentRollouts: number;
  /** Rollouts in progress at once in one namespace: one tenant never takes every slot. */
  readonly maxRolloutsPerNamespace: number;
  /** A rollout of ours (any kind) not finished this long after our restart has failed. */
  readonly rolloutDeadlineMs: number;
  /** SQS messages handled at once; receiving pauses at the cap. */
  readonly maxMessagesInFlight: number;
  /** Longest a message is kept invisible while its signals wait; then it is released for redelivery. */
  readonly messageMaxHoldMs: number;
  /** Timeout of every Kubernetes API request but watches (the Lease's: at most RENEW_DEADLINE). */
  readonly kubeRequestTimeoutMs: number;
  /** A watch asks the server to end it after this (×1–2); one still open a request timeout later is dead. */
  readonly watchTimeoutMs: number;
  /** What a namespace no SecretsRotationPolicy governs may map: anything (allow) or nothing (deny). */
  readonly defaultSecretPolicy: 'allow' | 'deny';
  /** Where notifications of rotations are POSTed; undefined: none sent. */
  readonly notifyWebhookUrl: string | undefined;
  readonly notifyFormat: 'cloudevents' | 'slack';
  /** A directory of request headers for the webhook (a mounted Secret: file name = header). */
  readonly notifyHeadersDir: string | undefined;
  /** Leader election; undefined when LEADER_ELECT=false (a single replica). */
  readonly leaderElection: LeaderElectionConfig | undefined;
}

const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;

/** Long polls open at once (SQS_RECEIVERS); the bench's floor opens as many (e2e/bench/floor-pipeline.ts). */
export const DEFAULT_SQS_RECEIVERS = 3;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, [min, max]: [number, number]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}="${raw}" must be an integer between ${min} and ${max}`);
  }
  return n;
}

/** A duration that must be above zero (a zero timeout or deadline would fail everything at once). */
function positive(env: Env, name: string, fallback: string): number {
  const ms = duration(env, name, fallback);
  if (ms <= 0) throw new ConfigError(`${name} must be longer than 0s`);
  return ms;
}

function duration(env: Env, name: string, fallback: string): number {
  const raw = env[name] ?? fallback;
  let ms: number;
  try {
    ms = parseDuration(raw);
  } catch (err) {
    throw new ConfigError(`${name}: ${(err as Error).message}`);
  }
  if (ms > MAX_TIMER_MS)
    throw new ConfigError(`${name}="${raw}" is longer than the 24 days a timer can wait`);
  return ms;
}

function queueUrl(env: Env): string {
  const url = env.SQS_QUEUE_URL ?? '';
  if (!url) throw new ConfigError('SQS_QUEUE_URL is required (the queue the EventBridge rules deliver to)');
  try {
    new URL(url);
  } catch {
    throw new ConfigError(`SQS_QUEUE_URL="${url}" is not a URL`);
  }
  return url;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw new ConfigError(`${name}="${raw}" must be true or false`);
}

/** Pod name (or host name), pid and a random suffix: unique even for two processes of one pod. */
function leaderIdentity(env: Env): string {
  return `${env.POD_NAME || env.HOSTNAME || 'operator'}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

function leaderElection(env: Env, watchNamespace: string | undefined): Config['leaderElection'] {
  if (!bool(env, 'LEADER_ELECT', true)) return undefined;
  const leaseDurationMs = duration(env, 'LEASE_DURATION', '15s');
  const renewDeadlineMs = duration(env, 'RENEW_DEADLINE', '10s');
  const retryPeriodMs = duration(env, 'RETRY_PERIOD', '2s');
  if (!(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs && retryPeriodMs > 0)) {
    throw new ConfigError('leader election needs LEASE_DURATION > RENEW_DEADLINE > RETRY_PERIOD > 0');
  }
  return {
    namespace:
      env.LEADER_ELECTION_NAMESPACE || env.POD_NAMESPACE || watchNamespace || 'secrets-rotation-operator',
    name: env.LEADER_ELECTION_LEASE || 'secrets-rotation-operator',
    identity: leaderIdentity(env),
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
  };
}

function logLevel(env: Env): Config['logLevel'] {
  const level = (env.LOG_LEVEL ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(`LOG_LEVEL="${env.LOG_LEVEL}" must be one of ${LOG_LEVELS.join(', ')}`);
  }
  return level as Config['logLevel'];
}

function watchNamespace(env: Env): string | undefined {
  const ns = env.WATCH_NAMESPACE?.trim();
  if (ns && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns)) {
    throw new ConfigError(`WATCH_NAMESPACE="${ns}" is not a valid namespace name`);
  }
  return ns || undefined;
}

function defaultSecretPolicy(env: Env): Config['defaultSecretPolicy'] {
  const raw = env.DEFAULT_SECRET_POLICY || 'allow';
  if (raw !== 'allow' && raw !== 'deny')
    throw new ConfigError(`DEFAULT_SECRET_POLICY="${raw}" must be allow or deny`);
  return raw;
}

function awsEndpoint(env: Env): string | undefined {
  const endpoint = env.AWS_ENDPOINT_URL || undefined;
  if (!endpoint) return undefined;
  try {
    new URL(endpoint);
  } catch {
    throw new ConfigError(`AWS_ENDPOINT_URL="${endpoint}" is not a URL`);
  }
  return endpoint;
}

function notifyWebhookUrl(env: Env): string | undefined {
  const url = env.NOTIFY_WEBHOOK_URL || undefined;
  if (url && !/^https?:\/\//.test(url))
    throw new ConfigError(`NOTIFY_WEBHOOK_URL="${url}" is not an http(s) URL`);
  try {
    if (url) new URL(url);
  } catch {
    throw new ConfigError(`NOTIFY_WEBHOOK_URL="${url}" is not a URL`);
  }
  return url;
}

function notifyFormat(env: Env): Config['notifyFormat'] {
  const raw = env.NOTIFY_FORMAT || 'cloudevents';
  if (raw !== 'cloudevents' && raw !== 'slack')
    throw new ConfigError(`NOTIFY_FORMAT="${raw}" must be cloudevents or slack`);
  return raw;
}

/** Parses and checks every setting; a bad value is a ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): Config {
  const ns = watchNamespace(env);
  const endpoint = awsEndpoint(env);
  return Object.freeze({
    watchNamespace: ns,
    sqsQueueUrl: queueUrl(env),
    awsRegion: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
    awsEndpoint: endpoint,
    logLevel: logLevel(env),
    resyncIntervalMs: duration(env, 'RESYNC_INTERVAL', '5m'),
    secretCacheTtlMs: duration(env, 'SECRET_CACHE_TTL', '5s'),
    maxConcurrentReconciles: integer(env, 'MAX_CONCURRENT_RECONCILES', 4, [1, 100]),
    metricsPort: integer(env, 'METRICS_PORT', 8080, [0, 65535]),
    metricsBindAddress: env.METRICS_BIND_ADDRESS || '0.0.0.0',
    sqsWaitTimeSeconds: integer(env, 'SQS_WAIT_TIME_SECONDS', 20, [0, 20]),
    sqsReceivers: integer(env, 'SQS_RECEIVERS', DEFAULT_SQS_RECEIVERS, [1, 10]),
    leaderElection: leaderElection(env, ns),
    restartRatePerSecond: integer(env, 'RESTART_RATE_LIMIT', 10, [1, 10_000]),
    restartBurst: integer(
      env,
      'RESTART_BURST',
      integer(env, 'RESTART_RATE_LIMIT', 10, [1, 10_000]),
      [1, 10_000],
    ),
    dryRun: bool(env, 'DRY_RUN', false),
    maxConcurrentRollouts: integer(env, 'MAX_CONCURRENT_ROLLOUTS', 50, [1, 100_000]),
    // A fifth of the cluster's slots by default: five tenants, not one, to fill them.
    maxRolloutsPerNamespace: integer(
      env,
      'MAX_ROLLOUTS_PER_NAMESPACE',
      Math.ceil(integer(env, 'MAX_CONCURRENT_ROLLOUTS', 50, [1, 100_000]) / 5),
      [1, 100_000],
    ),
    rolloutDeadlineMs: positive(env, 'ROLLOUT_DEADLINE', '10m'),
    maxMessagesInFlight: integer(env, 'MAX_MESSAGES_IN_FLIGHT', 100, [1, 10_000]),
    messageMaxHoldMs: positive(env, 'MESSAGE_MAX_HOLD', '15m'),
    kubeRequestTimeoutMs: positive(env, 'KUBE_REQUEST_TIMEOUT', '30s'),
    watchTimeoutMs: positive(env, 'WATCH_TIMEOUT', '5m'),
    defaultSecretPolicy: defaultSecretPolicy(env),
    notifyWebhookUrl: notifyWebhookUrl(env),
    notifyFormat: notifyFormat(env),
    notifyHeadersDir: env.NOTIFY_HEADERS_DIR || undefined,
  });
}
