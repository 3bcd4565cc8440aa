/** A watch that ends sooner than this with no whole event was dropped, not finished. */
export const SHORT_WATCH_MS = 1000;

/** How one watch request ended, as the informer saw it. */
export interface WatchEnd {
  lastedMs: number;
  /** Whole events received (bookmarks too). */
  events: number;
  /** Bytes of body received, whole events or not. */
  bytes: number;
}

export interface WatchBackoffLimits {
  minMs: number;
  maxMs: number;
}

/**
 * What to do after a watch ended: how long to wait before the next one, and the backoff to carry.
 * Pure.
 *
 * - It lasted, or brought a whole event: resume at once, the backoff reset.
 * - It ended at once with nothing at all (a proxy or server that drops watches): wait the backoff,
 *   then double it (client-go's "very short watch"), never a tight loop.
 * - It ended at once in the middle of its first event (bytes, no whole event): the server answered
 *   and has events to send, and the next watch replays that same event first. Wait the minimum only,
 *   and do not double: doubling there held a namespace's workload cache 60 s behind (1+2+4+…+30 s)
 *   when a few watches in a row were cut mid-event, while each wait was only putting off the very
 *   event the cache lacked. A path that always cuts at the same place costs one watch a second.
 */
export function afterWatch(
  end: WatchEnd,
  backoff: number,
  limits: WatchBackoffLimits,
): { waitMs: number; backoff: number } {
  if (end.lastedMs >= SHORT_WATCH_MS || end.events > 0) return { waitMs: 0, backoff: limits.minMs };
  if (end.bytes > 0) return { waitMs: limits.minMs, backoff };
  return { waitMs: backoff, backoff: Math.min(backoff * 2, limits.maxMs) };
}
