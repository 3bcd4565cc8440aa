import { randomUUID } from 'node:crypto';

/** The Events that are also sent to NOTIFY_WEBHOOK_URL. */
export const NOTIFIED_REASONS: readonly string[] = [
  'RotationDetected',
  'WorkloadRestarted',
  'RolloutComplete',
  'RolloutFailed',
  'RotationHalted',
  'RotationReverted',
  'SyncTimedOut',
];

export type NotifyFormat = 'cloudevents' | 'slack';

/** What one notification says: the Event, with the mapping, secret name, version and workload. Never a value. */
export interface Notification {
  id: string;
  time: string;
  type: 'Normal' | 'Warning';
  reason: string;
  namespace: string;
  mapping: string;
  secret: string;
  version?: string;
  workload?: string;
  message: string;
}

export function notification(fields: Omit<Notification, 'id' | 'time'>, now = new Date()): Notification {
  return { id: randomUUID(), time: now.toISOString(), ...fields };
}

/**
 * The POST body: a CloudEvent in structured mode (application/cloudevents+json, spec 1.0; type
 * io.secretsrotation.<Reason>), or a Slack incoming-webhook message. Pure.
 */
export function payload(n: Notification, format: NotifyFormat): { contentType: string; body: string } {
  const data = {
    reason: n.reason,
    type: n.type,
    namespace: n.namespace,
    mapping: n.mapping,
    secret: n.secret,
    ...(n.version ? { version: n.version } : {}),
    ...(n.workload ? { workload: n.workload } : {}),
    message: n.message,
  };
  if (format === 'slack') {
    const icon = n.type === 'Warning' ? ':warning:' : ':arrows_counterclockwise:';
    const where = `${n.namespace}/${n.mapping}`;
    return {
      contentType: 'application/json',
      body: JSON.stringify({ text: `${icon} *${n.reason}* ${where} (secret ${n.secret}): ${n.message}` }),
    };
  }
  return {
    contentType: 'application/cloudevents+json',
    body: JSON.stringify({
      specversion: '1.0',
      id: n.id,
      source: `/apis/secretsrotation.io/v1alpha1/namespaces/${n.namespace}/secretsrotationmappings/${n.mapping}`,
      type: `io.secretsrotation.${n.reason}`,
      subject: n.workload ?? `${n.namespace}/${n.mapping}`,
      time: n.time,
      datacontenttype: 'application/json',
      data,
    }),
  };
}
