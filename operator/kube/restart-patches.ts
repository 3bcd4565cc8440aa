import type { Target } from './target.js';

export const RESTARTED_AT_ANNOTATION = 'secretsrotation.io/restartedAt';
export const SECRET_VERSION_ANNOTATION = 'secretsrotation.io/secret-version';
/** On a workload: its stage in a staged rotation (spec.rollout.strategy Staged); set by users. */
export const STAGE_ANNOTATION = 'secretsrotation.io/stage';
/** On a mapping: a new value continues a halted staged rotation; set by users. */
export const RESUME_ANNOTATION = 'secretsrotation.io/resume';

/** A patch body and the content type it goes with. */
export interface RestartPatch {
  body: object;
  type: 'json' | 'merge' | 'strategic';
}

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
 * The restart of an apps/v1 workload: a compare-and-swap on the template stamp the cache showed, or
 * — for the first restart — the strategic-merge patch with the resourceVersion read. Pure.
 */
export function templateRestart(restartedAt: string, stamp: string, target: Target): RestartPatch {
  return target.templateVersion
    ? { type: 'json', body: stampSwapPatch(restartedAt, stamp, target.templateVersion) }
    : { type: 'strategic', body: restartPatch(restartedAt, stamp, target.resourceVersion) };
}

/** The restart of an Argo Rollout (see rolloutRestartPatch). Pure. */
export function rolloutRestart(restartedAt: string, stamp: string, target: Target): RestartPatch {
  const { body, json } = rolloutRestartPatch(restartedAt, stamp, {
    stamp: target.templateVersion,
    resourceVersion: target.resourceVersion,
    restartAt: target.restartAt,
  });
  return { body, type: json ? 'json' : 'merge' };
}
