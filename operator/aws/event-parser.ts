/**
 * Turns an SQS message body (an EventBridge event, possibly inside an SNS envelope) into what the
 * operator should do with it. Pure: no I/O. Only the fields the decision needs are required (the
 * local emulator, for one, omits `account`). The shapes are those of the fixtures beside this file (fixtures/), one per event AWS documents.
 */
export type ParsedMessage =
  /** The event may have changed the secret's current value: resolve AWSCURRENT and reconcile. */
  | {
      kind: 'candidate';
      secretId: string;
      eventKind: string;
      reason: string;
      /** When the change happened (EventBridge `time`). */
      occurredAt?: number;
      /** The version the event says became current, when it names one. */
      versionId?: string;
      /** Every name or ARN the event gives for the secret (routing matches any of them). */
      aliases?: string[];
    }
  /** A Secrets Manager event that cannot change the current value: acknowledge, restart nothing. */
  | { kind: 'ignored'; eventKind: string; reason: string; secretId?: string }
  /** Not an event this operator can ever process: dead-letter it (or delete and log). */
  | { kind: 'malformed'; reason: string };

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
/** The non-empty strings of a string or a list: an empty one names nothing, as in str(). */
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => str(x) !== undefined) : str(v) ? [v as string] : [];
const get = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((at, k) => (isObject(at) ? at[k] : undefined), o);

const CURRENT = 'AWSCURRENT';
const SOURCE = 'aws.secretsmanager';
const malformed = (reason: string): ParsedMessage => ({ kind: 'malformed', reason });

export function parseMessage(body: string): ParsedMessage {
  const event = unwrap(body);
  if (typeof event === 'string') return malformed(event);
  const source = str(event.source);
  const detailType = str(event['detail-type']);
  if (!source || !detailType || !isObject(event.detail)) {
    return malformed('not an EventBridge event (source, detail-type and detail required)');
  }
  if (source !== SOURCE) return malformed(`unexpected event source "${source}"`);
  const parsed = classify(event, detailType);
  // EventBridge's `time` (second precision) says when the change happened; the poller uses it so a
  // duplicate of an old event can reuse a DescribeSecret answer fetched after the change.
  const occurredAt = Date.parse(str(event.time) ?? '');
  return parsed.kind === 'candidate' && !Number.isNaN(occurredAt) ? { ...parsed, occurredAt } : parsed;
}

/** The event object of a body: EventBridge's JSON, or the event inside an SNS envelope; else why not. */
function unwrap(body: string): Json | string {
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    return 'body is not JSON';
  }
  if (isObject(event) && event.Type === 'Notification' && typeof event.Message === 'string') {
    try {
      event = JSON.parse(event.Message);
    } catch {
      return 'SNS envelope whose Message is not JSON';
    }
  }
  return isObject(event) ? event : 'body is not a JSON object';
}

function classify(event: Json, detailType: string): ParsedMessage {
  switch (detailType) {
    case 'Secret Label Updated':
      return parseLabelUpdated(event);
    case 'AWS API Call via CloudTrail':
      return parseApiCall(event.detail as Json);
    case 'AWS Service Event via CloudTrail':
      return parseServiceEvent(event.detail as Json);
    default:
      return { kind: 'ignored', eventKind: detailType, reason: 'detail-type carries no value change' };
  }
}

function parseLabelUpdated(event: Json): ParsedMessage {
  const detail = event.detail as Json;
  const resources = strings(event.resources);
  const secretId = resources[0] ?? str(detail.arn) ?? str(detail.name);
  if (!secretId) return malformed('Secret Label Updated without resources[0] or detail.name');
  const labels = strings(detail.labelUpdated ?? detail.labelsUpdated ?? detail.label);
  if (labels.length > 0 && !labels.includes(CURRENT)) {
    return {
      kind: 'ignored',
      eventKind: 'SecretLabelUpdated',
      secretId,
      reason: `label ${labels.join(',')} moved, not AWSCURRENT`,
    };
  }
  const versionId = str(detail.versionId);
  return {
    kind: 'candidate',
    secretId,
    eventKind: 'SecretLabelUpdated',
    reason: 'AWSCURRENT label moved',
    ...(versionId ? { versionId } : {}),
    ...aliasesOf(secretId, [...resources, str(detail.arn), str(detail.name)]),
  };
}

/** Calls that never change the current value; recognised so they are acknowledged quietly. */
const NO_VALUE_CHANGE = new Set([
  'RotateSecret',
  'CancelRotateSecret',
  'DeleteSecret',
  'TagResource',
  'UntagResource',
  'PutResourcePolicy',
  'DeleteResourcePolicy',
  'ValidateResourcePolicy',
  'ReplicateSecretToRegions',
  'RemoveRegionsFromReplication',
  'StopReplicationToReplica',
  'GetSecretValue',
  'DescribeSecret',
  'ListSecrets',
  'ListSecretVersionIds',
]);

/** The ids beside `secretId` an event gives for its secret, if any. */
function aliasesOf(secretId: string, ids: (string | undefined)[]): { aliases?: string[] } {
  const aliases = [...new Set(ids.filter((id): id is string => id !== undefined && id !== secretId))];
  return aliases.length ? { aliases } : {};
}

function apiCallSecretId(detail: Json): string | undefined {
  return (
    str(get(detail, 'requestParameters', 'secretId')) ??
    str(get(detail, 'responseElements', 'arn')) ??
    str(get(detail, 'responseElements', 'aRN')) ??
    str(get(detail, 'requestParameters', 'name'))
  );
}

function parseApiCall(detail: Json): ParsedMessage {
  const eventName = str(detail.eventName);
  if (!eventName) return malformed('CloudTrail event without detail.eventName');
  const eventSource = str(detail.eventSource);
  if (eventSource && eventSource !== 'secretsmanager.amazonaws.com') {
    return malformed(`unexpected CloudTrail eventSource "${eventSource}"`);
  }
  const secretId = apiCallSecretId(detail);
  const ignored = (reason: string): ParsedMessage => ({
    kind: 'ignored',
    eventKind: eventName,
    reason,
    secretId,
  });
  if (str(detail.errorCode)) return ignored(`the call failed (${String(detail.errorCode)})`);
  if (NO_VALUE_CHANGE.has(eventName)) return ignored('the call does not change the current value');
  const verdict = apiCallVerdict(eventName, detail);
  if (verdict.ignored) return ignored(verdict.reason);
  if (!secretId) return malformed(`${eventName} without requestParameters.secretId or responseElements.arn`);
  const versionId =
    str(get(detail, 'requestParameters', 'moveToVersionId')) ??
    str(get(detail, 'responseElements', 'versionId'));
  return {
    kind: 'candidate',
    secretId,
    eventKind: eventName,
    reason: verdict.reason,
    ...(versionId ? { versionId } : {}),
    ...aliasesOf(secretId, [
      str(get(detail, 'responseElements', 'arn')),
      str(get(detail, 'responseElements', 'aRN')),
      str(get(detail, 'requestParameters', 'name')),
      str(get(detail, 'responseElements', 'name')),
    ]),
  };
}

/** Whether a CloudTrail call can have changed the current value, and why. Pure. */
function apiCallVerdict(eventName: string, detail: Json): { ignored: boolean; reason: string } {
  switch (eventName) {
    case 'PutSecretValue': {
      const stages = strings(get(detail, 'requestParameters', 'versionStages'));
      return stages.length > 0 && !stages.includes(CURRENT)
        ? {
            ignored: true,
            reason: `new version staged as ${stages.join(',')} only: rotation still in progress`,
          }
        : { ignored: false, reason: 'new value stored as AWSCURRENT' };
    }
    case 'UpdateSecretVersionStage': {
      const stage = str(get(detail, 'requestParameters', 'versionStage'));
      const moveTo = str(get(detail, 'requestParameters', 'moveToVersionId'));
      return stage !== CURRENT || !moveTo
        ? { ignored: true, reason: `stage ${stage ?? '?'} moved, not AWSCURRENT onto a version` }
        : { ignored: false, reason: 'AWSCURRENT moved to another version' };
    }
    default: {
      const reason = VALUE_CHANGES.get(eventName);
      return reason
        ? { ignored: false, reason }
        : { ignored: true, reason: 'the call is not one that changes the value' };
    }
  }
}

/**
 * Calls that may change the value a name stands for, whatever their parameters. A name deleted and
 * created (or restored) again may stand for another secret, with another ARN and its own AWSCURRENT:
 * the mappings naming it look again, and their route follows the new ARN.
 */
const VALUE_CHANGES = new Map([
  ['UpdateSecret', 'secret updated'],
  ['CreateSecret', 'secret created under a name mappings may watch'],
  ['RestoreSecret', 'secret restored from deletion'],
]);

/** Event names the parser knows; anything else is counted as `other` (see metricEventLabel). */
const KNOWN_EVENTS = new Set([
  ...NO_VALUE_CHANGE,
  'SecretLabelUpdated',
  'PutSecretValue',
  'UpdateSecret',
  'UpdateSecretVersionStage',
  'CreateSecret',
  'RestoreSecret',
  'RotationSucceeded',
  'RotationFailed',
  'RotationStarted',
  'RotationAbandoned',
]);

/**
 * The `event` label of the signals metric: a known event name, else `other`. Event names come from
 * message text, and a metric label fed by untrusted text grows without bound. Pure.
 */
export function metricEventLabel(eventKind: string): string {
  return KNOWN_EVENTS.has(eventKind) ? eventKind : 'other';
}

function parseServiceEvent(detail: Json): ParsedMessage {
  const eventName = str(detail.eventName);
  if (!eventName) return malformed('service event without detail.eventName');
  const secretId =
    str(get(detail, 'additionalEventData', 'SecretId')) ??
    str(get(detail, 'serviceEventDetails', 'secretId'));
  if (eventName !== 'RotationSucceeded') {
    return {
      kind: 'ignored',
      eventKind: eventName,
      secretId,
      reason: 'service event without a value change',
    };
  }
  if (!secretId) return malformed('RotationSucceeded without additionalEventData.SecretId');
  return { kind: 'candidate', secretId, eventKind: eventName, reason: 'rotation finished' };
}

/** Allowance for EventBridge's second-precision `time` and for clock skew between AWS and us. */
const EVENT_TIME_MARGIN_MS = 2000;

/**
 * How recent a DescribeSecret answer must be to reflect the change a message reports: started after
 * the event occurred (plus a margin), and never later than the message's receipt. A burst of
 * duplicates of one rotation therefore costs one call per secret, not one per message.
 */
export function freshAfter(parsed: { occurredAt?: number }, receivedAt: number): number {
  return parsed.occurredAt === undefined
    ? receivedAt
    : Math.min(receivedAt, parsed.occurredAt + EVENT_TIME_MARGIN_MS);
}
