import type { OnSyncTimeout } from '../../resources/types.js';
import type { ExternalSecretInfo } from '../kube/consumption.js';

/** A force-sync request: for which secret version, and when (the rotation's detection, as this pass saw it). */
export interface SyncRequest {
  versionId: string;
  requestedAt: string;
}

export interface SyncGateInput {
  versionId: string;
  /** The request recorded by an earlier pass, if any (kept only while it is for `versionId`). */
  previous: SyncRequest | undefined;
  /** The ExternalSecrets the workload reads, as the cache has them (deleted ones are absent). */
  externalSecrets: ExternalSecretInfo[];
  now: number;
  timeoutMs: number;
  onTimeout: OnSyncTimeout;
}

export interface SyncGate {
  request: SyncRequest;
  /** ExternalSecrets to annotate with force-sync = `forceSyncValue` (not yet asked for this request). */
  annotate: string[];
  forceSyncValue: number;
  /** ExternalSecrets that have not synced since the request. */
  unsynced: string[];
  /** Restart now: every ExternalSecret synced, or the timeout passed and onTimeout says Restart. */
  restart: boolean;
  timedOut: boolean;
  /** Until the timeout, while waiting. */
  waitMs?: number;
}

const second = (ms: number): number => Math.floor(ms / 1000);

/**
 * Whether an ExternalSecret has synced since the request: Ready, with a refresh not older than the
 * request's second. ESO records refreshTime in whole seconds (the start of its sync), so a sync in
 * the request's own second counts: the AWS change it must carry happened before the rotation was
 * detected (EventBridge delivers CloudTrail events seconds to minutes after the call).
 */
export function syncedSince(es: ExternalSecretInfo, requestedAtMs: number): boolean {
  const refreshed = Date.parse(es.refreshTime ?? '');
  return es.ready && !Number.isNaN(refreshed) && second(refreshed) >= second(requestedAtMs);
}

/**
 * What a restart due for `versionId` does about the ExternalSecrets its workload reads: ask them to
 * sync (once per request), wait until each has, and past the timeout restart anyway or keep
 * waiting as the mapping says. Pure.
 */
export function syncGate(input: SyncGateInput): SyncGate {
  const request =
    input.previous?.versionId === input.versionId
      ? input.previous
      : { versionId: input.versionId, requestedAt: new Date(input.now).toISOString() };
  const at = Date.parse(request.requestedAt);
  const forceSyncValue = second(at);
  const unsynced = input.externalSecrets.filter((es) => !syncedSince(es, at)).map((es) => es.name);
  // A user's own force-sync set later than ours asks for the same thing: not overwritten.
  const annotate = input.externalSecrets
    .filter((es) => unsynced.includes(es.name) && !(Number(es.forceSync) >= forceSyncValue))
    .map((es) => es.name);
  const left = at + input.timeoutMs - input.now;
  const timedOut = unsynced.length > 0 && left <= 0;
  return {
    request,
    annotate,
    forceSyncValue,
    unsynced,
    timedOut,
    restart: unsynced.length === 0 || (timedOut && input.onTimeout === 'Restart'),
    waitMs: unsynced.length > 0 && !timedOut ? left : undefined,
  };
}
