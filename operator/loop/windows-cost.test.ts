import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RestartWindow } from '../../resources/types.js';
import type { PassContext } from './pass.js';
import type { Planned } from './restart-plan.js';
import { withinWindows } from './stages/windows.js';
import { windowVerdict } from './windows.js';
import { ODD_ZONES, WORST_SCHEDULES, countIntl, transitions } from './windows-testkit.js';

/**
 * What a tenant's restart windows cost a pass, counted in Intl calls (formatting one instant in a
 * zone is the unit of work; ~5 µs each): with every field at its CRD bound — 16 windows, the widest
 * schedules, 168h, zones with odd offsets and DST — an evaluation stays within a few dozen calls per
 * window. Counts, not times: speed belongs to the bench.
 */

/** The CRD's bounds: maxItems 16, duration more than 0s and at most 168h, schedule at most 128 characters. */
const MAX_WINDOWS = 16;
const MAX_DURATION = '168h';
const MIN_DURATION = '1ms';
/** Formatting calls one window may cost in one evaluation, whatever its fields. */
const PER_WINDOW = 64;

const SCHEDULES = [...WORST_SCHEDULES, '59 23 31 12 *', '*/1 */1 1-31 1-12 0-7'];

const windowsOf = (schedule: string, zones: string[], duration = MAX_DURATION): RestartWindow[] =>
  Array.from({ length: MAX_WINDOWS }, (_, i) => ({ schedule, duration, timeZone: zones[i % zones.length] }));

/** Instants to evaluate at: ordinary ones, and minutes around each odd zone's DST changes in 2026–27. */
function instants(): number[] {
  const from = Date.UTC(2026, 0, 1) / 60_000;
  const around = ODD_ZONES.slice(0, 8).flatMap((z) =>
    transitions(z, from, from + 2 * 525_600).flatMap((t) => [t - 61, t - 1, t, t + 30, t + 24 * 60]),
  );
  return [Date.UTC(2026, 11, 2, 12, 34, 56) / 60_000, from + 90_000, ...around].map((m) => m * 60_000);
}

test('schedules at the CRD bound: the longest schedule is 128 characters', () => {
  assert.equal(SCHEDULES[1].length, 128);
});

for (const duration of [MAX_DURATION, MIN_DURATION])
  test(`16 windows of ${duration}, each in its own odd zone: a few dozen Intl calls per window, however wide the schedule`, () => {
    const at = instants();
    windowVerdict(windowsOf('0 0 29 2 *', ODD_ZONES), at[0]); // formatters built once per process
    for (const schedule of SCHEDULES) {
      const windows = windowsOf(schedule, ODD_ZONES, duration);
      let worst = 0;
      for (const now of at) {
        const { calls } = countIntl(() => windowVerdict(windows, now));
        assert.equal(calls.formatters, 0, `${schedule}: no formatter built for a zone seen before`);
        worst = Math.max(worst, calls.formats);
      }
      assert.ok(
        worst <= MAX_WINDOWS * PER_WINDOW,
        `"${schedule}" × ${MAX_WINDOWS} windows of ${duration}: ${worst} formatting calls in one evaluation, at most ${MAX_WINDOWS * PER_WINDOW}`,
      );
    }
  });

test('16 windows in one zone share its offsets: the cost of one window', () => {
  const windows = windowsOf('* * * * *', ['Australia/Lord_Howe']);
  for (const now of instants()) {
    const { calls } = countIntl(() => windowVerdict(windows, now));
    assert.ok(
      calls.formats <= PER_WINDOW,
      `${calls.formats} formatting calls at ${new Date(now).toISOString()}`,
    );
  }
});

test('a pass with no restart to defer reads no window', () => {
  const ctx = {
    now: new Date(Date.UTC(2026, 11, 2)),
    m: { spec: { restartWindows: windowsOf('0 0 29 2 *', ODD_ZONES) } },
  } as unknown as PassContext;
  const plan = [{ action: 'current' }, { action: 'pending', waitMs: 1000 }, { action: 'held' }] as Planned[];
  const { result, calls } = countIntl(() => withinWindows(ctx, plan));
  assert.equal(result, plan);
  assert.deepEqual(calls, { formatters: 0, formats: 0 });
  // With a restart to defer, the windows are read and the restart waits.
  const deferred = countIntl(() => withinWindows(ctx, [{ action: 'restart' }] as Planned[]));
  assert.ok(deferred.calls.formats > 0);
  assert.equal(deferred.result[0].action, 'pending');
});
