import type { CoreV1Api, CoreV1Event } from '@kubernetes/client-node';
import { createHash, randomBytes } from 'node:crypto';
import { API_VERSION, KIND, type Mapping } from '../../resources/types.js';
import { isConflict } from '../runtime/errors.js';
import {
  MAX_EVENT_WRITES,
  SERIES_IDLE_MS,
  idle,
  join,
  remember,
  seen,
  seriesKey,
  writesNow,
  type Series,
  type Waiting,
} from './event-series.js';
import type { Logger } from '../runtime/logger.js';

/** Event reasons the operator emits on mappings (kubectl describe srm shows them). */
export const EventReason = {
  RotationDetected: 'RotationDetected',
  WorkloadRestarted: 'WorkloadRestarted',
  RestartFailed: 'RestartFailed',
  RestartDeferred: 'RestartDeferred',
  InvalidSpec: 'InvalidSpec',
  SecretNotFound: 'SecretNotFound',
  AccessDenied: 'AccessDenied',
  WorkloadMissing: 'WorkloadMissing',
  WorkloadBlocked: 'WorkloadBlocked',
  WouldRestart: 'WouldRestart',
  RolloutComplete: 'RolloutComplete',
  RolloutFailed: 'RolloutFailed',
  SyncRequested: 'SyncRequested',
  SyncTimedOut: 'SyncTimedOut',
  NotAllowed: 'NotAllowed',
  TooManyWorkloads: 'TooManyWorkloads',
  WorkloadsNotListed: 'WorkloadsNotListed',
  ConsumersNotListed: 'ConsumersNotListed',
  RotationHalted: 'RotationHalted',
  RotationReverted: 'RotationReverted',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

/** One Event: `once` names what it is about when that happens once (see EventRecorder.record). */
export interface RecordedEvent {
  type: 'Normal' | 'Warning';
  reason: EventReason;
  message: string;
  once?: string;
  /** The workload (Kind/name) the Event is about: Events about different workloads are different series. */
  workload?: string;
}

/** What every Event of a series repeats: where it is, what it is about, what happened. */
type Base = Pick<CoreV1Event, 'involvedObject' | 'type' | 'reason'> & { namespace: string; mapping: string };

/** A series, and what its Events repeat (the newest occurrence's mapping resourceVersion). */
type Kept = Series & { base: Base };

/**
 * Writes core/v1 Events about a mapping. A failed Event is logged, never fails a reconcile. At most
 * MAX_EVENT_WRITES at once: occurrences beyond them wait, and those of one series are merged into
 * one Event (see event-series.ts) — its `count` says how many, its message is the newest one's, as
 * `kubectl describe` shows a series.
 */
export class EventRecorder {
  private readonly series = new Map<string, Kept>();
  /** Keys of series with occurrences waiting, oldest first. */
  private readonly queue = new Set<string>();
  private inFlight = 0;
  private prunedAt = Date.now();

  constructor(
    private readonly core: CoreV1Api,
    private readonly component: string,
    private readonly logger: Logger,
  ) {}

  /**
   * `once`: the Event is about something that happens once (a revert); it is named for it, so a
   * second record — a pass retried after a lost status write, a new leader — finds it there (409), or
   * in this process's memory of the series, and answers false: recorded already, by this process or
   * another. Otherwise true. An occurrence written now is answered once written; one that waits is
   * answered at once, so a pass never waits behind other passes' Events.
   */
  async record(mapping: Mapping, event: RecordedEvent): Promise<boolean> {
    const { type, reason, message, once, workload } = event;
    const { name, namespace, uid, resourceVersion } = mapping.metadata;
    const now = Date.now();
    this.prune(now);
    const key = seriesKey(uid ?? `${namespace}/${name}`, type, reason, workload);
    const known = this.series.get(key);
    if (seen(known, once)) return false;
    const base: Base = {
      namespace,
      mapping: name,
      involvedObject: { apiVersion: API_VERSION, kind: KIND, name, namespace, uid, resourceVersion },
      type,
      reason,
    };
    const s: Kept = known ?? { onces: [], seenAt: now, base };
    this.series.set(key, Object.assign(s, { base, seenAt: now }));
    if (!writesNow(s, this.inFlight)) {
      join(s, message, new Date(now), once);
      remember(s, once);
      this.queue.add(key);
      return true;
    }
    const outcome = await this.write(s.base, {
      count: 1,
      first: new Date(now),
      message,
      at: new Date(now),
      once,
    });
    if (outcome === 'conflict' && once) {
      remember(s, once);
      return false;
    }
    if (outcome === 'written') remember(s, once);
    return true;
  }

  /** Creates the Event of `w` occurrences, counted in flight; what waits goes out as writes end. */
  private async write(base: Base, w: Waiting): Promise<'written' | 'conflict' | 'failed'> {
    this.inFlight++;
    try {
      await this.create(base, w);
      return 'written';
    } catch (err) {
      if (isConflict(err) && w.once) return 'conflict';
      this.logger.warn('could not record event', {
        mapping: `${base.namespace}/${base.mapping}`,
        reason: base.reason,
        error: String(err),
      });
      return 'failed';
    } finally {
      this.inFlight--;
      this.drain();
    }
  }

  /** Writes waiting series, oldest first, while a write slot is free. */
  private drain(): void {
    for (const key of this.queue) {
      if (this.inFlight >= MAX_EVENT_WRITES) return;
      this.queue.delete(key);
      const s = this.series.get(key);
      const waiting = s?.waiting;
      if (!s || !waiting) continue;
      s.waiting = undefined;
      void this.write(s.base, waiting);
    }
  }

  /**
   * Creates the Event of `w`: named for its (newest) `once`, so another leader's retry of it is a
   * 409, else a random name.
   */
  private async create(base: Base, w: Waiting): Promise<void> {
    const { namespace, involvedObject, type, reason, mapping } = base;
    const suffix = w.once ? onceName(involvedObject.uid, w.once) : randomBytes(8).toString('hex');
    await this.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { name: eventName(mapping, suffix), namespace },
        involvedObject,
        type,
        reason,
        message: w.message.slice(0, 1024),
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: this.component,
        firstTimestamp: w.first,
        lastTimestamp: w.at,
        count: w.count,
      },
    });
  }

  /** Forgets idle series, at most once per SERIES_IDLE_MS. */
  private prune(now: number): void {
    if (now - this.prunedAt < SERIES_IDLE_MS) return;
    this.prunedAt = now;
    for (const [key, s] of this.series) if (idle(s, now)) this.series.delete(key);
  }
}

/** An Event's name (a DNS subdomain, at most 253 characters): the mapping's name, cut to fit, and the suffix. */
export const eventName = (mapping: string, suffix: string): string =>
  `${mapping.slice(0, MAX_NAME - suffix.length - 1).replace(/[.-]+$/, '')}.${suffix}`;

const MAX_NAME = 253;

/** The name suffix of the Event about `once` of the mapping `uid`: the same for every leader. */
const onceName = (uid: string | undefined, once: string): string =>
  createHash('sha256')
    .update(`${uid ?? ''}/${once}`)
    .digest('hex')
    .slice(0, 16);
