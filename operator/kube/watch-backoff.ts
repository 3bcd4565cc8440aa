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
  /** Cap of the backoff after watches dropped with nothing in them (and after failed watches). */
  maxMs: number;
  /** Cap of the backoff after watches cut in the middle of an event: lower, see afterWatch. */
  cutMaxMs: number;
}

/** The two backoffs an informer carries from one watch to the next. */
export interface WatchBackoff {
  /** After a watch dropped at once with nothing in it. */
  emptyMs: number;
  /** After a watch cut at once in the middle of its first event. */
  cutMs: number;
}

/** Both backoffs at their minimum: where an informer starts, and what a watch that worked resets. */
export const freshBackoff = (limits: WatchBackoffLimits): WatchBackoff => ({
  emptyMs: limits.minMs,
  cutMs: limits.minMs,
});

/** The cut-mid-event cap for a minimum backoff: three times it (1 s → 1, 2, 3, 3, … s). */
export const cutCapFor = (minMs: number): number => 3 * minMs;

/**
 * What to do after a watch ended: how long to wait before the next one, and the backoffs to carry.
 * Pure.
 *
 * - It lasted, or brought a whole event: resume at once, both backoffs reset.
 * - It ended at once with nothing at all (a proxy or server that drops watches): wait the empty
 *   backoff, then double it up to maxMs (client-go's "very short watch"), never a tight loop.
 * - It ended at once in the middle of its first event (bytes, no whole event): the server answered
 *   and has events to send, and the next watch replays that same event first, so each wait only puts
 *   off the very event the cache lacks. Its own backoff doubles too, from the minimum, but only up to
 *   cutMaxMs: the full ladder (1+2+4+…+30 s) held a namespace's workload cache a minute behind after
 *   a few cuts in a row, while a flat minimum let a path that always cuts mid-event cost one watch a
 *   second for ever. Neither backoff moves the other.
 */
export function afterWatch(
  end: WatchEnd,
  backoff: WatchBackoff,
  limits: WatchBackoffLimits,
): { waitMs: number; backoff: WatchBackoff } {
  if (end.lastedMs >= SHORT_WATCH_MS || end.events > 0) return { waitMs: 0, backoff: freshBackoff(limits) };
  if (end.bytes > 0)
    return {
      waitMs: backoff.cutMs,
      backoff: { ...backoff, cutMs: Math.min(backoff.cutMs * 2, limits.cutMaxMs) },
    };
  return {
    waitMs: backoff.emptyMs,
    backoff: { ...backoff, emptyMs: Math.min(backoff.emptyMs * 2, limits.maxMs) },
  };
}
