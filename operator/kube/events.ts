import type { CoreV1Api } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { API_VERSION, KIND, type Mapping } from '../../resources/types.js';
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
  RotationHalted: 'RotationHalted',
  RotationReverted: 'RotationReverted',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

/** Writes core/v1 Events about a mapping. A failed Event is logged, never fails a reconcile. */
export class EventRecorder {
  constructor(
    private readonly core: CoreV1Api,
    private readonly component: string,
    private readonly logger: Logger,
  ) {}

  async record(
    mapping: Mapping,
    type: 'Normal' | 'Warning',
    reason: EventReason,
    message: string,
  ): Promise<void> {
    const { name, namespace, uid, resourceVersion } = mapping.metadata;
    const now = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace },
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
    } catch (err) {
      this.logger.warn('could not record event', {
        mapping: `${namespace}/${name}`,
        reason,
        error: String(err),
      });
    }
  }
}
