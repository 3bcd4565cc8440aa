import assert from 'node:assert/strict';
import { test } from 'node:test';
import { windowProblems, windowVerdict } from '../loop/windows.js';
import { Rng } from '../loop/windows-testkit.js';
import { Lru, TimeZones, timeZones } from './zones.js';

const at = Date.UTC(2026, 11, 2, 12);

/** `zone` with each letter's case flipped at random: the same zone to Intl. */
function respell(zone: string, r: Rng): string {
  return [...zone].map((c) => (r.next() < 0.5 ? c.toLowerCase() : c.toUpperCase())).join('');
}

test('case variants and aliases of one zone share one formatter', () => {
  const zones = new TimeZones({ names: 16, formatters: 4 });
  for (const z of ['Europe/Berlin', 'europe/berlin', 'EUROPE/BERLIN', 'eUrOpE/BeRlIn'])
    assert.equal(zones.canonical(z), 'Europe/Berlin');
  // Links name the zone they point to (Asia/Calcutta and Asia/Kolkata are one zone; so are GMT and UTC).
  assert.equal(zones.canonical('Asia/Kolkata'), zones.canonical('asia/calcutta'));
  assert.equal(zones.canonical('Etc/GMT'), zones.canonical('utc'));
  const spellings = [
    'Europe/Berlin',
    'europe/berlin',
    'Asia/Kolkata',
    'ASIA/KOLKATA',
    'Asia/Calcutta',
    'UTC',
  ];
  const windows = (names: string[]) =>
    names.map((timeZone) => ({ schedule: '0 2 * * *', duration: '1h', timeZone }));
  windowVerdict(windows(spellings), at, zones);
  // One formatter per zone: Europe/Berlin, Asia/Calcutta, UTC.
  assert.equal(zones.sizes.formatters, 3);
  // A spelling seen before, in any case, builds nothing more.
  const built = zones.counts.formatters;
  windowVerdict(windows([...spellings, 'EUROPE/berlin', 'asia/kolkata', 'etc/gmt', 'Utc']), at, zones);
  assert.deepEqual([zones.sizes.formatters, zones.counts.formatters], [3, built]);
});

/** Zones and some links (other names of a zone, which Intl resolves only by building a formatter). */
const NAMES = [
  ...Intl.supportedValuesOf('timeZone'),
  ...['Asia/Kolkata', 'US/Eastern', 'US/Pacific', 'Etc/GMT', 'GMT', 'Zulu', 'EST5EDT', 'CST6CDT'],
  ...['America/Buenos_Aires', 'Europe/Kyiv', 'Asia/Ho_Chi_Minh', 'Asia/Kathmandu', 'Pacific/Pohnpei'],
  ...['Asia/Yangon', 'America/Nuuk', 'Atlantic/Faroe', 'Universal', 'Etc/Zulu', 'Greenwich'],
];

test('thousands of distinct spellings cannot grow the caches past their bounds', () => {
  const zones = new TimeZones({ names: 8, formatters: 16 });
  const r = new Rng(29);
  const all = [...NAMES, ...NAMES.slice(-19), ...NAMES.slice(-19)];
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const spelling = respell(r.pick(all), r);
    seen.add(spelling);
    windowVerdict([{ schedule: '* * * * *', duration: '1m', timeZone: spelling }], at, zones);
    assert.ok(zones.sizes.names <= 8 && zones.sizes.formatters <= 16, JSON.stringify(zones.sizes));
  }
  assert.ok(seen.size > 4000, `${seen.size} distinct spellings`);
  assert.deepEqual(zones.sizes, { names: 8, formatters: 16 }, 'both caches were filled');
});

test("the process's cache, which the spec check and every pass use, is bounded too", () => {
  const r = new Rng(2);
  for (let i = 0; i < 3000; i++) {
    const w = [{ schedule: '0 2 * * *', duration: '1h', timeZone: respell(r.pick(NAMES), r) }];
    assert.deepEqual(windowProblems(w), []);
    windowVerdict(w, at);
  }
  // At most one formatter per zone and one name per link, however many spellings.
  const zonesNamed = new Set(NAMES.map((z) => new TimeZones().canonical(z))).size;
  assert.ok(timeZones.sizes.formatters <= zonesNamed, `${timeZones.sizes.formatters} > ${zonesNamed}`);
  assert.ok(timeZones.sizes.names <= NAMES.length - Intl.supportedValuesOf('timeZone').length + 2);
});

test('an unknown zone is refused, and no spelling of it is kept', () => {
  const zones = new TimeZones();
  assert.throws(
    () => zones.canonical('Mars/Olympus'),
    /time zone "Mars\/Olympus" is not an IANA time zone name/,
  );
  assert.deepEqual(zones.sizes, { names: 0, formatters: 0 });
});

test('Lru: reading refreshes an entry; past capacity the least recently used goes', () => {
  const lru = new Lru<string, number>(2);
  lru.set('a', 1);
  lru.set('b', 2);
  assert.equal(lru.get('a'), 1);
  lru.set('c', 3);
  assert.deepEqual([lru.get('b'), lru.get('a'), lru.get('c'), lru.size], [undefined, 1, 3, 2]);
});
