import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import type { Target } from '../loop/restart-plan.js';
import { PLURALS, RESTARTED_AT_ANNOTATION, SECRET_VERSION_ANNOTATION } from './workload-cache.js';

const STRATEGIC = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

/**
 * The strategic-merge patch `kubectl rollout restart` would send, plus the version stamp. With the
 * resourceVersion read, two mappings restarting one workload for one version cannot both succeed.
 */
export function restartPatch(restartedAt: string, stamp: string, resourceVersion?: string): object {
  return {
    ...(resourceVersion ? { metadata: { resourceVersion } } : {}),
    spec: {
      template: {
        metadata: {
          annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt, [SECRET_VERSION_ANNOTATION]: stamp },
        },
      },
    },
  };
}

/**
 * Restarts workloads: one algorithm for every kind (apps/v1, the plural from a table). Reads come from
 * the watch cache; the patch goes through the generic API so its answer stays plain JSON (the typed
 * clients rebuild model objects from every response).
 */
export class Workloads {
  constructor(
    private readonly api: CustomObjectsApi,
    private readonly fieldManager: string,
  ) {}

  /**
   * Patches the pod template with the stamp, conditioned on the resourceVersion the cache showed: a
   * 409 Conflict means another writer changed the workload since (the caller looks again once the
   * cache has the change). Returns the workload as the API server answered.
   */
  async restart(namespace: string, target: Target, restartedAt: string, stamp: string): Promise<object> {
    return this.api.patchNamespacedCustomObject(
      {
        group: 'apps',
        version: 'v1',
        namespace,
        plural: PLURALS[target.kind],
        name: target.name,
        body: restartPatch(restartedAt, stamp, target.resourceVersion),
        fieldManager: this.fieldManager,
      },
      STRATEGIC,
    ) as Promise<object>;
  }
}
