/**
 * For the restart-window tests and the bench: a seeded random source, a counter of Intl calls, and
 * a brute-force reference that walks a zone's clock minute by minute. Not used by the operator.
 */
import type { RestartWindow } from '../../resources/types.js';
import { parseSchedule, type Schedule } from '../runtime/cron.js';
import { parseDuration } from '../runtime/duration.js';

export { Rng } from '../../e2e/chaos/rng.js';

/** Zones with odd offsets, DST rules or none: the windows a tenant may choose, at their worst. */
export const ODD_ZONES = [
  'Asia/Kathmandu',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'America/St_Johns',
  'Europe/Berlin',
  'America/Santiago',
  'Africa/Casablanca',
  'Antarctica/Troll',
  'America/Havana',
  'Asia/Gaza',
  'Pacific/Kiritimati',
  'Etc/GMT+12',
  'Australia/Adelaide',
  'America/Nuuk',
  'Asia/Tehran',
  'Pacific/Apia',
];

/** Schedules at their worst: every minute, the longest the CRD allows, in the DST hours, and the rarest. */
export const WORST_SCHEDULES = [
  '* * * * *',
  // 128 characters: minutes 0 to 42 spelled out, in the small hours (where DST changes are).
  `${Array.from({ length: 43 }, (_, i) => i).join(',')} 0-3 * * *`,
  '30 2 * * *',
  '0 0 29 2 *',
  '0 0 31 2 *',
];

/** Intl calls made while `run` ran: formatters built, instants formatted. */
export interface IntlCalls {
  formatters: number;
  formats: number;
}

/**
 * Runs `run` with Intl.DateTimeFormat wrapped so that every formatter built and every instant
 * formatted is counted, whoever does it (the code under test needs no hook); restores it after.
 */
export function countIntl<T>(run: () => T): { result: T; calls: IntlCalls } {
  const calls: IntlCalls = { formatters: 0, formats: 0 };
  const intl = Intl as unknown as { DateTimeFormat: typeof Intl.DateTimeFormat };
  const original = intl.DateTimeFormat;
  const proto = original.prototype;
  const formatToParts = Object.getOwnPropertyDescriptor(proto, 'formatToParts') as PropertyDescriptor;
  const format = Object.getOwnPropertyDescriptor(proto, 'format') as PropertyDescriptor;
  intl.DateTimeFormat = new Proxy(original, {
    construct(target, args: unknown[]) {
      calls.formatters++;
      return Reflect.construct(target, args) as object;
    },
  });
  Object.defineProperty(proto, 'formatToParts', {
    ...formatToParts,
    value(this: Intl.DateTimeFormat, date?: number | Date) {
      calls.formats++;
      return (formatToParts.value as Intl.DateTimeFormat['formatToParts']).call(this, date);
    },
  });
  Object.defineProperty(proto, 'format', {
    ...format,
    get(this: Intl.DateTimeFormat) {
      const bound = (format.get as () => Intl.DateTimeFormat['format']).call(this);
      return (date?: number | Date) => {
        calls.formats++;
        return bound(date);
      };
    },
  });
  try {
    return { result: run(), calls };
  } finally {
    intl.DateTimeFormat = original;
    Object.defineProperty(proto, 'formatToParts', formatToParts);
    Object.defineProperty(proto, 'format', format);
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock minute (minutes since the epoch of the wall-clock time read as UTC) at minute `m`. */
export function wallAt(zone: string, m: number): number {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(zone, f);
  }
  // format() is twice as fast as formatToParts(); en-US reads "12/2/2026, 13:45".
  const [, mo, d, y, h, mi] = (
    /^(\d+)\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)$/.exec(f.format(m * 60_000)) ?? []
  ).map(Number);
  return Date.UTC(y, mo - 1, d, h, mi) / 60_000;
}

/**
 * Whether the day fields of `schedule` are both restricted, read from its text (apart from cron.ts):
 * a field with an element `*` or `*\/n` restricts nothing (Kubernetes CronJob's robfig/cron).
 */
export function eitherDay(schedule: string): boolean {
  const fields = schedule.trim().split(/\s+/);
  const star = (field: string): boolean => field.split(',').some((e) => /^\*(\/\d+)?$/.test(e));
  return !star(fields[2]) && !star(fields[4]);
}

/**
 * Whether `s` matches wall-clock minute `w`, field by field (written apart from cron.ts's search);
 * `either`: a day matching either day field matches (eitherDay), else one matching both.
 */
export function matches(s: Schedule, w: number, either: boolean): boolean {
  const t = new Date(w * 60_000);
  if (!s.months.has(t.getUTCMonth() + 1) || !s.hours.has(t.getUTCHours())) return false;
  if (!s.minutes.has(t.getUTCMinutes())) return false;
  const dom = s.days.has(t.getUTCDate());
  const dow = s.weekdays.has(t.getUTCDay());
  return either ? dom || dow : dom && dow;
}

/** How far before the window's lookback the reference starts reading the clock (DST shifts are ≤ 3 h). */
const PREROLL_MINUTES = 180;

/**
 * The brute-force answer for one window: walks every minute from before `now − duration` to
 * `aheadMinutes` after `now`, reading the zone's wall clock each minute. A start is a minute whose
 * wall-clock time the schedule matches and that the clock had not read before (so a skipped time
 * never starts, a repeated one starts once). `next` is the first start after `now` within the walk.
 */
export function referenceWindow(
  w: RestartWindow,
  now: number,
  aheadMinutes: number,
): { open: boolean; next?: number } {
  const [s, durationMs, zone] = [parseSchedule(w.schedule), parseDuration(w.duration), w.timeZone ?? 'UTC'];
  const either = eitherDay(w.schedule);
  const nowMinute = Math.floor(now / 60_000);
  const lo = Math.floor((now - durationMs) / 60_000) + 1;
  const seen = new Set<number>();
  let open = false;
  for (let m = lo - PREROLL_MINUTES; m <= nowMinute + aheadMinutes; m++) {
    if (m > nowMinute && open) break;
    const wall = wallAt(zone, m);
    const first = !seen.has(wall);
    seen.add(wall);
    if (!first || m < lo || !matches(s, wall, either)) continue;
    if (m <= nowMinute) open = true;
    else return { open, next: m * 60_000 };
  }
  return { open };
}

/** The minutes in [from, to) where `zone`'s offset changes (sampled every 6 h, then bisected). */
export function transitions(zone: string, from: number, to: number): number[] {
  const offset = (m: number): number => wallAt(zone, m) - m;
  const out: number[] = [];
  for (let p = from; p < to; p += 360) {
    let [lo, hi] = [p, p + 360];
    if (offset(lo) === offset(hi)) continue;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offset(mid) === offset(hi)) hi = mid;
      else lo = mid;
    }
    out.push(hi);
  }
  return out;
}
