import v8 from 'node:v8';
import vm from 'node:vm';
import type { RestartWindow } from '../../resources/types.js';
import { windowVerdict } from '../../operator/loop/windows.js';
import { ODD_ZONES, Rng, WORST_SCHEDULES, transitions } from '../../operator/loop/windows-testkit.js';
import { TimeZones } from '../../operator/runtime/zones.js';

/**
 * `node dist/e2e/bench/windows.js`: what one mapping's restart windows cost a pass when the tenant
 * sets every field at its CRD bound (16 windows, each in its own zone with an odd offset or DST,
 * durations 168h and 1ms, the widest and the rarest schedules), evaluated at 400 instants, a
 * quarter of them around the zones' DST changes. Prints the time and the Intl formatting calls of one
 * evaluation, and the memory the zone caches hold at their bounds. No environment needed; ~20 s.
 * Run it with the image's node flags (`node --max-semi-space-size=1 …`), as the figure in docs/concepts.md
 * (Costs and limits) was.
 */

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
/** p50 and p99 of `samples` (inlined: measure.ts loads the environment's modules). */
function percentiles(samples: number[]): { p50: number; p99: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1] };
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(2)} MiB`;

function instants(r: Rng): number[] {
  const from = Date.UTC(2026, 0, 1) / 60_000;
  const around = ODD_ZONES.slice(0, 8).flatMap((z) =>
    transitions(z, from, from + 525_600).map((t) => t * 60_000),
  );
  return Array.from({ length: 400 }, (_, i) =>
    i % 4 === 0 && around.length
      ? r.pick(around) + r.int(-90, 90) * 60_000
      : (from + r.int(0, 2 * 525_600)) * 60_000 + r.int(0, 59_999),
  );
}

function evaluations(): void {
  const at = instants(new Rng(29));
  for (const duration of ['168h', '1ms'])
    for (const schedule of WORST_SCHEDULES) {
      const windows: RestartWindow[] = ODD_ZONES.map((timeZone) => ({ schedule, duration, timeZone }));
      const zones = new TimeZones();
      windowVerdict(windows, at[0], zones);
      const [times, calls] = [[] as number[], [] as number[]];
      for (const now of at) {
        const before = zones.counts.formats;
        const t0 = performance.now();
        windowVerdict(windows, now, zones);
        times.push(performance.now() - t0);
        calls.push(zones.counts.formats - before);
      }
      const p = percentiles(times);
      console.log(
        `16 × "${schedule.length > 20 ? `${schedule.slice(0, 17)}…` : schedule}" ${duration}`.padEnd(40),
        `p50 ${p.p50.toFixed(3)} ms, p99 ${p.p99.toFixed(3)} ms, max ${p.max.toFixed(3)} ms;`,
        `Intl formats p50 ${percentiles(calls).p50}, max ${Math.max(...calls)}`,
      );
    }
}

/**
 * The memory the zone caches hold once a formatter of every zone is in (RSS beside one zone's), and
 * what rounds of 5,000 spellings and 5,000 worst-case evaluations add after that: the first round
 * grows V8's young generation (its garbage), a second round shows what stays.
 */
function memory(): void {
  const all = Intl.supportedValuesOf('timeZone');
  const used = (): NodeJS.MemoryUsage => {
    gc();
    gc();
    return process.memoryUsage();
  };
  const zones = new TimeZones();
  const evaluate = (timeZone: string, now = Date.UTC(2026, 11, 2)): unknown =>
    windowVerdict([{ schedule: '0 0 29 2 *', duration: '168h', timeZone }], now, zones);
  evaluate('Europe/Berlin');
  const one = used();
  for (const zone of all) evaluate(zone);
  const full = used();
  const r = new Rng(2);
  const windows = ODD_ZONES.map((timeZone) => ({ schedule: '0 0 29 2 *', duration: '168h', timeZone }));
  const round = (): NodeJS.MemoryUsage => {
    for (let i = 0; i < 5000; i++)
      evaluate([...r.pick(all)].map((c) => (r.next() < 0.5 ? c.toLowerCase() : c.toUpperCase())).join(''));
    for (let i = 0; i < 5000; i++) windowVerdict(windows, Date.UTC(2026, 0, 1) + i * 3_600_000, zones);
    return used();
  };
  const [first, second] = [round(), round()];
  const delta = (a: NodeJS.MemoryUsage, b: NodeJS.MemoryUsage): string =>
    `RSS ${mib(b.rss - a.rss)}, heap used ${mib(b.heapUsed - a.heapUsed)}, reserved ${mib(b.heapTotal - a.heapTotal)}`;
  console.log(`zone caches with all ${zones.sizes.formatters} zones, beside one zone: ${delta(one, full)}`);
  console.log(`a round of 5,000 spellings and 5,000 worst-case evaluations: first ${delta(full, first)}`);
  console.log(`  second ${delta(first, second)}; caches ${JSON.stringify(zones.sizes)}`);
}

console.log(`restart windows, every field at its CRD bound (Node ${process.version})`);
evaluations();
memory();
