/**
 * Event writes that back up are merged into series. Events of one series are isomorphic
 * (events.k8s.io's rule: the same object, reason and type, and the same related object — here the
 * workload): they differ only by message. client-go's recorders drop (core/v1 spam filter) or count
 * (events/v1 series) repeats of them; this one counts them, and only those that wait: at most
 * MAX_EVENT_WRITES Events are written at once, an occurrence beyond that waits, and the occurrences
 * of a series that wait together are one Event — `count` of them, the newest message. While writes
 * are few nothing waits, and every occurrence is an Event of its own. At 50 rotations/s every
 * rotation cost three Event writes against the floor's one PATCH, queued in the API server behind
 * each other and ahead of the status writes (issue 33). Pure state, owned by one EventRecorder.
 */

/** Event writes in flight at most; an occurrence beyond them waits (and may join its series). */
export const MAX_EVENT_WRITES = 4;

/** `once` keys kept per series: enough for the retries of the last few occurrences. */
const ONCES_KEPT = 16;

/** Occurrences written as one Event at most: all their keys stay in the series' memory. */
export const MAX_MERGED = ONCES_KEPT;

/** A series with nothing waiting is forgotten this long after its last occurrence (ms). */
export const SERIES_IDLE_MS = 60_000;

/** One occurrence: its message, time and `once` key, and who learns whether it was recorded. */
export interface Occurrence {
  message: string;
  at: Date;
  once?: string;
  /** True once written (or its write failed: logged, as every failed Event); false: recorded already. */
  settle: (recorded: boolean) => void;
}

/** What the recorder remembers of a series. */
export interface Series {
  /** `once` keys this process wrote or found written (409), newest last (see EventRecorder.record). */
  onces: string[];
  /** Occurrences waiting for a write slot, oldest first. */
  waiting: Occurrence[];
  /** Occurrences being written (their write has not answered). */
  writing: Occurrence[];
  /** When its last occurrence was recorded (epoch ms). */
  seenAt: number;
}

/** The series key of an occurrence: mapping uid, type, reason, related workload. */
export const seriesKey = (uid: string, type: string, reason: string, workload: string | undefined): string =>
  `${uid}/${type}/${reason}/${workload ?? ''}`;

/** Whether `once` was recorded by this process in `s`, or waits or is being written there. Pure. */
export const known = (s: Series | undefined, once: string | undefined): boolean =>
  once !== undefined &&
  !!s &&
  (s.onces.includes(once) || [...s.waiting, ...s.writing].some((o) => o.once === once));

/** Remembers `once` in `s` (the newest ONCES_KEPT). */
export function remember(s: Series, once: string | undefined): void {
  if (once === undefined || s.onces.includes(once)) return;
  s.onces.push(once);
  if (s.onces.length > ONCES_KEPT) s.onces.shift();
}

/** Whether an occurrence is written now: a write slot is free and none of its series waits. Pure. */
export const writesNow = (s: Series | undefined, inFlight: number): boolean =>
  inFlight < MAX_EVENT_WRITES && !s?.waiting.length;

/**
 * The Event of occurrences written together: how many, the first one's time, and the newest one's
 * message, time and `once` key (its name: a second create of the newest is a 409). Pure.
 */
export function merged(occurrences: Occurrence[]): {
  count: number;
  first: Date;
  message: string;
  at: Date;
  once?: string;
} {
  const newest = occurrences[occurrences.length - 1];
  return {
    count: occurrences.length,
    first: occurrences[0].at,
    message: newest.message,
    at: newest.at,
    once: newest.once,
  };
}

/** A series with nothing waiting whose last occurrence is SERIES_IDLE_MS old: safe to forget. Pure. */
export const idle = (s: Series, now: number): boolean =>
  !s.waiting.length && now - s.seenAt >= SERIES_IDLE_MS;
