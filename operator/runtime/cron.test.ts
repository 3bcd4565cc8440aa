import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextMatch, parseSchedule, prevMatch } from './cron.js';

/** Wall-clock minutes are minutes since the epoch of a wall-clock time read as UTC. */
const w = (iso: string): number => Date.parse(`${iso}Z`) / 60_000;
const iso = (m: number | undefined): string | undefined =>
  m === undefined ? undefined : new Date(m * 60_000).toISOString().slice(0, 16);
const FAR = w('2100-01-01T00:00');

test('nextMatch: the same minute when it matches, else the next one, field by field', () => {
  const s = parseSchedule('*/15 8-10/2 1,15 JAN-MAR sun');
  assert.equal(iso(nextMatch(s, w('2026-01-01T08:15'), FAR)), '2026-01-01T08:15');
  assert.equal(iso(nextMatch(s, w('2026-01-01T08:16'), FAR)), '2026-01-01T08:30');
  assert.equal(iso(nextMatch(s, w('2026-01-01T08:46'), FAR)), '2026-01-01T10:00');
  assert.equal(iso(nextMatch(s, w('2026-01-01T10:46'), FAR)), '2026-01-04T08:00'); // a Sunday
  assert.equal(iso(nextMatch(s, w('2026-03-29T10:46'), FAR)), '2027-01-01T08:00');
});

test('prevMatch: the same minute when it matches, else the previous one', () => {
  const s = parseSchedule('*/15 8-10/2 1,15 JAN-MAR sun');
  assert.equal(iso(prevMatch(s, w('2026-01-01T08:15'), 0)), '2026-01-01T08:15');
  assert.equal(iso(prevMatch(s, w('2026-01-01T08:14'), 0)), '2026-01-01T08:00');
  assert.equal(iso(prevMatch(s, w('2026-01-01T09:59'), 0)), '2026-01-01T08:45');
  assert.equal(iso(prevMatch(s, w('2026-01-04T07:59'), 0)), '2026-01-01T10:45');
  assert.equal(iso(prevMatch(s, w('2026-12-31T23:59'), 0)), '2026-03-29T10:45');
});

test('a schedule that never matches (30 February) ends at the limit, in a few hundred steps', () => {
  const never = parseSchedule('0 0 30 2 *');
  assert.equal(nextMatch(never, w('2026-01-01T00:00'), w('2030-01-01T00:00')), undefined);
  assert.equal(prevMatch(never, w('2030-01-01T00:00'), w('2026-01-01T00:00')), undefined);
  assert.equal(iso(nextMatch(parseSchedule('0 0 29 2 *'), w('2026-12-02T00:00'), FAR)), '2028-02-29T00:00');
});

test('limits: nextMatch looks before `limit` only, prevMatch not before `floor`', () => {
  const daily = parseSchedule('0 2 * * *');
  assert.equal(nextMatch(daily, w('2026-01-01T03:00'), w('2026-01-02T02:00')), undefined);
  assert.equal(iso(nextMatch(daily, w('2026-01-01T03:00'), w('2026-01-02T02:01'))), '2026-01-02T02:00');
  assert.equal(prevMatch(daily, w('2026-01-02T01:59'), w('2026-01-01T02:01')), undefined);
  assert.equal(iso(prevMatch(daily, w('2026-01-02T01:59'), w('2026-01-01T02:00'))), '2026-01-01T02:00');
});

test('day fields: one with a `*` element (`*/1`, `*/2`, `1,*/10`) is unrestricted for the either-day rule, as in Kubernetes CronJob', () => {
  const next = (text: string, from: string): string | undefined =>
    iso(nextMatch(parseSchedule(text), w(from), FAR));
  // 2026-12-01 is a Tuesday. Both restricted: a day matching either.
  assert.equal(next('0 3 1 * MON', '2026-12-02T00:00'), '2026-12-07T03:00');
  // A starred day field restricts nothing by itself: the other one decides (both must match).
  assert.equal(next('0 3 */1 * MON', '2026-12-01T04:00'), '2026-12-07T03:00');
  assert.equal(next('0 3 1 * */1', '2026-12-02T00:00'), '2027-01-01T03:00');
  assert.equal(next('0 3 */2 * MON', '2026-12-01T00:00'), '2026-12-07T03:00');
  assert.equal(next('0 3 1,*/10 * MON', '2026-12-01T00:00'), '2026-12-21T03:00');
  const s = parseSchedule('0 3 */2 * 1-5');
  assert.deepEqual([s.daysRestricted, s.weekdaysRestricted], [false, true]);
});
