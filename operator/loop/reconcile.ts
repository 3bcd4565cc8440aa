import type { Mapping, MappingStatus, WorkloadStatus } from '../../resources/types.js';
import type { ConsumerCache } from '../kube/consumer-cache.js';
import { carriedNames, carriersOf, consumersOf, type PodTemplateUses } from '../kube/consumption.js';
import type { ExternalSecrets } from '../kube/external-secrets.js';
import { MAX_RESTART_INTERVAL_MS, parseDuration } from '../runtime/duration.js';
import { DEFAULT_SYNC_TIMEOUT } from './external-secret-sync.js';
import {
  AccessDeniedError,
  SecretNotFoundError,
  describe,
  isConflict,
  isNotFound,
  isUnprocessable,
} from '../runtime/errors.js';
import { EventReason, type EventRecorder } from '../kube/events.js';
import { isEmptySelector, selectorProblems } from '../kube/label-selector.js';
import type { Logger } from '../runtime/logger.js';
import type { MappingIndex } from '../aws/mapping-index.js';
import { FINALIZER, type MappingClient } from '../kube/mappings.js';
import {
  entryFor,
  keptEntry,
  planRestarts,
  versionStamp,
  type Planned,
  type Target,
} from './restart-plan.js';
import type { SecretVersion, SecretVersions } from '../aws/secret-versions.js';
import { Reason, desiredStatus, failedStatus, ownedStatus, readyCondition, sameStatus } from './status.js';
import type { Workloads } from '../kube/workloads.js';
import { kindsOf, selectTargets, type WorkloadCache } from '../kube/workload-cache.js';
import { nextRollout, untilDeadline } from './rollout.js';
import type { RolloutSlots } from './rollout-slots.js';
import { ExternalSecretSync } from './external-secret-sync.js';

/** What one pass concluded; the controller turns it into queue actions (see controller.ts). */
export interface ReconcileResult {
  /** Run again after this many ms (a deferred restart, or a secret to look up again). */
  requeueAfterMs?: number;
  /** Secret information this pass acted on was fetched at this time: signals up to it are settled. */
  observedAt?: number;
  /** The mapping no longer exists: forget everything about it. */
  gone?: boolean;
}

/** Where a pass reads mappings: the watch cache, which also takes the answers of our own writes. */
export interface MappingReader {
  get(key: string): Mapping | undefined;
  observe(written: Mapping): void;
}

export interface ReconcileDeps {
  mappings: MappingReader;
  mappingWriter: MappingClient;
  workloadCache: WorkloadCache;
  workloads: Workloads;
  versions: SecretVersions;
  index: MappingIndex;
  recorder: EventRecorder;
  logger: Logger;
  /** How soon to look again at a mapping whose secret is missing or denied. */
  secretRetryMs: number;
  onRestart?: (kind: string, result: 'success' | 'failure') => void;
  /** Global restart rate limit: returns 0 when a restart may go now, else ms until it may. */
  takeRestartToken?: () => number;
  /** Report what would be restarted, restart nothing. */
  dryRun?: boolean;
  /** Cap on rollouts in progress across mappings. */
  rolloutSlots?: RolloutSlots;
  /** Set when the leadership term ends: the pass stops before its next write. */
  aborted?: AbortSignal;
  /** A StatefulSet or DaemonSet rollout not finished this long after our restart has failed. */
  rolloutDeadlineMs?: number;
  /** SecretProviderClasses and ExternalSecrets, when their APIs are served. */
  consumers?: ConsumerCache;
  /** Sets ESO's force-sync annotation (needed with `consumers` serving ExternalSecrets). */
  externalSecrets?: ExternalSecrets;
  /** The Secret and SecretProviderClass names that carry a mapping's secret in its namespace, as a pass found them. */
  onCarriedNames?: (key: string, names: PodTemplateUses) => void;
  /** A wait for an ExternalSecret sync ended: synced, or past its timeout. */
  onSyncWait?: (outcome: 'synced' | 'timed_out', seconds: number) => void;
}

const MAX_SYNC_TIMEOUT_MS = 24 * 3_600_000;

/** Entry states of a restart waiting for an ExternalSecret: its RotationDetected Event was sent already. */
const WAITING_FOR_SYNC: WorkloadStatus['state'][] = ['WaitingForSync', 'SyncTimedOut'];

/**
 * How soon to look again at a rollout in progress if no workload event came first: rollout progress
 * arrives through the workload watch, this is only the fallback.
 */
const ROLLOUT_RECHECK_MS = 30_000;

/** See ReconcileDeps.rolloutDeadlineMs. */
const DEFAULT_ROLLOUT_DEADLINE_MS = 600_000;

/** How soon a pass whose patch met a 409 looks again, if no watch event woke it first. */
const CONFLICT_RETRY_MS = 1000;

/** A restart that failed for a reason other than the workload being gone. */
export class RestartError extends Error {
  override name = 'RestartError';
}

/**
 * For a mapping without a baseline yet: secret answers must be newer than the mapping itself (its
 * creation second, ended), or a recreated mapping would adopt what a cache knew before it existed.
 * Undefined once the mapping has a baseline (any answer within the TTL will do).
 */
export function baselineFloor(m: Mapping): number | undefined {
  if (m.status?.currentVersionId !== undefined || !m.metadata.creationTimestamp) return undefined;
  return new Date(m.metadata.creationTimestamp).getTime() + 1000;
}

/** Spec problems the CRD schema cannot catch; empty when the spec is usable. */
export function specProblems(m: Mapping): string[] {
  const { spec } = m;
  const problems = selectorProblems(spec.selector);
  if (spec.selector && isEmptySelector(spec.selector))
    problems.push('spec.selector is empty: it would select every workload');
  if (isEmptySelector(spec.selector) && !(spec.workloads ?? []).length && !spec.discover)
    problems.push('no target: set spec.selector, spec.workloads or spec.discover');
  problems.push(
    ...durationProblem(
      'spec.minRestartInterval',
      spec.minRestartInterval ?? '0s',
      MAX_RESTART_INTERVAL_MS,
      '168h',
    ),
    ...durationProblem(
      'spec.externalSecretSync.timeout',
      spec.externalSecretSync?.timeout ?? DEFAULT_SYNC_TIMEOUT,
      MAX_SYNC_TIMEOUT_MS,
      '24h',
    ),
  );
  return problems;
}

/** A duration field that does not parse or exceeds its bound (the CRD's rule, for servers without CEL). */
function durationProblem(field: string, value: string, maxMs: number, max: string): string[] {
  try {
    return parseDuration(value) > maxMs ? [`${field} may be at most ${max}`] : [];
  } catch (err) {
    return [`${field}: ${(err as Error).message}`];
  }
}

/**
 * Converges one mapping (level-based: it re-reads the mapping, the secret's AWSCURRENT version and the
 * workloads, and never trusts the event that woke it). A replay of the same state restarts nothing.
 */
export async function reconcile(key: string, deps: ReconcileDeps): Promise<ReconcileResult> {
  const cached = deps.mappings.get(key);
  if (!cached || cached.metadata.deletionTimestamp) return forget(key, cached, deps);
  const mapping = await withFinalizer(cached, deps, true);
  const pass = new Pass(mapping, deps, deps.logger.child({ mapping: key, secret: mapping.spec.secretId }));
  return pass.run();
}

/** A mapping gone or being deleted: forget it, never touch its workloads (that would roll them again). */
async function forget(
  key: string,
  mapping: Mapping | undefined,
  deps: ReconcileDeps,
): Promise<ReconcileResult> {
  deps.index.delete(key);
  deps.rolloutSlots?.releaseMapping(key);
  if (mapping) await withFinalizer(mapping, deps, false);
  return { gone: true };
}

/** Adds or removes our finalizer if needed; returns the mapping as it now is (the cache sees it too). */
async function withFinalizer(mapping: Mapping, deps: ReconcileDeps, present: boolean): Promise<Mapping> {
  if ((mapping.metadata.finalizers ?? []).includes(FINALIZER) === present) return mapping;
  deps.aborted?.throwIfAborted();
  const written = await deps.mappingWriter.setFinalizer(mapping, present);
  if (!written) return mapping;
  deps.mappings.observe(written);
  return written;
}

class Pass {
  private readonly now = new Date();
  private readonly nowIso = this.now.toISOString();
  private readonly prev: MappingStatus;
  /** Set when a restart waits (a safety valve, a sync, a conflict): requeue after this many ms. */
  private wakeInMs: number | undefined;
  /** The ExternalSecret sync each restart of an ESO consumer waits for. */
  private readonly sync: ExternalSecretSync;
  /** Events are sent after the restarts, so they never delay a patch. */
  private readonly events: [type: 'Normal' | 'Warning', reason: EventReason, message: string][] = [];

  constructor(
    private readonly m: Mapping,
    private readonly deps: ReconcileDeps,
    private readonly log: Logger,
  ) {
    this.prev = m.status ?? {};
    this.sync = new ExternalSecretSync({
      mapping: m,
      deps,
      log,
      event: (type, reason, message) => this.event(type, reason, message),
      wakeIn: (ms) => this.wakeIn(ms),
    });
  }

  async run(): Promise<ReconcileResult> {
    try {
      return await this.converge();
    } finally {
      await this.flushEvents();
    }
  }

  /** Sends the Events collected so far: after the restarts (never delaying a patch), before the status. */
  private async flushEvents(): Promise<void> {
    const events = this.events.splice(0);
    if (this.deps.aborted?.aborted) return;
    await Promise.all(
      events.map(([type, reason, message]) => this.deps.recorder.record(this.m, type, reason, message)),
    );
  }

  private async converge(): Promise<ReconcileResult> {
    const problems = specProblems(this.m);
    if (problems.length) {
      this.deps.index.delete(this.key);
      await this.fail(Reason.InvalidSpec, problems.join('; '), EventReason.InvalidSpec);
      // Nothing more will happen until the spec changes: signals waiting for this mapping are settled.
      return { observedAt: Date.now() };
    }
    let secret: SecretVersion;
    try {
      secret = await this.deps.versions.resolve(this.m.spec.secretId, { notBefore: baselineFloor(this.m) });
    } catch (err) {
      return this.secretUnavailable(err);
    }
    this.deps.index.set(this.key, secret.arn);
    await this.deps.workloadCache.ensure(kindsOf(this.m.spec));
    const targets = await this.targets(secret);
    const plan = planRestarts({
      secretName: secret.name,
      currentVersionId: secret.currentVersionId,
      baselineVersionId: this.prev.currentVersionId,
      previous: this.prev.workloads ?? [],
      targets,
      now: this.now.getTime(),
      minRestartIntervalMs: parseDuration(this.m.spec.minRestartInterval ?? '0s'),
      suspend: this.m.spec.suspend ?? false,
    });
    const entries = (await this.trackRollouts(plan, await this.execute(plan, secret))).map((e, i) =>
      this.withConsumption(e, plan[i]),
    );
    await this.writeStatus(secret, plan, entries);
    const failed = entries.filter((e) => e.state === 'Failed');
    if (failed.length) {
      throw new RestartError(
        `restart failed for ${failed.map((e) => `${e.kind}/${e.name}: ${e.message}`).join('; ')}`,
      );
    }
    const waits = plan.flatMap((p) => (p.action === 'pending' && p.waitMs ? [p.waitMs] : []));
    if (this.wakeInMs !== undefined) waits.push(this.wakeInMs);
    waits.push(...this.rolloutWaits(plan, entries));
    return { observedAt: secret.fetchedAt, requeueAfterMs: waits.length ? Math.min(...waits) : undefined };
  }

  /** When to look at rollouts in progress again: at their deadline, or the fallback recheck. */
  private rolloutWaits(plan: Planned[], entries: WorkloadStatus[]): number[] {
    return entries.flatMap((e, i) =>
      e.rollout === 'InProgress'
        ? [Math.min(ROLLOUT_RECHECK_MS, untilDeadline(plan[i], e, this.deadline) ?? Infinity)]
        : [],
    );
  }

  /**
   * The mapping's targets: what its selector and list name and, with discover, the workloads using
   * the SecretProviderClasses and ExternalSecrets that carry the secret (found through the cache's
   * index, not by scanning the namespace); every target says how it consumes the secret.
   */
  private async targets(secret: SecretVersion): Promise<Target[]> {
    const ns = this.m.metadata.namespace;
    const candidates = [...this.deps.workloadCache.candidates(ns, this.m.spec)];
    const cache = this.deps.consumers;
    if (!cache) return selectTargets(this.m.spec, candidates);
    await cache.waitSynced();
    const carriers = carriersOf(secret, cache.providerClassesIn(ns), cache.externalSecretsIn(ns));
    const names = carriedNames(carriers);
    this.deps.onCarriedNames?.(this.key, names);
    const users = this.deps.workloadCache.using(ns, names);
    const pool = this.m.spec.discover ? [...candidates, ...users] : candidates;
    return selectTargets(this.m.spec, pool, consumersOf(carriers, users));
  }

  /**
   * The entry with how the workload consumes the secret, and the force-sync its restart went by (kept
   * from the previous status while it still reads an ExternalSecret); a Rollout target in a cluster
   * without Argo Rollouts says so.
   */
  private withConsumption(e: WorkloadStatus, p: Planned): WorkloadStatus {
    const id = `${p.target.kind}/${p.target.name}`;
    const sync =
      this.sync.requests.get(id) ?? (p.target.externalSecrets?.length ? p.previous?.sync : undefined);
    const out = { ...e, ...(p.target.via ? { via: p.target.via } : {}), ...(sync ? { sync } : {}) };
    if (e.state === 'Missing' && !this.deps.workloadCache.serves(p.target.kind))
      out.message = `${id}: the ${p.target.kind} API (Argo Rollouts) is not served in this cluster`;
    return out;
  }

  private wakeIn(ms: number): void {
    this.wakeInMs = Math.min(this.wakeInMs ?? ms, ms);
  }

  private get deadline(): { ms: number; now: number } {
    return { ms: this.deps.rolloutDeadlineMs ?? DEFAULT_ROLLOUT_DEADLINE_MS, now: Date.now() };
  }

  private get key(): string {
    return `${this.m.metadata.namespace}/${this.m.metadata.name}`;
  }

  private async secretUnavailable(err: unknown): Promise<ReconcileResult> {
    const observedAt = Date.now();
    if (err instanceof SecretNotFoundError) {
      this.deps.index.delete(this.key);
      await this.fail(Reason.SecretNotFound, err.message, EventReason.SecretNotFound);
      return { requeueAfterMs: this.deps.secretRetryMs, observedAt };
    }
    if (err instanceof AccessDeniedError) {
      this.deps.index.delete(this.key);
      await this.fail(
        Reason.AccessDenied,
        `${err.message}: grant secretsmanager:DescribeSecret`,
        EventReason.AccessDenied,
      );
      return { requeueAfterMs: this.deps.secretRetryMs, observedAt };
    }
    // Transient (throttling, network, endpoint down): report, and let the queue back off and retry.
    await this.fail(Reason.AwsError, describe(err));
    throw err;
  }

  /** Restarts what the plan says, one workload at a time; returns every target's status entry. */
  private async execute(plan: Planned[], secret: SecretVersion): Promise<WorkloadStatus[]> {
    const stamp = versionStamp(secret.name, secret.currentVersionId);
    const detected = plan.some(
      (p) =>
        (p.action === 'restart' && !WAITING_FOR_SYNC.includes(p.previous?.state)) ||
        ((p.action === 'pending' || p.action === 'suspended') &&
          p.previous?.state !== (p.action === 'pending' ? 'Pending' : 'Suspended')),
    );
    if (detected) {
      this.log.info('rotation detected', {
        version: secret.currentVersionId,
        previous: this.prev.currentVersionId,
      });
      await this.event(
        'Normal',
        EventReason.RotationDetected,
        `secret ${secret.name}: AWSCURRENT is now ${secret.currentVersionId} (was ${this.prev.currentVersionId ?? 'unknown'})`,
      );
    }
    const entries: WorkloadStatus[] = [];
    for (const p of plan) entries.push(await this.apply(p, secret, stamp));
    return entries;
  }

  private async apply(p: Planned, secret: SecretVersion, stamp: string): Promise<WorkloadStatus> {
    await this.announce(p);
    if (p.action !== 'restart') return entryFor(p, secret.currentVersionId, this.nowIso);
    if (this.deps.dryRun) return this.wouldRestart(p, secret);
    this.deps.aborted?.throwIfAborted();
    return (
      (await this.sync.beforeRestart(p, secret)) ?? this.held(p, secret) ?? this.restartOne(p, secret, stamp)
    );
  }

  /** Events for targets that newly went missing or newly wait for minRestartInterval. */
  private async announce(p: Planned): Promise<void> {
    const workload = `${p.target.kind}/${p.target.name}`;
    if (p.action === 'missing' && p.previous?.state !== 'Missing') {
      await this.event(
        'Warning',
        EventReason.WorkloadMissing,
        `${workload} not found in namespace ${this.m.metadata.namespace}`,
      );
    }
    if (p.action === 'pending' && p.previous?.state !== 'Pending') {
      this.log.info('restart deferred', { workload, waitMs: p.waitMs });
      const seconds = Math.ceil((p.waitMs ?? 0) / 1000);
      await this.event(
        'Normal',
        EventReason.RestartDeferred,
        `${workload}: restart waits ${seconds}s for minRestartInterval`,
      );
    }
  }

  /** The safety valves: a Pending entry when no rollout slot or no rate-limit token is free now. */
  private held(p: Planned, secret: SecretVersion): WorkloadStatus | undefined {
    const pending = (why: string, retryMs: number): WorkloadStatus => {
      this.wakeIn(retryMs);
      return {
        ...entryFor({ ...p, action: 'pending' }, secret.currentVersionId, this.nowIso),
        message: `restart for version ${secret.currentVersionId} waits for ${why}`,
      };
    };
    // A workload that does not roll by itself (Paused, OnDelete) starts no rollout: it takes no slot.
    const slots = p.target.blocked ? undefined : this.deps.rolloutSlots;
    if (slots && !slots.acquire(this.workloadKey(p), this.key))
      return pending('a free rollout slot (MAX_CONCURRENT_ROLLOUTS)', ROLLOUT_RECHECK_MS);
    const wait = this.deps.takeRestartToken?.() ?? 0;
    if (wait <= 0) return undefined;
    slots?.release(this.workloadKey(p));
    return pending('the global restart rate limit', wait);
  }

  private async restartOne(p: Planned, secret: SecretVersion, stamp: string): Promise<WorkloadStatus> {
    const { kind, name } = p.target;
    const workload = `${kind}/${name}`;
    // restartedAt is the time of the patch itself, not of the pass (a pass may wait on the rate limit).
    const at = new Date().toISOString();
    try {
      const written = await this.deps.workloads.restart(this.m.metadata.namespace, p.target, at, stamp);
      this.deps.workloadCache.observe(kind, written);
    } catch (err) {
      if (isNotFound(err)) return entryFor({ ...p, action: 'missing' }, secret.currentVersionId, this.nowIso);
      if (isConflict(err) || isUnprocessable(err)) return this.changedMeanwhile(p, secret);
      this.deps.onRestart?.(kind, 'failure');
      this.log.error('restart failed', { workload, version: secret.currentVersionId, error: describe(err) });
      await this.event('Warning', EventReason.RestartFailed, `${workload}: ${describe(err)}`);
      return { ...keptEntry(p), state: 'Failed', message: describe(err) };
    }
    this.deps.onRestart?.(kind, 'success');
    this.log.info('workload restarted', { workload, version: secret.currentVersionId });
    await this.event('Normal', EventReason.WorkloadRestarted, `${workload} restarted for ${stamp}`);
    const entry = entryFor(p, secret.currentVersionId, at);
    if (p.target.blocked)
      await this.event('Warning', EventReason.WorkloadBlocked, `${workload}: ${entry.message ?? ''}`);
    return entry;
  }

  /**
   * The workload changed between the cache read and the patch (409/422): another mapping may have
   * stamped it for this very version. Look again once the watch delivered the change — no GET; the
   * workload's watch event enqueues this mapping, the requeue is the fallback.
   */
  private changedMeanwhile(p: Planned, secret: SecretVersion): WorkloadStatus {
    this.wakeIn(CONFLICT_RETRY_MS);
    this.deps.rolloutSlots?.release(this.workloadKey(p));
    return {
      ...entryFor({ ...p, action: 'pending' }, secret.currentVersionId, this.nowIso),
      message: `restart for version ${secret.currentVersionId}: the workload changed meanwhile; looking again`,
    };
  }

  private workloadKey(p: Planned): string {
    return `${this.m.metadata.namespace}/${p.target.kind}/${p.target.name}`;
  }

  /**
   * Follows the rollouts this mapping started: a fresh restart is InProgress; one in progress takes the
   * state the workload's status shows now (Complete, Failed); an Event marks each end.
   */
  private async trackRollouts(plan: Planned[], entries: WorkloadStatus[]): Promise<WorkloadStatus[]> {
    const out: WorkloadStatus[] = [];
    const rolling = new Set<string>();
    for (const [i, p] of plan.entries()) {
      const { rollout, ended, why } = nextRollout(p, entries[i], this.deadline);
      const workload = this.workloadKey(p);
      if (rollout === 'InProgress') rolling.add(workload);
      const name = `${p.target.kind}/${p.target.name}`;
      if (ended === 'Complete') await this.event('Normal', EventReason.RolloutComplete, `${name} rolled out`);
      if (ended === 'Failed') {
        this.log.warn('rollout failed; its rollout slot is freed', { workload: name, why });
        await this.event('Warning', EventReason.RolloutFailed, `${name}: ${why ?? 'rollout failed'}`);
      }
      out.push(rollout ? { ...entries[i], rollout } : entries[i]);
    }
    // Slots of workloads this mapping no longer follows (ended, deleted, relabelled away) are freed.
    this.deps.rolloutSlots?.holdOnly(this.key, rolling);
    return out;
  }

  private async wouldRestart(p: Planned, secret: SecretVersion): Promise<WorkloadStatus> {
    const workload = `${p.target.kind}/${p.target.name}`;
    if (p.previous?.state !== 'DryRun') {
      this.log.info('dry run: would restart workload', { workload, version: secret.currentVersionId });
      await this.event(
        'Normal',
        EventReason.WouldRestart,
        `dry run: ${workload} would restart for version ${secret.currentVersionId}`,
      );
    }
    return {
      ...keptEntry(p),
      state: 'DryRun',
      message: `dry run: would restart for version ${secret.currentVersionId}`,
    };
  }

  private async writeStatus(
    secret: SecretVersion,
    plan: Planned[],
    entries: WorkloadStatus[],
  ): Promise<void> {
    await this.write(
      desiredStatus({
        mapping: this.m,
        secretArn: secret.arn,
        currentVersionId: secret.currentVersionId,
        restarted: plan.map((p) => p.action === 'restart'),
        entries,
        now: this.nowIso,
      }),
    );
  }

  /** Ready=False with `reason`; an Event only when the reason is new, so retries do not flood. */
  private async fail(reason: Reason, message: string, eventReason?: EventReason): Promise<void> {
    const before = readyCondition(this.prev.conditions);
    if (eventReason && (before?.reason !== reason || before.status !== 'False')) {
      this.log.warn('mapping not ready', { reason, message });
      await this.event('Warning', eventReason, message);
    }
    await this.write(failedStatus(this.m, reason, message, this.nowIso));
  }

  /** Applies the status this operator owns; conditions of other types stay their writers' own. */
  private async write(status: MappingStatus): Promise<void> {
    await this.flushEvents();
    const owned = ownedStatus(status);
    if (sameStatus(ownedStatus(this.m.status ?? {}), owned)) return;
    this.deps.aborted?.throwIfAborted();
    this.deps.mappings.observe(await this.deps.mappingWriter.applyStatus(this.m, owned));
  }

  private event(type: 'Normal' | 'Warning', reason: EventReason, message: string): Promise<void> {
    this.events.push([type, reason, message]);
    return Promise.resolve();
  }
}
