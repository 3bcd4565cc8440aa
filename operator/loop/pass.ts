import type { Mapping, MappingStatus } from '../../resources/types.js';
import type { ConsumerCache } from '../kube/consumer-cache.js';
import type { PodTemplateUses } from '../kube/consumption.js';
import { EventReason, type EventRecorder } from '../kube/events.js';
import type { ExternalSecrets } from '../kube/external-secrets.js';
import type { MappingClient } from '../kube/mappings.js';
import type { WorkloadCache } from '../kube/workload-cache.js';
import type { Workloads } from '../kube/workloads.js';
import type { SecretVersions } from '../aws/secret-versions.js';
import type { CurrentMover } from '../aws/secret-stages.js';
import type { Logger } from '../runtime/logger.js';
import { NOTIFIED_REASONS, notification, type Notification } from '../notify/notification.js';
import type { ResolvedSecret, Verdict } from '../tenancy/policy-decision.js';
import type { UnansweredRestarts } from './unanswered-restarts.js';
import type { RolloutSlots } from './rollout-slots.js';
import { Reason, failedStatus, ownedStatus, readyCondition, sameStatus } from './status.js';

/** What one pass concluded; the controller turns it into queue actions (see controller.ts). */
export interface ReconcileResult {
  /** Run again after this many ms (a deferred restart, or a secret to look up again). */
  requeueAfterMs?: number;
  /** Secret information this pass acted on was fetched at this time: signals up to it are settled. */
  observedAt?: number;
  /** The mapping no longer exists: forget everything about it. */
  gone?: boolean;
  /**
   * The pass recorded what it observed but a step failed (a restart refused): the queue retries with
   * backoff. Its signals are settled all the same (observedAt): the retry is the queue's, not the message's.
   */
  failed?: string;
  /** The ARN the pass resolved `secretId` to; null when the mapping routes nothing (bad spec, secret missing or denied). */
  route?: { secretId: string; arn: string | null };
}

/** Where a pass reads mappings: the watch cache, which also takes the answers of our own writes. */
export interface MappingReader {
  get(key: string): Mapping | undefined;
  observe(written: Mapping): void;
}

/** What every pass of a process shares: caches, clients and settings. */
export interface ReconcileDeps {
  mappings: MappingReader;
  mappingWriter: MappingClient;
  workloadCache: WorkloadCache;
  workloads: Workloads;
  versions: SecretVersions;
  recorder: EventRecorder;
  logger: Logger;
  /** How soon to look again at a mapping whose secret is missing or denied. */
  secretRetryMs: number;
  onRestart?: (kind: string, result: 'success' | 'failure') => void;
  /** Global restart rate limit: returns 0 when a restart may go now, else ms until it may. */
  takeRestartToken?: () => number;
  /** Report what would be restarted, restart nothing. */
  dryRun?: boolean;
  /** A rollout of ours (any kind) not finished this long after our restart has failed. */
  rolloutDeadlineMs?: number;
  /** SecretProviderClasses and ExternalSecrets, when their APIs are served. */
  consumers?: ConsumerCache;
  /** Sets ESO's force-sync annotation (needed with `consumers` serving ExternalSecrets). */
  externalSecrets?: ExternalSecrets;
  /** The Secret and SecretProviderClass names that carry a mapping's secret in its namespace, as a pass found them. */
  onCarriedNames?: (key: string, names: PodTemplateUses) => void;
  /** A wait for an ExternalSecret sync ended: synced, or past its timeout. */
  onSyncWait?: (outcome: 'synced' | 'timed_out', seconds: number) => void;
  /** Queues a notification of an Event (NOTIFY_WEBHOOK_URL); never waits. */
  notify?: (n: Notification) => void;
  /** Which secrets the SecretsRotationPolicies let a namespace map (undefined: not decided yet). */
  tenancy?: {
    decide(namespace: string, secretId: string, resolved?: ResolvedSecret): Verdict | undefined;
    /** The second yes of a revert (onFailure Revert): a governing policy's revertSecrets. */
    decideRevert?(namespace: string, resolved: ResolvedSecret): Verdict | undefined;
  };
  /** Moves AWSCURRENT back (onFailure Revert): the operator's only Secrets Manager write. */
  currentMover?: CurrentMover;
  /** AWSCURRENT of the secret `arn` was moved by this operator: every mapping watching it looks again. */
  onCurrentMoved?: (arn: string) => void;
}

/** What belongs to the leadership term a pass runs in (see term.ts). */
export interface TermState {
  /** Set when the term ends: the pass stops before its next write. */
  aborted: AbortSignal;
  /** When the term started (epoch ms): what this replica described before it led may be older than the status. */
  termStartedAt: number;
  /**
   * The pass made its restarts and only writes now (Events, then the status): it gives its worker
   * to the next mapping once a writing slot is free (see Controller.work).
   */
  startWriting?: () => Promise<void>;
  /** Cap on rollouts in progress across mappings, for this term. */
  rolloutSlots?: RolloutSlots;
  /** Restarts of this term whose PATCH got no answer: the next pass learns whether they landed. */
  unansweredRestarts?: UnansweredRestarts;
  /**
   * Visits `key` again once `ready()` resolves, if the term still runs (a pass never waits in its
   * worker); called while `key` already waits, it does nothing (nothing piles up per pass).
   */
  lookAgainWhen?: (key: string, ready: () => Promise<unknown>) => void;
}

export type PassDeps = ReconcileDeps & Partial<TermState>;

type EventType = 'Normal' | 'Warning';

/** What an Event is about beyond its mapping, for notifications. */
export interface EventDetails {
  version?: string;
  workload?: string;
  /**
   * A key naming what the Event is about, when that happens once (a revert): a second Event with it
   * — a pass retried after its status write was lost, a new leader — is neither recorded nor
   * notified (see EventRecorder.record); it is notified only once written. Not part of the
   * notification.
   */
  once?: string;
}

/**
 * One pass over one mapping: what every stage reads (the mapping as cached, the previous status,
 * the pass's clock) and the pass's outputs (Events, status writes, when to look again). Stages are
 * functions of this context (see reconcile.ts for their order).
 */
export class PassContext {
  readonly now = new Date();
  readonly nowIso = this.now.toISOString();
  readonly prev: MappingStatus;
  readonly key: string;
  /** The mapping as our last status write left it (its resourceVersion for the next write). */
  private latest: Mapping;
  /** The pass asked for its writing slot (see startWriting). */
  private writing = false;
  /** Set when something waits (a safety valve, a sync, a conflict): requeue after this many ms. */
  wakeInMs: number | undefined;
  /** Events are sent after the restarts, so they never delay a patch. */
  private readonly events: [type: EventType, reason: EventReason, message: string, details: EventDetails][] =
    [];

  constructor(
    readonly m: Mapping,
    readonly deps: PassDeps,
    readonly log: Logger,
  ) {
    this.prev = m.status ?? {};
    this.latest = m;
    this.key = `${m.metadata.namespace}/${m.metadata.name}`;
  }

  get namespace(): string {
    return this.m.metadata.namespace;
  }

  /** namespace/Kind/name, the rollout slots' key. */
  workloadKey(t: { kind: string; name: string }): string {
    return `${this.namespace}/${t.kind}/${t.name}`;
  }

  wakeIn(ms: number): void {
    this.wakeInMs = Math.min(this.wakeInMs ?? ms, ms);
  }

  /** Throws TermEndedError once the term ended: nothing more may be written. */
  checkTerm(): void {
    this.deps.aborted?.throwIfAborted();
  }

  /** Records an Event (sent at the next flush), with the secret version and workload it is about. */
  event(type: EventType, reason: EventReason, message: string, details: EventDetails = {}): Promise<void> {
    this.events.push([type, reason, message, details]);
    return Promise.resolve();
  }

  /**
   * Sends the Events collected so far: after the restarts (never delaying a patch), before the status
   * — except those that wait for a write slot (EventRecorder): the pass does not wait for them.
   */
  async flushEvents(): Promise<void> {
    if (!this.events.length) return;
    await this.startWriting();
    const events = this.events.splice(0);
    if (this.deps.aborted?.aborted) return;
    // An Event about something once is notified once known new (written, not found written before);
    // the others' notifications never wait.
    for (const e of events) if (!e[3].once) this.notify(e);
    await Promise.all(
      events.map((e) => {
        const [type, reason, message, { once, workload }] = e;
        const { waits, recorded } = this.deps.recorder.record(this.m, {
          type,
          reason,
          message,
          once,
          workload,
        });
        const notified = recorded.then((isNew) => {
          if (once && isNew) this.notify(e);
        });
        return waits ? Promise.resolve() : notified;
      }),
    );
  }

  private notify([type, reason, message, details]: [EventType, EventReason, string, EventDetails]): void {
    const { notify } = this.deps;
    if (!notify || !NOTIFIED_REASONS.includes(reason)) return;
    const { version, workload } = details;
    notify(
      notification({
        type,
        reason,
        message,
        namespace: this.namespace,
        mapping: this.m.metadata.name,
        secret: this.m.spec.secretId,
        version,
        workload,
      }),
    );
  }

  /** Ready=False with `reason`; an Event only when the reason is new, so retries do not flood. */
  async fail(
    reason: Reason,
    message: string,
    eventReason?: EventReason,
    opts: { forgetSecret?: boolean } = {},
  ): Promise<void> {
    const before = readyCondition(this.prev.conditions);
    if (eventReason && (before?.reason !== reason || before.status !== 'False')) {
      this.log.warn('mapping not ready', { reason, message });
      await this.event('Warning', eventReason, message);
    }
    await this.write(failedStatus(this.m, reason, message, { now: this.nowIso, ...opts }));
  }

  /**
   * Applies the status this operator owns; conditions of other types stay their writers' own. A
   * second write in one pass (a revert's outcome) goes on from the first one's answer.
   */
  async write(status: MappingStatus): Promise<void> {
    await this.flushEvents();
    const owned = ownedStatus(status);
    if (sameStatus(ownedStatus(this.latest.status ?? {}), owned)) return;
    await this.startWriting();
    this.checkTerm();
    this.latest = await this.deps.mappingWriter.applyStatus(this.latest, owned);
    this.deps.mappings.observe(this.latest);
  }

  /** Once per pass, before its first write: what is left does not hold a worker (TermState.startWriting). */
  private async startWriting(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    await this.deps.startWriting?.();
  }

  /**
   * The mapping follows no rollout any more (it stopped before tracking them: bad spec, secret
   * unavailable): the slots it held are freed for other mappings.
   */
  releaseSlots(): void {
    this.deps.rolloutSlots?.releaseMapping(this.key);
  }
}

export { EventReason, Reason };
