import type { TimeZones } from './zones.js';

/** Minutes per chunk: offsets are sampled at multiples of a day (UTC) and bisected where they differ. */
export const CHUNK = 1440;

/**
 * A stretch of instants (minutes since the epoch, `from` to `to` inclusive) over which a zone's
 * offset is constant: the wall clock reads `m + offset` at minute m. `maxBefore` is the latest
 * wall-clock minute read at any instant before `from`: a wall-clock minute at or below it is a
 * repeat (a DST fall-back), not a first occurrence.
 */
export interface Segment {
  from: number;
  to: number;
  offset: number;
  maxBefore: number;
}

/** The first minute of the chunk holding minute `m`: chunks are (g, g + CHUNK] for g a multiple of CHUNK. */
export const chunkStart = (m: number): number => Math.floor((m - 1) / CHUNK) * CHUNK + 1;
/** The last minute of the chunk holding minute `m`. */
export const chunkEnd = (m: number): number => chunkStart(m) + CHUNK - 1;

/**
 * One zone's offsets, read through `zones` and remembered for one evaluation (windows of the same
 * zone share them). The offset is sampled at day boundaries (UTC) and bisected to the minute where two
 * samples differ: one change of offset per day at most is assumed, which every zone's rules since
 * 1970 satisfy.
 */
export class ZoneTimeline {
  private readonly memo = new Map<number, number>();

  constructor(
    private readonly zones: TimeZones,
    readonly zone: string,
  ) {}

  /** The offset, in minutes, in force at minute `m`. */
  offset(m: number): number {
    let o = this.memo.get(m);
    if (o === undefined) {
      o = this.zones.wallMinute(this.zone, m) - m;
      this.memo.set(m, o);
    }
    return o;
  }

  /**
   * The segments covering minutes `from`..`to`, in order. Looks two days further back for
   * `maxBefore`: no zone's offset (−12 h to +14 h) lets an earlier reading reach `from`'s.
   */
  segments(from: number, to: number): Segment[] {
    const start = chunkStart(from) - 1 - 2 * CHUNK;
    const changes = this.changes(start, to);
    const out: Segment[] = [];
    let maxBefore = start + this.offset(start);
    let [a, offset] = [start + 1, this.offset(start)];
    for (const next of [...changes, { at: to + 1, offset: Number.NaN }]) {
      const b = next.at - 1;
      const [lo, hi] = [Math.max(a, from), Math.min(b, to)];
      if (lo <= hi) out.push({ from: lo, to: hi, offset, maxBefore: Math.max(maxBefore, lo - 1 + offset) });
      maxBefore = Math.max(maxBefore, b + offset);
      [a, offset] = [next.at, next.offset];
    }
    return out;
  }

  /** The minutes in (start, to] where the offset changes, with the offset from there. */
  private changes(start: number, to: number): Array<{ at: number; offset: number }> {
    const points = [start];
    for (let g = start + CHUNK; g < to; g += CHUNK) points.push(g);
    points.push(to);
    const out: Array<{ at: number; offset: number }> = [];
    for (let i = 1; i < points.length; i++) {
      const [p, q] = [points[i - 1], points[i]];
      if (this.offset(p) !== this.offset(q)) out.push({ at: this.bisect(p, q), offset: this.offset(q) });
    }
    return out;
  }

  /** The first minute in (p, q] whose offset is q's (one change between them). */
  private bisect(p: number, q: number): number {
    const target = this.offset(q);
    let [lo, hi] = [p, q];
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.offset(mid) === target) hi = mid;
      else lo = mid;
    }
    return hi;
  }
}
