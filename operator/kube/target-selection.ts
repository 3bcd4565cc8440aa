import {
  DEFAULT_SELECTOR_KINDS,
  WORKLOAD_KINDS,
  type MappingSpec,
  type WorkloadKind,
} from '../../resources/types.js';
import type { Consumption } from './consumption.js';
import { isEmptySelector, matchesSelector } from './label-selector.js';
import type { Target } from './target.js';
import { rolloutState } from './workload-kinds.js';
import type { WorkloadInfo } from './workload-cache.js';

/** True when the mapping's spec targets the workload (selector over spec.kinds, or listed explicitly). */
export function targets(spec: MappingSpec, w: Pick<WorkloadInfo, 'kind' | 'name' | 'labels'>): boolean {
  if ((spec.workloads ?? []).some((r) => r.kind === w.kind && r.name === w.name)) return true;
  if (!spec.selector || isEmptySelector(spec.selector)) return false;
  return (spec.kinds ?? DEFAULT_SELECTOR_KINDS).includes(w.kind) && matchesSelector(spec.selector, w.labels);
}

/** A cached workload as a target, with how it consumes the secret when that is known. Pure. */
export function toTarget(w: WorkloadInfo, consumption: Consumption | undefined): Target {
  return {
    kind: w.kind,
    name: w.name,
    exists: true,
    templateVersion: w.stamp,
    stampedAt: w.stampedAt,
    stage: w.stage,
    resourceVersion: w.resourceVersion,
    blocked: w.blocked,
    rollout: rolloutState(w.kind, w.rollout, w.stampedAt),
    restartAt: w.rollout.spec?.restartAt,
    ...(consumption ?? {}),
  };
}

/**
 * The targets of a mapping among the workloads of its namespace: selector matches, explicit
 * workloads, and with spec.discover the consumers found (consumersOf); every target says how it
 * consumes the secret when `consumption` knows. An explicit one that does not exist is
 * `exists: false`. Sorted by kind/name. Pure.
 */
export function selectTargets(
  spec: MappingSpec,
  workloads: Iterable<WorkloadInfo>,
  consumption: Map<string, Consumption> = new Map(),
): Target[] {
  const found = new Map<string, Target>();
  for (const w of workloads) {
    const id = `${w.kind}/${w.name}`;
    const consumes = consumption.get(id);
    if (targets(spec, w) || (spec.discover && consumes)) found.set(id, toTarget(w, consumes));
  }
  for (const r of spec.workloads ?? []) {
    const id = `${r.kind}/${r.name}`;
    if (!found.has(id)) found.set(id, { kind: r.kind, name: r.name, exists: false });
  }
  return [...found.values()].sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`));
}

/** The kinds a mapping may target: those its selector covers and those it lists; every kind to discover. */
export function kindsOf(spec: MappingSpec): WorkloadKind[] {
  if (spec.discover) return [...WORKLOAD_KINDS];
  const kinds = new Set<WorkloadKind>((spec.workloads ?? []).map((r) => r.kind));
  if (spec.selector && !isEmptySelector(spec.selector))
    for (const k of spec.kinds ?? DEFAULT_SELECTOR_KINDS) kinds.add(k);
  return [...kinds];
}
