import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSchedule } from '../runtime/cron.js';
import { windowProblems, windowVerdict } from './windows.js';

const at = (iso: string): number => Date.parse(iso);
const iso = (t: number | undefined): string | undefined =>
  t === undefined ? undefined : new Date(t).toISOString();
const weekdayNights = [{ schedule: '0 2 * * 1-5', duration: '2h', timeZone: 'Europe/Berlin' }];

test('no windows: a restart may happen at any time', () => {
  assert.deepEqual(windowVerdict(undefined, at('2026-12-02T12:00:00Z')), { open: true });
  assert.deepEqual(windowVerdict([], at('2026-12-02T12:00:00Z')), { open: true });
});

test('inside a window (Berlin, winter: UTC+1) it is open; outside, the next start is named', () => {
  // Wednesday 2026-12-02: 02:00-04:00 Berlin = 01:00-03:00 UTC.
  assert.equal(windowVerdict(weekdayNights, at('2026-12-02T01:00:00Z')).open, true);
  assert.equal(windowVerdict(weekdayNights, at('2026-12-02T02:59:59Z')).open, true);
  const after = windowVerdict(weekdayNights, at('2026-12-02T03:00:00Z'));
  assert.deepEqual([after.open, iso(after.opensAt)], [false, '2026-12-03T01:00:00.000Z']);
  // Friday after the window: the next one is Monday's.
  assert.equal(
    iso(windowVerdict(weekdayNights, at('2026-12-04T12:00:00Z')).opensAt),
    '2026-12-07T01:00:00.000Z',
  );
});

test('summer time: the same wall-clock window is an hour earlier in UTC', () => {
  const v = windowVerdict(weekdayNights, at('2026-07-01T12:00:00Z'));
  assert.equal(iso(v.opensAt), '2026-07-02T00:00:00.000Z');
});

test('DST spring forward: a start the clock skips (02:30 on 2026-03-29 in Berlin) does not run that day', () => {
  const nightly = [{ schedule: '30 2 * * *', duration: '1m', timeZone: 'Europe/Berlin' }];
  assert.equal(iso(windowVerdict(nightly, at('2026-03-28T00:00:00Z')).opensAt), '2026-03-28T01:30:00.000Z');
  assert.equal(iso(windowVerdict(nightly, at('2026-03-28T01:31:00Z')).opensAt), '2026-03-30T00:30:00.000Z');
});

test('DST fall back: a start the clock repeats (02:30 on 2026-10-25 in Berlin) runs once, at its first occurrence', () => {
  const nightly = [{ schedule: '30 2 * * *', duration: '1m', timeZone: 'Europe/Berlin' }];
  assert.equal(iso(windowVerdict(nightly, at('2026-10-24T01:00:00Z')).opensAt), '2026-10-25T00:30:00.000Z');
  assert.equal(windowVerdict(nightly, at('2026-10-25T00:30:30Z')).open, true);
  // 01:30 UTC reads 02:30 again: no second start; the next is the day after.
  assert.equal(windowVerdict(nightly, at('2026-10-25T01:30:30Z')).open, false);
  assert.equal(iso(windowVerdict(nightly, at('2026-10-25T01:00:00Z')).opensAt), '2026-10-26T01:30:00.000Z');
});

test('a window spanning midnight and one opened the day before are found open', () => {
  const late = [{ schedule: '0 23 * * *', duration: '3h' }];
  assert.equal(windowVerdict(late, at('2026-12-02T01:30:00Z')).open, true);
  assert.equal(windowVerdict(late, at('2026-12-02T02:00:00Z')).open, false);
});

test('several windows: open if any is, else the earliest next start', () => {
  const two = [
    { schedule: '0 9 * * 6', duration: '1h' },
    { schedule: '0 20 * * *', duration: '30m', timeZone: 'America/New_York' },
  ];
  // 2026-12-02 12:00 UTC: New York is UTC-5, so 20:00 there is 01:00 UTC the next day.
  assert.equal(iso(windowVerdict(two, at('2026-12-02T12:00:00Z')).opensAt), '2026-12-03T01:00:00.000Z');
});

test('cron grammar: lists, ranges, steps, names, Sunday as 0 or 7, day-of-month OR day-of-week', () => {
  const s = parseSchedule('*/15 8-10/2 1,15 JAN-MAR sun');
  assert.deepEqual([...s.minutes], [0, 15, 30, 45]);
  assert.deepEqual([...s.hours], [8, 10]);
  assert.deepEqual([...s.months], [1, 2, 3]);
  assert.deepEqual([...parseSchedule('0 0 * * 7').weekdays], [0]);
  // The 1st and 15th, or any Sunday: 2026-01-04 is a Sunday.
  const either = [{ schedule: '0 0 1,15 * 0', duration: '1m' }];
  assert.equal(windowVerdict(either, at('2026-01-01T00:00:30Z')).open, true);
  assert.equal(iso(windowVerdict(either, at('2026-01-01T00:01:00Z')).opensAt), '2026-01-04T00:00:00.000Z');
  assert.equal(iso(windowVerdict(either, at('2026-01-04T00:01:00Z')).opensAt), '2026-01-11T00:00:00.000Z');
});

test('bad schedules, zones and durations are reported with the field that is wrong', () => {
  const problems = windowProblems([
    { schedule: '61 * * * *', duration: '1h' },
    { schedule: '0 2 * *', duration: '1h' },
    { schedule: '0 2 * * *', duration: '1h', timeZone: 'Mars/Olympus' },
    { schedule: '0 2 * * *', duration: '0s' },
    { schedule: '0 5-1 * * *', duration: '1h' },
  ]);
  assert.equal(problems.length, 5, problems.join('\n'));
  assert.match(problems[0], /restartWindows\[0\]: minute "61" is not in 0-59/);
  assert.match(problems[1], /has 4 fields, not 5/);
  assert.match(problems[2], /time zone "Mars\/Olympus" is not an IANA/);
  assert.match(problems[3], /more than 0s/);
  assert.match(problems[4], /runs backwards/);
  assert.deepEqual(windowProblems(weekdayNights), []);
});

test('a schedule that only exists on 29 February is found years ahead', () => {
  const v = windowVerdict([{ schedule: '0 0 29 2 *', duration: '1h' }], at('2026-12-02T00:00:00Z'));
  assert.equal(iso(v.opensAt), '2028-02-29T00:00:00.000Z');
});

test('a start years ahead that a DST change skips goes to the next year it exists', () => {
  // 02:30 on 29 March: skipped in Berlin in 2026 (the clocks went to 03:00), there in 2027.
  const yearly = [{ schedule: '30 2 29 3 *', duration: '1h', timeZone: 'Europe/Berlin' }];
  assert.equal(iso(windowVerdict(yearly, at('2026-03-01T00:00:00Z')).opensAt), '2027-03-29T00:30:00.000Z');
  // Sundays of March at 02:30: the last one (29 March 2026) is skipped, the next is 7 March 2027.
  const sundays = [{ schedule: '30 2 * 3 SUN', duration: '1h', timeZone: 'Europe/Berlin' }];
  assert.equal(iso(windowVerdict(sundays, at('2026-03-22T03:00:00Z')).opensAt), '2027-03-07T01:30:00.000Z');
});
