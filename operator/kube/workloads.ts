import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import type { Target } from './target.js';
import { RESOURCES, RESTARTED_AT_ANNOTATION, SECRET_VERSION_ANNOTATION } from './workload-cache.js';

const STRATEGIC = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

/** JSON Pointer escaping of an annotation key (RFC 6901). */
const escape = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');
const templateAnnotation = (key: string): string => `/spec/template/metadata/annotations/${escape(key)}`;
const ownAnnotation = (key: string): string => `/metadata/annotations/${escape(key)}`;

/**
 * The restart as a compare-and-swap on the stamp alone: `test` that the template still carries the
 * stamp the cache showed, then set both annotations. Status updates by the workload's controller
 * (which change the resourceVersion every few ms during a rollout) no longer make it fail; only a
 * writer that changed the stamp does (HTTP 422), as two mappings racing for one version would.
 */
export function stampSwapPatch(restartedAt: string, stamp: string, previousStamp: string): object[] {
  return [
    { op: 'test', path: templateAnnotation(SECRET_VERSION_ANNOTATION), value: previousStamp },
    { op: 'add', path: templateAnnotation(RESTARTED_AT_ANNOTATION), value: restartedAt },
    { op: 'add', path: templateAnnotation(SECRET_VERSION_ANNOTATION), value: stamp },
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
 * An Argo Rollout's restart time, in whole seconds: its controller restarts the pods created before
 * it, and pod creation times have no fraction. Rounded up, so a pod created earlier in the same
 * second still counts as older (rounding down would leave it running with the old value); and
 * always later than the restart before (two rotations in one second would otherwise write the same
 * value, which Argo takes as done).
 */
export function argoRestartAt(restartedAt: string, previous?: string): string {
  const prev = Date.parse(previous ?? '');
  const at = Math.max(Math.ceil(Date.parse(restartedAt) / 1000) * 1000, Number.isNaN(prev) ? 0 : prev + 1000);
  return new Date(at).toISOString().replace('.000Z', 'Z');
}

/**
 * An Argo Rollout is restarted through spec.restartAt (a template change would start a new canary or
 * blue-green release); the stamp goes on its own metadata, under the same compare-and-swap rules as
 * the template stamp of the other kinds: `test` on the stamp seen, or the resourceVersion when none.
 */
export function rolloutRestartPatch(
  restartedAt: string,
  stamp: string,
  previous: { stamp?: string; resourceVersion?: string; restartAt?: string },
): { body: object; json: boolean } {
  const restartAt = argoRestartAt(restartedAt, previous.restartAt);
  if (previous.stamp) {
    return {
      json: true,
      body: [
        { op: 'test', path: ownAnnotation(SECRET_VERSION_ANNOTATION), value: previous.stamp },
        { op: 'add', path: ownAnnotation(RESTARTED_AT_ANNOTATION), value: restartedAt },
        { op: 'add', path: ownAnnotation(SECRET_VERSION_ANNOTATION), value: stamp },
        { op: 'add', path: '/spec/restartAt', value: restartAt },
      ],
    };
  }
  return {
    json: false,
    body: {
      metadata: {
        ...(previous.resourceVersion ? { resourceVersion: previous.resourceVersion } : {}),
        annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt, [SECRET_VERSION_ANNOTATION]: stamp },
      },
      spec: { restartAt },
    },
  };
}

/**
 * Restarts workloads: one algorithm for the apps/v1 kinds (the resource from a table), restartAt for
 * Argo Rollouts. Reads come from the watch cache; the patch goes through the generic API so its
 * answer stays plain JSON (the typed clients rebuild model objects from every response).
 */
export class Workloads {
  constructor(
    private readonly api: CustomObjectsApi,
    private readonly fieldManager: string,
  ) {}

  /**
   * Patches the workload with the stamp, conditioned on what the cache showed: on the stamp itself
   * when there is one, else on the resourceVersion (the first restart). A 409 or 422 means another
   * writer changed the workload since: the caller looks again once the cache has the change.
   * Returns the workload as the API server answered.
   */
  async restart(namespace: string, target: Target, restartedAt: string, stamp: string): Promise<object> {
    const { group, version, plural } = RESOURCES[target.kind];
    const request = { group, version, namespace, plural, name: target.name, fieldManager: this.fieldManager };
    if (target.kind === 'Rollout') {
      const { body, json } = rolloutRestartPatch(restartedAt, stamp, {
        stamp: target.templateVersion,
        resourceVersion: target.resourceVersion,
        restartAt: target.restartAt,
      });
      return (await this.api.patchNamespacedCustomObject(
        { ...request, body },
        json ? JSON_PATCH : MERGE,
      )) as object;
    }
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
