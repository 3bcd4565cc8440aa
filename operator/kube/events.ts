import type { CoreV1Api, CoreV1Event } from '@kubernetes/client-node';
import { createHash, randomBytes } from 'node:crypto';
import { API_VERSION, KIND, type Mapping } from '../../resources/types.js';
import { isConflict } from '../runtime/errors.js';
import {
  MAX_EVENT_WRITES,
  MAX_MERGED,
  SERIES_IDLE_MS,
  idle,
  known,
  merged,
  remember,
  seriesKey,
  writesNow,
  type Occurrence,
  type Series,
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
 * What record() did: `recorded` settles once the occurrence was written (true; a failed write is
 * logged and also true) or found recorded already (false); `waits` says it waits for a write slot —
 * a pass does not wait for it (see MAX_EVENT_WRITES), and acts on `recorded` when it settles.
 */
export interface Recording {
  waits: boolean;
  recorded: Promise<boolean>;
}

/**
 * Writes core/v1 Events about a mapping. A failed Event is logged, never fails a reconcile. At most
 * MAX_EVENT_WRITES at once: occurrences beyond them wait, and those of one series that wait together
 * are one Event (see event-series.ts) — its `count` says how many, its message is the newest one's,
 * as `kubectl describe` shows a series.
 */
export class EventRecorder {
  private readonly series = new Map<string, Kept>();
  /** Keys of series with occurrences waiting, oldest first. */
  private readonly queue = new Set<string>();
  private inFlight = 0;
  /** Waiting for every write to end (flush). */
  private readonly drained: (() => void)[] = [];
  private prunedAt = Date.now();

  constructor(
    private readonly core: CoreV1Api,
    private readonly component: string,
    private readonly logger: Logger,
  ) {}

  /**
   * `once`: the Event is about something that happens once (a revert); it is named for it, so a
   * second record — a pass retried after a lost status write, a new leader — finds it there (409), or
   * in this process's memory of the series, and settles false: recorded already, by this process or
   * another. Occurrences written together are named for the newest: a 409 on it settles that one
   * false and writes the others again, named for the next.
   */
  record(mapping: Mapping, event: RecordedEvent): Recording {
    const { type, reason, message, once, workload } = event;
    const { name, namespace, uid, resourceVersion } = mapping.metadata;
    const now = Date.now();
    this.prune(now);
    const key = seriesKey(uid ?? `${namespace}/${name}`, type, reason, workload);
    const base: Base = {
      namespace,
      mapping: name,
      involvedObject: { apiVersion: API_VERSION, kind: KIND, name, namespace, uid, resourceVersion },
      type,
      reason,
    };
    const s: Kept = this.series.get(key) ?? { onces: [], waiting: [], writing: [], seenAt: now, base };
    if (known(s, once)) return { waits: false, recorded: Promise.resolve(false) };
    s.base = base;
    s.seenAt = now;
    this.series.set(key, s);
    const waits = !writesNow(s, this.inFlight);
    const recorded = new Promise<boolean>((settle) => {
      const o = { message: message.slice(0, MAX_MESSAGE), at: new Date(now), once, settle };
      if (waits) {
        s.waiting.push(o);
        this.queue.add(key);
      } else void this.write(s, [o]);
    });
    return { waits, recorded };
  }

  /**
   * Writes `occurrences` of `s` as one Event, counted in flight; what waits goes out as writes end.
   * A 409 on the newest (found written by another pass or process) settles it false, and the rest is
   * written again under the next one's name.
   */
  private async write(s: Kept, occurrences: Occurrence[]): Promise<void> {
    this.inFlight++;
    s.writing.push(...occurrences);
    const done = (o: Occurrence, recorded: boolean): void => {
      s.writing.splice(s.writing.indexOf(o), 1);
      o.settle(recorded);
    };
    try {
      for (let rest = occurrences; rest.length;) {
        const outcome = await this.create(s.base, merged(rest));
        const newest = rest[rest.length - 1];
        if (outcome !== 'conflict') {
          for (const o of rest) {
            if (outcome === 'written') remember(s, o.once);
            done(o, true);
          }
          return;
        }
        remember(s, newest.once);
        done(newest, false);
        rest = rest.slice(0, -1);
      }
    } finally {
      this.inFlight--;
      this.drain();
      if (!this.inFlight) for (const resolve of this.drained.splice(0)) resolve();
    }
  }

  /**
   * Resolves once nothing waits or is being written, or after `ms` (shutdown: the status of the
   * passes those Events are about is written already, and no later pass says them again).
   */
  async flush(ms: number): Promise<void> {
    if (!this.inFlight && !this.queue.size) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((r) => this.drained.push(r)),
      new Promise<void>((r) => (timer = setTimeout(r, ms))),
    ]);
    clearTimeout(timer);
  }

  /** Writes waiting series, oldest first, while a write slot is free. */
  private drain(): void {
    for (const key of this.queue) {
      if (this.inFlight >= MAX_EVENT_WRITES) return;
      this.queue.delete(key);
      const s = this.series.get(key);
      if (!s?.waiting.length) continue;
      void this.write(s, s.waiting.splice(0, MAX_MERGED));
      // More than one Event's worth waits: the rest goes out as another write, after the others.
      if (s.waiting.length) this.queue.add(key);
    }
  }

  /**
   * Creates the Event `e`: named for its `once`, so a second create of it is a 409 (a conflict only
   * then: a random name is never taken), else a random name. A failure is logged.
   */
  private async create(base: Base, e: ReturnType<typeof merged>): Promise<'written' | 'conflict' | 'failed'> {
    const { namespace, involvedObject, type, reason, mapping } = base;
    const suffix = e.once ? onceName(involvedObject.uid, e.once) : randomBytes(8).toString('hex');
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: eventName(mapping, suffix), namespace },
          involvedObject,
          type,
          reason,
          message: e.message,
          source: { component: this.component },
          reportingComponent: this.component,
          reportingInstance: this.component,
          firstTimestamp: e.first,
          lastTimestamp: e.at,
          count: e.count,
        },
      });
      return 'written';
    } catch (err) {
      if (e.once && isConflict(err)) return 'conflict';
      this.logger.warn('could not record event', {
        mapping: `${namespace}/${mapping}`,
        reason,
        error: String(err),
      });
      return 'failed';
    }
  }

  /** Forgets idle series, at most once per SERIES_IDLE_MS. */
  private prune(now: number): void {
    if (now - this.prunedAt < SERIES_IDLE_MS) return;
    this.prunedAt = now;
    for (const [key, s] of this.series) if (idle(s, now)) this.series.delete(key);
  }
}

const MAX_MESSAGE = 1024;

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
