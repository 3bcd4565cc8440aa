import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import type { RestartPatch } from './restart-patches.js';
import type { Target } from './target.js';
import { KINDS } from './workload-kinds.js';

const CONTENT_TYPES = {
  strategic: setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  merge: setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  json: setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
} satisfies Record<RestartPatch['type'], unknown>;

/**
 * Restarts workloads with the patch their kind's rules make (workload-kinds.ts). Reads come from the
 * watch cache; the patch goes through the generic API so its answer stays plain JSON (the typed
 * clients rebuild model objects from every response).
 */
export class Workloads {
  constructor(
    private readonly api: CustomObjectsApi,
    private readonly fieldManager: string,
  ) {}

  /**
   * Patches the workload with the stamp, conditioned on what the cache showed (the stamp, or the
   * resourceVersion before the first restart). A 409, or a 422 from a failed `test`, means another
   * writer changed the workload since: the caller looks again once the cache has the change.
   * Returns the workload as the API server answered.
   */
  async restart(namespace: string, target: Target, restartedAt: string, stamp: string): Promise<object> {
    const rules = KINDS[target.kind];
    const { body, type } = rules.restart(restartedAt, stamp, target);
    const { group, version, plural } = rules.resource;
    return (await this.api.patchNamespacedCustomObject(
      { group, version, namespace, plural, name: target.name, body, fieldManager: this.fieldManager },
      CONTENT_TYPES[type],
    )) as object;
  }
}
