import type { CoreV1Api } from '@kubernetes/client-node';
import { createHash, randomBytes } from 'node:crypto';
import { API_VERSION, KIND, type Mapping } from '../../resources/types.js';
import { isConflict } from '../runtime/errors.js';
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
}

/** Writes core/v1 Events about a mapping. A failed Event is logged, never fails a reconcile. */
export class EventRecorder {
  constructor(
    private readonly core: CoreV1Api,
    private readonly component: string,
    private readonly logger: Logger,
  ) {}

  /**
   * `once`: the Event is about something that happens once (a revert); it is named for it, so a
   * second record — a pass retried after a lost status write, a new leader — finds it there (409)
   * and answers false: recorded already, by this process or another. Otherwise true.
   */
  async record(mapping: Mapping, event: RecordedEvent): Promise<boolean> {
    const { type, reason, message, once } = event;
    const { name, namespace, uid, resourceVersion } = mapping.metadata;
    const now = new Date();
    const suffix = once ? onceName(uid, once) : randomBytes(8).toString('hex');
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: eventName(name, suffix), namespace },
          involvedObject: { apiVersion: API_VERSION, kind: KIND, name, namespace, uid, resourceVersion },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: this.component },
          reportingComponent: this.component,
          reportingInstance: this.component,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
      return true;
    } catch (err) {
      if (once && isConflict(err)) return false;
      this.logger.warn('could not record event', {
        mapping: `${namespace}/${name}`,
        reason,
        error: String(err),
      });
      return true;
    }
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
