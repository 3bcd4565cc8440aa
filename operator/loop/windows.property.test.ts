import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { RestartWindow } from '../../resources/types.js';
import { parseDuration } from '../runtime/duration.js';
import { runs } from '../testing/property-runs.js';
import { windowVerdict } from './windows.js';
import { ODD_ZONES, WORST_SCHEDULES, transitions, wallAt } from './windows-testkit.js';

/**
 * Restart windows with fast-check: schedules from the whole cron grammar (lists, ranges, steps,
 * names in any case, 7 for Sunday), odd and DST zones, instants anywhere in 1995–2045 or beside one of
 * the zone's DST changes. "Open now" and "next opening" are compared with a walk of the zone's clock
 * minute by minute that matches each minute against the schedule's text by its own reading of the
 * grammar (not cron.ts). The walk looks a day ahead: a later opening is checked to be a start, and
 * the verdict to hold until it.
 */

const AHEAD = 1440;
/** How far before the window's lookback the walk starts reading the clock (DST shifts are ≤ 3 h). */
const PREROLL = 180;
const ZONES = [
  ...ODD_ZONES,
  'UTC',
  'America/New_York',
  'europe/london',
  'Asia/Calcutta',
  'Pacific/Kwajalein',
];

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
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  },
  { min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

/** One element of a field: `*`, `*\/n`, `a`, `a-b`, `a-b/n`, `a/n`, values sometimes as names. */
const elementArb = (f: Field): fc.Arbitrary<string> => {
  const name = (v: number): fc.Arbitrary<string> => {
    const n = f.names?.[v - (f.min === 1 ? 1 : 0)];
    return n
      ? fc.constantFrom(String(v), n, n.toUpperCase(), n[0].toUpperCase() + n.slice(1))
      : fc.constant(String(v));
  };
  const value = fc.integer({ min: f.min, max: f.names && f.min === 0 ? 6 : f.max }).chain(name);
  const range = fc
    .tuple(fc.integer({ min: f.min, max: f.max }), fc.integer({ min: f.min, max: f.max }))
    .map(([a, b]) => [Math.min(a, b), Math.max(a, b)]);
  const step = fc.integer({ min: 1, max: f.max + 1 });
  return fc.oneof(
    fc.constant('*'),
    step.map((n) => `*/${n}`),
    value,
    fc.integer({ min: f.min, max: f.max }).map(String),
    range.map(([a, b]) => `${a}-${b}`),
    fc.tuple(range, step).map(([[a, b], n]) => `${a}-${b}/${n}`),
    fc.tuple(fc.integer({ min: f.min, max: f.max }), step).map(([a, n]) => `${a}/${n}`),
  );
};
const fieldArb = (f: Field): fc.Arbitrary<string> =>
  fc.array(elementArb(f), { minLength: 1, maxLength: 3 }).map((es) => es.join(','));

const scheduleArb = fc.oneof(
  { weight: 9, arbitrary: fc.tuple(...FIELDS.map(fieldArb)).map((fs) => fs.join(' ')) },
  { weight: 1, arbitrary: fc.constantFrom(...WORST_SCHEDULES) },
);

/** Durations: mostly a few minutes to hours, sometimes up to the CRD's 168h, sometimes not whole minutes. */
const durationArb = fc.oneof(
  fc.integer({ min: 1, max: 180 }).map((m) => `${m}m`),
  fc.integer({ min: 1, max: 168 }).map((h) => `${h}h`),
  fc.integer({ min: 1, max: 7200 }).map((s) => `${s}s`),
  fc.constantFrom('1ms', '59999ms', '24h', '25h'),
);

const FROM_1995 = Date.UTC(1995, 0, 1) / 60_000;
const YEAR = 525_960;

/** The value of a field's element text: a number or a name. */
function valueOf(text: string, f: Field): number {
  const i = f.names?.indexOf(text.toLowerCase()) ?? -1;
  return i >= 0 ? i + f.min : Number(text);
}

/** Whether field text `text` matches `v`, read from the text (cron(5)'s grammar, apart from cron.ts). */
function fieldMatches(text: string, f: Field, v: number): boolean {
  return text.split(',').some((el) => {
    const [range, stepText] = el.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    let [lo, hi] = [f.min, f.max];
    if (range !== '*') {
      const [a, b] = range.split('-');
      lo = valueOf(a, f);
      hi = b !== undefined ? valueOf(b, f) : stepText !== undefined ? f.max : lo;
    }
    return v >= lo && v <= hi && (v - lo) % step === 0;
  });
}

/** Whether the schedule's text matches a wall-clock minute (Kubernetes CronJob's day rule). */
function scheduleMatches(schedule: string, wall: number): boolean {
  const [mi, h, dom, mo, dow] = schedule.trim().split(/\s+/);
  const t = new Date(wall * 60_000);
  const day = t.getUTCDay();
  if (!fieldMatches(mi, FIELDS[0], t.getUTCMinutes()) || !fieldMatches(h, FIELDS[1], t.getUTCHours()))
    return false;
  if (!fieldMatches(mo, FIELDS[3], t.getUTCMonth() + 1)) return false;
  const byDom = fieldMatches(dom, FIELDS[2], t.getUTCDate());
  const byDow = fieldMatches(dow, FIELDS[4], day) || (day === 0 && fieldMatches(dow, FIELDS[4], 7));
  const star = (field: string): boolean => field.split(',').some((e) => e.split('/')[0] === '*');
  return !star(dom) && !star(dow) ? byDom || byDow : byDom && byDow;
}

/** Whether minute `m` starts the window: its wall-clock time matches and was not read before. */
function startsAt(w: RestartWindow, m: number): boolean {
  const zone = w.timeZone ?? 'UTC';
  const wall = wallAt(zone, m);
  if (!scheduleMatches(w.schedule, wall)) return false;
  for (let k = m - PREROLL; k < m; k++) if (wallAt(zone, k) === wall) return false;
  return true;
}

/** The walk: open at `now`, and the first start within AHEAD minutes after it. */
function walk(w: RestartWindow, now: number): { open: boolean; next?: number } {
  const zone = w.timeZone ?? 'UTC';
  const nowMinute = Math.floor(now / 60_000);
  const lo = Math.floor((now - parseDuration(w.duration)) / 60_000) + 1;
  const seen = new Set<number>();
  let open = false;
  for (let m = lo - PREROLL; m <= nowMinute + AHEAD; m++) {
    if (m > nowMinute && open) break;
    const wall = wallAt(zone, m);
    const first = !seen.has(wall);
    seen.add(wall);
    if (!first || m < lo || !scheduleMatches(w.schedule, wall)) continue;
    if (m <= nowMinute) open = true;
    else return { open, next: m * 60_000 };
  }
  return { open };
}

function check(w: RestartWindow, now: number): void {
  const ref = walk(w, now);
  const fast = windowVerdict([w], now);
  const what = `${JSON.stringify(w)} at ${new Date(now).toISOString()}`;
  assert.equal(fast.open, ref.open, `open: ${what}`);
  if (ref.open) return;
  if (ref.next !== undefined) return assert.equal(fast.opensAt, ref.next, `next opening: ${what}`);
  if (fast.opensAt === undefined) return;
  // Beyond the walk: the opening must be a start, and the window closed until it.
  const at = fast.opensAt / 60_000;
  assert.ok(fast.opensAt > now + AHEAD * 60_000, `missed by the walk? ${what}`);
  assert.ok(startsAt(w, at), `${new Date(fast.opensAt).toISOString()} is not a start: ${what}`);
  const between = now + Math.floor((fast.opensAt - now) / 2);
  assert.deepEqual(windowVerdict([w], between), fast, `half way: ${what}`);
}

const millisArb = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 59_999 }));

test('property: open now and next opening agree with the minute-by-minute walk (1995–2045)', () => {
  const caseArb = fc.record({
    schedule: scheduleArb,
    duration: durationArb,
    timeZone: fc.constantFrom(...ZONES),
    minute: fc.integer({ min: FROM_1995, max: FROM_1995 + 50 * YEAR }),
    ms: millisArb,
  });
  fc.assert(
    fc.property(caseArb, ({ minute, ms, ...w }) => check(w, minute * 60_000 + ms)),
    runs(3401, 100),
  );
});

test('property: beside a DST change, a schedule firing at the skipped or repeated times agrees with the walk', () => {
  const caseArb = fc.record({
    w: fc.record({ schedule: scheduleArb, duration: durationArb, timeZone: fc.constantFrom(...ZONES) }),
    minute: fc.integer({ min: FROM_1995, max: FROM_1995 + 50 * YEAR }),
    which: fc.nat(),
    near: fc.integer({ min: -90, max: 90 }),
    fire: fc.constantFrom('exact', 'hour', 'every', 'keep'),
    offset: fc.integer({ min: -1500, max: 300 }),
    ms: millisArb,
  });
  fc.assert(
    fc.property(caseArb, ({ w, minute, which, near, fire, offset, ms }) => {
      const zone = w.timeZone;
      const changes = transitions(zone, minute, minute + YEAR);
      const change = changes.length ? changes[which % changes.length] : minute;
      // The schedule fires at the wall-clock time near the change (or keeps its own fields).
      const wall = new Date(wallAt(zone, change + near) * 60_000);
      const [mi, h] = [wall.getUTCMinutes(), wall.getUTCHours()];
      const fields = w.schedule.split(' ');
      const fired: Record<string, string[]> = {
        exact: [String(mi), String(h), '*', '*', '*'],
        hour: ['*', String(h), '*', '*', '*'],
        every: [`*/${(Math.abs(near) % 29) + 1}`, `${Math.max(0, h - 1)}-${h}`, '*', '*', '*'],
        keep: fields,
      };
      check({ ...w, schedule: fired[fire].join(' ') }, (change + offset) * 60_000 + ms);
    }),
    runs(3402, 100),
  );
});

test('property: several windows are open if one is, else open when the first of them opens', () => {
  const caseArb = fc.record({
    ws: fc.array(
      fc.record({ schedule: scheduleArb, duration: durationArb, timeZone: fc.constantFrom(...ZONES) }),
      {
        minLength: 2,
        maxLength: 4,
      },
    ),
    minute: fc.integer({ min: FROM_1995, max: FROM_1995 + 50 * YEAR }),
  });
  fc.assert(
    fc.property(caseArb, ({ ws, minute }) => {
      const now = minute * 60_000;
      const fast = windowVerdict(ws, now);
      const each = ws.map((w) => windowVerdict([w], now));
      assert.equal(
        fast.open,
        each.some((v) => v.open),
      );
      if (fast.open) return;
      const first = Math.min(...each.map((v) => v.opensAt ?? Number.POSITIVE_INFINITY));
      assert.equal(fast.opensAt, Number.isFinite(first) ? first : undefined);
    }),
    runs(3403, 200),
  );
});
