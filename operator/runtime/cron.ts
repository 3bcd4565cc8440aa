/**
 * Five-field cron schedules (minute hour day-of-month month day-of-week) evaluated in an IANA time
 * zone, for restart windows. The grammar is the usual one: `*`, numbers, ranges `a-b`, lists `a,b`,
 * steps `*\/n` and `a-b/n`, month and weekday names (JAN, MON), 0 or 7 for Sunday; when both
 * day-of-month and day-of-week are restricted, a day matching either matches (as in Vixie cron).
 * Wall-clock times that a DST change skips are not run; a time it repeats runs once, at its first
 * occurrence. Pure (no clock of its own).
 */

interface Field {
  min: number;
  max: number;
  names?: string[];
}

const FIELDS: Field[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  {
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  { min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];
const FIELD_NAMES = ['minute', 'hour', 'day of month', 'month', 'day of week'];

export interface Schedule {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  /** Whether day-of-month / day-of-week were restricted (not `*`). */
  daysRestricted: boolean;
  weekdaysRestricted: boolean;
}

function value(text: string, f: Field, name: string): number {
  const i = f.names?.indexOf(text.toUpperCase()) ?? -1;
  const n = i >= 0 ? i + (f.min === 1 ? 1 : 0) : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isNaN(n) || n < f.min || n > f.max)
    throw new Error(`${name} "${text}" is not in ${f.min}-${f.max}`);
  return n;
}

function parseField(text: string, f: Field, name: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw new Error(`${name} step "${stepText}" is not a positive integer`);
    const [lo, hi] =
      range === '*'
        ? [f.min, f.max]
        : range.includes('-')
          ? range.split('-').map((r) => value(r, f, name))
          : [value(range, f, name), stepText === undefined ? value(range, f, name) : f.max];
    if (lo > hi) throw new Error(`${name} range "${range}" runs backwards`);
    for (let n = lo; n <= hi; n += step) out.add(n);
  }
  return out;
}

/** Parses a five-field schedule; throws with the field that is wrong. */
export function parseSchedule(text: string): Schedule {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5)
    throw new Error(`schedule "${text}" has ${parts.length} fields, not 5 (minute hour day month weekday)`);
  const [minutes, hours, days, months, weekdays] = parts.map((p, i) =>
    parseField(p, FIELDS[i], FIELD_NAMES[i]),
  );
  if (weekdays.delete(7)) weekdays.add(0);
  return {
    minutes,
    hours,
    days,
    months,
    weekdays,
    daysRestricted: parts[2] !== '*',
    weekdaysRestricted: parts[4] !== '*',
  };
}

/** Throws unless `zone` is a time zone this runtime knows (IANA names, e.g. Europe/Berlin). */
export function checkTimeZone(zone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new Error(`time zone "${zone}" is not an IANA time zone name (e.g. Europe/Berlin, UTC)`);
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock fields of instant `t` in `zone`. */
function wallClock(t: number, zone: string): { y: number; mo: number; d: number; h: number; mi: number } {
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
  const parts = Object.fromEntries(f.formatToParts(t).map((p) => [p.type, Number(p.value)]));
  return { y: parts.year, mo: parts.month, d: parts.day, h: parts.hour, mi: parts.minute };
}

/**
 * The instant the wall-clock time y-mo-d h:mi has in `zone`, or undefined when a DST change skips
 * it. Of a repeated time, the first occurrence.
 */
function instantOf(
  wall: { y: number; mo: number; d: number; h: number; mi: number },
  zone: string,
): number | undefined {
  const { y, mo, d, h, mi } = wall;
  const asUtc = Date.UTC(y, mo - 1, d, h, mi);
  const candidates = new Set<number>();
  // The zone's offset lies within ±18 h: try the offsets in force around that wall time.
  for (const probe of [asUtc - 18 * 3_600_000, asUtc, asUtc + 18 * 3_600_000]) {
    const w = wallClock(probe, zone);
    const offset = Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi) - (probe - (probe % 60_000));
    candidates.add(asUtc - offset);
  }
  const hits = [...candidates].filter((t) => {
    const w = wallClock(t, zone);
    return w.y === y && w.mo === mo && w.d === d && w.h === h && w.mi === mi;
  });
  return hits.length ? Math.min(...hits) : undefined;
}

function dayMatches(s: Schedule, y: number, mo: number, d: number): boolean {
  if (!s.months.has(mo)) return false;
  const dom = s.days.has(d);
  const dow = s.weekdays.has(new Date(Date.UTC(y, mo - 1, d)).getUTCDay());
  if (s.daysRestricted && s.weekdaysRestricted) return dom || dow;
  return dom && dow;
}

/**
 * The start instants of `s` in `zone` from the local day of `from` onwards, ascending, for at most
 * `days` local days. Generated day by day, so a schedule that fires every minute costs per day, not
 * per search.
 */
export function* startsFrom(s: Schedule, zone: string, from: number, days: number): Generator<number> {
  const first = wallClock(from, zone);
  const ascending = (set: Set<number>): number[] => [...set].sort((a, b) => a - b);
  const [hours, minutes] = [ascending(s.hours), ascending(s.minutes)];
  for (let i = 0; i < days; i++) {
    const day = new Date(Date.UTC(first.y, first.mo - 1, first.d + i));
    const [y, mo, d] = [day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate()];
    if (!dayMatches(s, y, mo, d)) continue;
    for (const h of hours)
      for (const mi of minutes) {
        const t = instantOf({ y, mo, d, h, mi }, zone);
        if (t !== undefined) yield t;
      }
  }
}
