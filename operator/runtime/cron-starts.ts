import { nextMatch, prevMatch, type Schedule } from './cron.js';
import { chunkEnd, chunkStart, type Segment, type ZoneTimeline } from './zone-timeline.js';

/**
 * The starts of a schedule in a time zone: the instants whose wall-clock minute the schedule
 * matches, read there for the first time. So a wall-clock time a DST change skips does not start
 * that day, and one it repeats starts once, at its first occurrence. Instants are minutes since the
 * epoch. Both searches jump from one matching wall-clock minute to the next (cron.ts) and read the
 * zone's offsets a day at a time (zone-timeline.ts): a schedule firing every minute and one firing
 * every four years cost alike, a few dozen offset readings at most.
 */

/** Offsets lie within −12 h and +14 h: a wall-clock minute w is read between w − 14 h and w + 12 h. */
const EAST = 14 * 60;
const WEST = 12 * 60;

/** The last start among the segment's instants, if any. */
function lastIn(s: Schedule, seg: Segment): number | undefined {
  const w = prevMatch(s, seg.to + seg.offset, Math.max(seg.from + seg.offset, seg.maxBefore + 1));
  return w === undefined ? undefined : w - seg.offset;
}

/** The first start among the segment's instants whose wall-clock minute is before `limit`, if any. */
function firstIn(s: Schedule, seg: Segment, limit: number): number | undefined {
  const from = Math.max(seg.from + seg.offset, seg.maxBefore + 1);
  const w = nextMatch(s, from, Math.min(limit, seg.to + seg.offset + 1));
  return w === undefined ? undefined : w - seg.offset;
}

/** The latest start at an instant in `lo`..`hi`, if any. */
export function latestStart(s: Schedule, tl: ZoneTimeline, lo: number, hi: number): number | undefined {
  let end = hi;
  while (end >= lo) {
    const segs = tl.segments(Math.max(lo, chunkStart(end)), end);
    for (let i = segs.length - 1; i >= 0; i--) {
      const start = lastIn(s, segs[i]);
      if (start !== undefined) return start;
    }
    // None in this day: go to the day where the previous matching wall-clock minute can be read.
    const w = prevMatch(s, segs[0].maxBefore, lo - WEST);
    if (w === undefined) return undefined;
    end = Math.min(segs[0].from - 1, chunkEnd(w + WEST));
  }
  return undefined;
}

/** The earliest start at an instant from `from` on whose wall-clock minute is before `limit`, if any. */
export function earliestStart(
  s: Schedule,
  tl: ZoneTimeline,
  from: number,
  limit: number,
): number | undefined {
  let begin = from;
  for (;;) {
    const segs = tl.segments(begin, chunkEnd(begin));
    for (const seg of segs) {
      const start = firstIn(s, seg, limit);
      if (start !== undefined) return start;
    }
    // None in this day: go to the day where the next matching wall-clock minute can first be read.
    const last = segs[segs.length - 1];
    const w = nextMatch(s, Math.max(last.maxBefore, last.to + last.offset) + 1, limit);
    if (w === undefined) return undefined;
    begin = Math.max(last.to + 1, chunkStart(w - EAST));
  }
}
