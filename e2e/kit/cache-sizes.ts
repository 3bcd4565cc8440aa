import { metric } from '../bench/measure.js';
import { kc, releaseMappings, uniqueName, type RunningOperator, type Scope } from '../harness.js';

/** What the operator's workload and consumer caches hold, from its /metrics. */
export interface CacheSizes {
  workloads: number;
  namespaces: number;
  watches: number;
}

export const cacheSizes = async (op: RunningOperator): Promise<CacheSizes> => {
  const text = await op.metrics();
  return {
    workloads: metric(text, 'secrets_rotation_cached_workloads'),
    namespaces: metric(text, 'secrets_rotation_cached_namespaces'),
    watches: metric(text, 'secrets_rotation_cache_watches'),
  };
};

/** A namespace of the test's own, removed (its mappings released first) when the test ends. */
export async function extraNamespace(scope: Scope, prefix: string, labels: string[] = []): Promise<string> {
  const ns = uniqueName(prefix);
  await kc(['create', 'namespace', ns]);
  if (labels.length) await kc(['label', 'namespace', ns, ...labels]);
  scope.cleanups.push(async () => {
    await releaseMappings(ns);
    await kc(['delete', 'namespace', ns, '--wait=false']);
  });
  return ns;
}
