import { ODD_ZONES, WORST_SCHEDULES } from '../../operator/loop/windows-testkit.js';
import type { MappingSpec, RestartWindow } from '../../resources/types.js';
import type { Rng } from './rng.js';

/**
 * Valid but nasty tenant input, within the CRDs' bounds (resources/*.yaml), from a seeded source:
 * the hostile-tenant fault's mappings. Pure, so a seed always writes the same specs.
 */

/** The labels every "wide" hostile workload carries: 32 labels of 63-character values (the bound). */
export const WIDE_LABELS: Record<string, string> = Object.fromEntries(
  Array.from({ length: 32 }, (_, i) => [`t${i}`, `${i}`.padEnd(63, 'v')]),
);

/** The three forms of a secretId: the name, the full ARN, the ARN without its random suffix. */
export function secretIdForms(s: { name: string; arn: string }): string[] {
  return [s.name, s.arn, s.arn.replace(/-[A-Za-z0-9]{6}$/, '')];
}

/** Up to 16 windows, every-minute schedules and the worst ones, in zones with odd offsets. */
export function nastyWindows(rng: Rng): RestartWindow[] {
  return Array.from({ length: rng.int(1, 16) }, () => ({
    // Every minute most of the time: a window that opens often, so rotations still move.
    schedule: rng.next() < 0.7 ? '* * * * *' : rng.pick(WORST_SCHEDULES),
    duration: rng.pick(['1s', '30s', '59s', '1m', '168h']),
    timeZone: rng.pick(ODD_ZONES),
  }));
}

/** A selector at its bounds that matches the wide workloads: 32 labels, 32 expressions of 64 values. */
export function widestSelector(): NonNullable<MappingSpec['selector']> {
  return {
    matchLabels: WIDE_LABELS,
    matchExpressions: Array.from({ length: 32 }, (_, i) => ({
      key: `x${i}`.padEnd(63, 'k'),
      operator: 'NotIn' as const,
      values: Array.from({ length: 64 }, (_, j) => `${j}`.padEnd(63, 'n')),
    })),
  };
}

/**
 * A hostile mapping: any secret in any form, the widest selector or an explicit list, restart windows
 * every minute in odd zones, staged rollouts with failing and never-ending stages, suspended or not.
 */
export function hostileSpec(rng: Rng, secretIds: string[], workloads: string[]): MappingSpec {
  const spec: MappingSpec = { secretId: rng.pick(secretIds) };
  const listed = rng.shuffle(workloads).slice(0, rng.int(1, workloads.length));
  if (rng.next() < 0.5) spec.selector = widestSelector();
  if (!spec.selector || rng.next() < 0.5)
    spec.workloads = listed.map((name) => ({ kind: 'Deployment' as const, name }));
  if (rng.next() < 0.6) spec.restartWindows = nastyWindows(rng);
  if (rng.next() < 0.6)
    spec.rollout = {
      strategy: 'Staged',
      stageSize: rng.pick([1, 2, '1%', '50%', '100%']),
      pause: rng.pick(['0s', '1s', '3s']),
      onFailure: rng.pick(['Halt', 'Continue'] as const),
    };
  if (rng.next() < 0.3) spec.minRestartInterval = rng.pick(['1s', '10s']);
  if (rng.next() < 0.2) spec.suspend = true;
  return spec;
}
