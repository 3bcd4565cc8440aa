import type { RestartWindow } from '../../resources/types.js';
import { parseSchedule, type Schedule } from '../runtime/cron.js';
import { earliestStart, latestStart } from '../runtime/cron-starts.js';
import { parseDuration } from '../runtime/duration.js';
import { ZoneTimeline } from '../runtime/zone-timeline.js';
import { checkTimeZone, timeZones, type TimeZones } from '../runtime/zones.js';

const MINUTE_MS = 60_000;
const DAY_MINUTES = 1440;
/** Far enough to find a window that opens on 29 February, four years on. */
const HORIZON_DAYS = 4 * 366 + 2;
/** The longest window (as the CRD's rule says). */
export const MAX_WINDOW_MS = 168 * 3_600_000;

export interface WindowVerdict {
  /** Whether some window is open at `now`. */
  open: boolean;
  /** When the next window opens (the earliest of all), if none is open now. */
  opensAt?: number;
}

/** Problems of spec.restartWindows the schema cannot judge (field ranges, the zone); empty when usable. Pure. */
export function windowProblems(windows: RestartWindow[] | undefined): string[] {
  return (windows ?? []).flatMap((w, i) => {
    const at = `spec.restartWindows[${i}]`;
    const problems: string[] = [];
    for (const check of [
      () => parseSchedule(w.schedule),
      () => checkTimeZone(w.timeZone ?? 'UTC'),
      () => {
        const ms = parseDuration(w.duration);
        if (ms <= 0 || ms > MAX_WINDOW_MS) throw new Error('duration must be more than 0s and at most 168h');
      },
    ]) {
      try {
        check();
      } catch (err) {
        problems.push(`${at}: ${(err as Error).message}`);
      }
    }
    return problems;
  });
}

interface Window {
  schedule: Schedule;
  durationMs: number;
  timeline: ZoneTimeline;
}

/** The windows parsed, each with its zone's offsets (one timeline per canonical zone, shared). */
function parse(windows: RestartWindow[], zones: TimeZones): Window[] {
  const timelines = new Map<string, ZoneTimeline>();
  return windows.map((w) => {
    const zone = zones.canonical(w.timeZone ?? 'UTC');
    const timeline = timelines.get(zone) ?? new ZoneTimeline(zones, zone);
    timelines.set(zone, timeline);
    return { schedule: parseSchedule(w.schedule), durationMs: parseDuration(w.duration), timeline };
  });
}

/** Whether a start of `w` lies in (now − duration, now]: its latest start is all that matters. */
function isOpen(w: Window, now: number): boolean {
  const lo = Math.floor((now - w.durationMs) / MINUTE_MS) + 1;
  return latestStart(w.schedule, w.timeline, lo, Math.floor(now / MINUTE_MS)) !== undefined;
}

/** When `w` next opens after `now` (ms), within four years of today in its zone; undefined if never. */
function nextOpening(w: Window, now: number): number | undefined {
  const nowMinute = Math.floor(now / MINUTE_MS);
  const today = Math.floor((nowMinute + w.timeline.offset(nowMinute)) / DAY_MINUTES) * DAY_MINUTES;
  const start = earliestStart(w.schedule, w.timeline, nowMinute + 1, today + HORIZON_DAYS * DAY_MINUTES);
  return start === undefined ? undefined : start * MINUTE_MS;
}

/**
 * Whether a restart may happen at `now`: with no windows always; else when `now` is inside one
 * (a start of its schedule, in its time zone, plus its duration), or when the next one opens. Pure
 * but for `zones`' caches. Costs a few dozen zone offset readings per window, whatever the schedule
 * and duration: it never walks the starts one by one (cron-starts.ts).
 */
export function windowVerdict(
  windows: RestartWindow[] | undefined,
  now: number,
  zones: TimeZones = timeZones,
): WindowVerdict {
  if (!windows?.length) return { open: true };
  const parsed = parse(windows, zones);
  if (parsed.some((w) => isOpen(w, now))) return { open: true };
  const opensAt = Math.min(...parsed.map((w) => nextOpening(w, now) ?? Number.POSITIVE_INFINITY));
  return Number.isFinite(opensAt) ? { open: false, opensAt } : { open: false };
}
