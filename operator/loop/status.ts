import type { Condition, MappingStatus } from '../../resources/types.js';

export const READY = 'Ready';
export const ROLLOUT_COMPLETE = 'RolloutComplete';

/** Reasons on the Ready condition (and Event reasons), as named constants. */
export const Reason = {
  WatchingSecret: 'WatchingSecret',
  NoWorkloads: 'NoWorkloads',
  InvalidSpec: 'InvalidSpec',
  SecretNotFound: 'SecretNotFound',
  AccessDenied: 'AccessDenied',
  AwsError: 'AwsError',
  RestartFailed: 'RestartFailed',
  Suspended: 'Suspended',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/**
 * Sets `cond` in `conditions` (by type), keeping lastTransitionTime when the status did not change,
 * as metav1.Condition requires. Returns a new array.
 */
export function setCondition(
  conditions: Condition[] | undefined,
  cond: Omit<Condition, 'lastTransitionTime'>,
  now: string,
): Condition[] {
  const list = conditions ?? [];
  const existing = list.find((c) => c.type === cond.type);
  const lastTransitionTime = existing && existing.status === cond.status ? existing.lastTransitionTime : now;
  return [...list.filter((c) => c.type !== cond.type), { ...cond, lastTransitionTime }];
}

export function readyCondition(conditions: Condition[] | undefined): Condition | undefined {
  return conditions?.find((c) => c.type === READY);
}

/** True when writing `next` would change nothing a reader sees (so the write is skipped). */
export function sameStatus(prev: MappingStatus | undefined, next: MappingStatus): boolean {
  return JSON.stringify(normalise(prev ?? {})) === JSON.stringify(normalise(next));
}

function normalise(s: MappingStatus): unknown {
  const sorted = (o: object): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries(o)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => a.localeCompare(b)),
    );
  return sorted({
    ...s,
    workloads: s.workloads?.map(sorted),
    conditions: s.conditions?.map(sorted).sort((a, b) => String(a.type).localeCompare(String(b.type))),
  });
}
