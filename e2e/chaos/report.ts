import type { LatencyVerdict, RssVerdict } from './health.js';
import type { Verdict } from './ledger.js';
import type { StageVerdict } from './stage-ledger.js';
import type { TenancyVerdict } from './tenancy-ledger.js';
import type { ChaosTimeline } from './timeline.js';

export interface ChaosReport {
  seed: number;
  durationMs: number;
  rotations: number;
  faults: Record<string, number>;
  /** Faults the relays put on the operator's wire (write-faults), by "request-kind fault". */
  wire: Record<string, number>;
  badInputs: Record<string, number>;
  workloads: { tracked: number; churned: number; hostileMappings: number };
  restarts: Verdict;
  staged: StageVerdict;
  tenancy: TenancyVerdict;
  latency: LatencyVerdict;
  rss: RssVerdict;
  convergedAfterMs: number;
  messagesLeft: number;
  deadLettered: number;
  expectedDeadLettered: number;
  operatorCrashes: number;
  peakRssMiB: number;
  /** What happened when (absent in runs before the timeline was recorded). */
  timeline?: ChaosTimeline;
}

const ms = (x: number): string => (Number.isFinite(x) ? `${Math.round(x)} ms` : 'never');

/** The one table a run prints: every invariant with its count. */
export function formatReport(r: ChaosReport): string {
  const kv = (o: Record<string, number>): string =>
    Object.entries(o)
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || '—';
  const l = r.latency;
  const rows: [string, string][] = [
    ['seed / duration', `${r.seed} / ${Math.round(r.durationMs / 1000)} s`],
    ['rotations', String(r.rotations)],
    ['faults', kv(r.faults)],
    ['faults on the wire', kv(r.wire)],
    ['bad inputs', kv(r.badInputs)],
    [
      'workloads tracked / churned / hostile mappings',
      `${r.workloads.tracked} / ${r.workloads.churned} / ${r.workloads.hostileMappings}`,
    ],
    ['restarts expected (at least) / made', `${r.restarts.expected} / ${r.restarts.made}`],
    ['restarts missing', String(r.restarts.missing.length)],
    ['restarts duplicated', String(r.restarts.duplicated.length)],
    ['restarts out of order', String(r.restarts.outOfOrder)],
    ['restarts for a version not AWSCURRENT', String(r.restarts.stale.length)],
    ['staged restarts checked / halts seen', `${r.staged.restarts} / ${r.staged.halts}`],
    ['staged: stage started early', String(r.staged.early.length)],
    ['staged: stage started after a halt', String(r.staged.afterHalt.length)],
    ['tenancy: identifiers judged / leaked', `${r.tenancy.shown} / ${r.tenancy.leaks.length}`],
    ['tenancy: restarts judged / outside policy', `${r.tenancy.restarts} / ${r.tenancy.outside.length}`],
    [
      'healthy p99 / floor p99 (samples kept)',
      `${ms(l.healthy.p99)} (${l.healthy.kept}/${l.healthy.taken}) / ${ms(l.floor.p99)} (${l.floor.kept}/${l.floor.taken}): ${ms(l.overMs)} over`,
    ],
    ['healthy p50 / floor p50', `${ms(l.healthy.p50)} / ${ms(l.floor.p50)}`],
    [
      'RSS end vs warm-up (processes checked)',
      `worst ${(r.rss.worstGrowth * 100).toFixed(1)} % (${r.rss.checked}), ${r.rss.grown.length} over 10 %`,
    ],
    ['converged after faults', r.convergedAfterMs < 0 ? 'NO' : `${(r.convergedAfterMs / 1000).toFixed(1)} s`],
    ['messages left in the queue', String(r.messagesLeft)],
    ['dead-lettered (malformed sent)', `${r.deadLettered} (${r.expectedDeadLettered})`],
    ['operator crashes', String(r.operatorCrashes)],
    ['peak RSS of a replica', `${r.peakRssMiB} MiB`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

/** The failures a run must not have; empty when it passed. */
export function failures(r: ChaosReport): string[] {
  const out: string[] = [];
  const list = (what: string, xs: string[]): void => {
    if (xs.length)
      out.push(`${what}: ${xs.slice(0, 20).join('; ')}${xs.length > 20 ? ` (+${xs.length - 20})` : ''}`);
  };
  list('missing', r.restarts.missing);
  list('duplicated', r.restarts.duplicated);
  if (r.restarts.outOfOrder) out.push(`${r.restarts.outOfOrder} restart(s) to an older version`);
  list('restarted for a version not AWSCURRENT', r.restarts.stale);
  list('stage started early', r.staged.early);
  list('stage started after a halt', r.staged.afterHalt);
  list('secret shown outside its policy', r.tenancy.leaks);
  list('restarted outside its policy', r.tenancy.outside);
  if (!r.latency.ok)
    out.push(
      `healthy p99 ${ms(r.latency.healthy.p99)} is ${ms(r.latency.overMs)} over the floor's ${ms(r.latency.floor.p99)} (at most 1000 ms)`,
    );
  list('RSS grew more than 10 %', r.rss.grown);
  if (!r.rss.checked) out.push('no replica lived long enough after warm-up for its RSS to be checked');
  if (r.operatorCrashes) out.push(`${r.operatorCrashes} operator crash(es)`);
  if (r.messagesLeft) out.push(`${r.messagesLeft} message(s) left in the queue`);
  return out;
}
