import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import type { Target } from '../loop/restart-plan.js';
import { PLURALS, RESTARTED_AT_ANNOTATION, SECRET_VERSION_ANNOTATION } from './workload-cache.js';

const STRATEGIC = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

/** JSON Pointer escaping of an annotation key (RFC 6901). */
const pointer = (key: string): string =>
  `/spec/template/metadata/annotations/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;

/**
 * The restart as a compare-and-swap on the stamp alone: `test` that the template still carries the
 * stamp the cache showed, then set both annotations. Status updates by the workload's controller
 * (which change the resourceVersion every few ms during a rollout) no longer make it fail; only a
 * writer that changed the stamp does (HTTP 422), as two mappings racing for one version would.
 */
export function stampSwapPatch(restartedAt: string, stamp: string, previousStamp: string): object[] {
  return [
    { op: 'test', path: pointer(SECRET_VERSION_ANNOTATION), value: previousStamp },
    { op: 'add', path: pointer(RESTARTED_AT_ANNOTATION), value: restartedAt },
    { op: 'add', path: pointer(SECRET_VERSION_ANNOTATION), value: stamp },
  ];
}

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
   * Patches the pod template with the stamp, conditioned on what the cache showed: on the stamp
   * itself when the template has one (stampSwapPatch), else on the resourceVersion (the first
   * restart). A 409 or 422 means another writer changed the workload since: the caller looks again
   * once the cache has the change. Returns the workload as the API server answered.
   */
  async restart(namespace: string, target: Target, restartedAt: string, stamp: string): Promise<object> {
    const request = {
      group: 'apps',
      version: 'v1',
      namespace,
      plural: PLURALS[target.kind],
      name: target.name,
      fieldManager: this.fieldManager,
    };
    return (await (target.templateVersion
      ? this.api.patchNamespacedCustomObject(
          { ...request, body: stampSwapPatch(restartedAt, stamp, target.templateVersion) },
          JSON_PATCH,
        )
      : this.api.patchNamespacedCustomObject(
          { ...request, body: restartPatch(restartedAt, stamp, target.resourceVersion) },
          STRATEGIC,
        ))) as object;
  }
}
