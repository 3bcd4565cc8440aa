/**
 * Five-field cron schedules (minute hour day-of-month month day-of-week) evaluated in an IANA time
 * zone, for restart windows. The grammar is the usual one: `*`, numbers, ranges `a-b`, lists `a,b`,
 * steps `*\/n` and `a-b/n`, month and weekday names (JAN, MON), 0 or 7 for Sunday; when both
 * day-of-month and day-of-week are restricted, a day matching either matches, else one matching both.
 * A day field is unrestricted when one of its elements is `*` (with or without a step: `*`, `*\/2`),
 * as in Kubernetes CronJob (robfig/cron's star bit) and, for a field starting with `*`, Vixie cron.
 * This module matches wall-clock minutes only; turning them into instants of a time zone (where a DST
 * change skips or repeats them) is cron-starts.ts's. Pure (no clock of its own).
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
  /** Whether day-of-month / day-of-week were restricted (no element `*` or `*\/n`). */
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

/** Whether an element of the field is `*`, stepped or not (robfig/cron's star bit). */
const starred = (text: string): boolean => text.split(',').some((part) => part.split('/')[0] === '*');

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
    daysRestricted: !starred(parts[2]),
    weekdaysRestricted: !starred(parts[4]),
  };
}

/** Minutes since the epoch of 00:00 of a wall-clock day read as UTC (Date.UTC normalises overflows). */
const dayOf = (y: number, mo: number, d: number): number => Date.UTC(y, mo - 1, d) / 60_000;

function fieldsOf(w: number): { y: number; mo: number; d: number; h: number; mi: number } {
  const t = new Date(w * 60_000);
  return {
    y: t.getUTCFullYear(),
    mo: t.getUTCMonth() + 1,
    d: t.getUTCDate(),
    h: t.getUTCHours(),
    mi: t.getUTCMinutes(),
  };
}

function dayMatches(s: Schedule, y: number, mo: number, d: number): boolean {
  if (!s.months.has(mo)) return false;
  const dom = s.days.has(d);
  const dow = s.weekdays.has(new Date(Date.UTC(y, mo - 1, d)).getUTCDay());
  if (s.daysRestricted && s.weekdaysRestricted) return dom || dow;
  return dom && dow;
}

/** The first member of `set` from `v` up (`step` 1) or down (`step` -1) to `end`, if any. */
function seek(set: Set<number>, v: number, end: number, step: 1 | -1): number | undefined {
  for (let i = v; step > 0 ? i <= end : i >= end; i += step) if (set.has(i)) return i;
  return undefined;
}

/** `w` if it matches `s`, else a later wall-clock minute with no match between (field by field). */
function forward(s: Schedule, w: number): number {
  const { y, mo, d, h, mi } = fieldsOf(w);
  if (!s.months.has(mo)) return dayOf(y, mo + 1, 1);
  if (!dayMatches(s, y, mo, d)) return dayOf(y, mo, d + 1);
  const hour = seek(s.hours, h, 23, 1);
  if (hour === undefined) return dayOf(y, mo, d + 1);
  if (hour > h) return dayOf(y, mo, d) + hour * 60;
  const minute = seek(s.minutes, mi, 59, 1);
  return minute === undefined ? dayOf(y, mo, d) + (h + 1) * 60 : w + minute - mi;
}

/** `w` if it matches `s`, else an earlier wall-clock minute with no match between. */
function backward(s: Schedule, w: number): number {
  const { y, mo, d, h, mi } = fieldsOf(w);
  if (!s.months.has(mo)) return dayOf(y, mo, 1) - 1;
  if (!dayMatches(s, y, mo, d)) return dayOf(y, mo, d) - 1;
  const hour = seek(s.hours, h, 0, -1);
  if (hour === undefined) return dayOf(y, mo, d) - 1;
  if (hour < h) return dayOf(y, mo, d) + hour * 60 + 59;
  const minute = seek(s.minutes, mi, 0, -1);
  return minute === undefined ? dayOf(y, mo, d) + h * 60 - 1 : w - (mi - minute);
}

/**
 * The first wall-clock minute at or after `w` (minutes since the epoch of a wall-clock time read as
 * UTC) that `s` matches, before `limit`; undefined if none. Arithmetic only (no time zone): it jumps
 * month by month, day by day, hour by hour, so a search of years costs a few hundred steps at most.
 */
export function nextMatch(s: Schedule, w: number, limit: number): number | undefined {
  for (let at = w; at < limit;) {
    const next = forward(s, at);
    if (next === at) return at;
    at = next;
  }
  return undefined;
}

/** The last wall-clock minute at or before `w` that `s` matches, not before `floor`; undefined if none. */
export function prevMatch(s: Schedule, w: number, floor: number): number | undefined {
  for (let at = w; at >= floor;) {
    const prev = backward(s, at);
    if (prev === at) return at;
    at = prev;
  }
  return undefined;
}
