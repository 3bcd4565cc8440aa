import type { RestartWindow } from '../../resources/types.js';
import { checkTimeZone, parseSchedule, startsFrom } from '../runtime/cron.js';
import { parseDuration } from '../runtime/duration.js';

const DAY_MS = 86_400_000;
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

/**
 * Whether a restart may happen at `now`: with no windows always; else when `now` is inside one
 * (a start of its schedule, in its time zone, plus its duration), or when the next one opens. Pure.
 */
export function windowVerdict(windows: RestartWindow[] | undefined, now: number): WindowVerdict {
  if (!windows?.length) return { open: true };
  let opensAt = Number.POSITIVE_INFINITY;
  for (const w of windows) {
    const schedule = parseSchedule(w.schedule);
    const duration = parseDuration(w.duration);
    const from = now - duration - DAY_MS;
    for (const start of startsFrom(schedule, w.timeZone ?? 'UTC', from, HORIZON_DAYS)) {
      if (start <= now && now < start + duration) return { open: true };
      if (start > now) {
        opensAt = Math.min(opensAt, start);
        break;
      }
    }
  }
  return Number.isFinite(opensAt) ? { open: false, opensAt } : { open: false };
}
