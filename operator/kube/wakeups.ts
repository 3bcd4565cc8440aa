import type { Mapping } from '../../resources/types.js';
import { usesAny, type PodTemplateUses } from './consumption.js';
import { targets } from './target-selection.js';
import type { WorkloadInfo } from './workload-cache.js';

/**
 * Whether a workload's change concerns a mapping: it targets it by selector or list, or — with
 * discover — it uses a Secret or SecretProviderClass that carries the mapping's secret (`carried`, as
 * the mapping's last pass found them; before any pass, any Secret or class it uses). Pure.
 */
export function concerns(spec: Mapping['spec'], w: WorkloadInfo, carried?: PodTemplateUses): boolean {
  if (targets(spec, w)) return true;
  if (!spec.discover) return false;
  return carried ? usesAny(w.uses, carried) : w.uses.secrets.length > 0 || w.uses.providerClasses.length > 0;
}

/** Whether a mapping cares about SecretProviderClass and ExternalSecret changes. Pure. */
export const followsConsumers = (m: Mapping): boolean =>
  Boolean(m.spec.discover) || (m.status?.workloads ?? []).some((w) => (w.via ?? []).length > 0);
