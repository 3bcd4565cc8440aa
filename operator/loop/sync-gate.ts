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
  /** ExternalSecrets to annotate now with force-sync = `forceSyncValue`. */
  annotate: string[];
  forceSyncValue: number;
  /** ExternalSecrets that have not synced since the request. */
  unsynced: string[];
  /** Restart now: every ExternalSecret synced, or the timeout passed and onTimeout says Restart. */
  restart: boolean;
  timedOut: boolean;
  /** While waiting: when to look again (the next second, to annotate; else the timeout). */
  waitMs?: number;
}

const second = (ms: number): number => Math.floor(ms / 1000);

/**
 * Whether an ExternalSecret has synced since the request: Ready, with a refresh that started in a
 * later second than the request. ESO records refreshTime in whole seconds, so a sync in the
 * request's own second may have read AWS just before the change: it does not count.
 */
export function syncedSince(es: ExternalSecretInfo, requestedAtMs: number): boolean {
  const refreshed = Date.parse(es.refreshTime ?? '');
  return es.ready && !Number.isNaN(refreshed) && second(refreshed) > second(requestedAtMs);
}

/**
 * What a restart due for `versionId` does about the ExternalSecrets its workload reads: ask them to
 * sync, wait until each has, and past the timeout restart anyway or keep waiting as the mapping
 * says. The force-sync is written from the second after the request on (ESO syncs within
 * milliseconds of it, and only a refresh in a later second is told apart from one before the
 * change), once per request: a value already past the request's second — ours or a user's — is
 * not written again. Pure.
 */
export function syncGate(input: SyncGateInput): SyncGate {
  const request =
    input.previous?.versionId === input.versionId
      ? input.previous
      : { versionId: input.versionId, requestedAt: new Date(input.now).toISOString() };
  const at = Date.parse(request.requestedAt);
  const unsynced = input.externalSecrets.filter((es) => !syncedSince(es, at)).map((es) => es.name);
  const mayAsk = second(input.now) > second(at);
  const annotate = mayAsk
    ? input.externalSecrets
        .filter((es) => unsynced.includes(es.name) && !(Number(es.forceSync) > second(at)))
        .map((es) => es.name)
    : [];
  const left = at + input.timeoutMs - input.now;
  const timedOut = unsynced.length > 0 && left <= 0;
  const untilAsk = mayAsk ? Infinity : 1000 - (input.now % 1000);
  return {
    request,
    annotate,
    forceSyncValue: second(input.now),
    unsynced,
    timedOut,
    restart: unsynced.length === 0 || (timedOut && input.onTimeout === 'Restart'),
    waitMs: unsynced.length > 0 && !timedOut ? Math.min(left, untilAsk) : undefined,
  };
}
