import type { CustomObjectsApi } from '@kubernetes/client-node';
import type { Logger } from '../runtime/logger.js';
import { describe, statusCode } from '../runtime/errors.js';

/** APIs of other projects the operator works with when their CRDs are installed. */
export const OPTIONAL_APIS = {
  externalSecrets: {
    group: 'external-secrets.io',
    version: 'v1',
    plural: 'externalsecrets',
    kind: 'ExternalSecret',
  },
  providerClasses: {
    group: 'secrets-store.csi.x-k8s.io',
    version: 'v1',
    plural: 'secretproviderclasses',
    kind: 'SecretProviderClass',
  },
  rollouts: { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts', kind: 'Rollout' },
} as const;

export type OptionalApi = keyof typeof OPTIONAL_APIS;
export type ServedApis = Record<OptionalApi, boolean>;

/** What each path does, for the one start-up line that says which are on. */
const PATHS: Record<OptionalApi, string> = {
  externalSecrets: 'ExternalSecret discovery and force-sync before restarts',
  providerClasses: 'SecretProviderClass (CSI driver) discovery',
  rollouts: 'Argo Rollouts as targets',
};

/** Why a path is off, or undefined when it is on. */
type Verdict = { on: true } | { on: false; why: string };

/**
 * Which optional APIs the operator can use: served by the cluster (API discovery, allowed to every
 * authenticated client) and readable by the operator (one LIST of a single item, in the watched
 * namespace or the cluster — an informer that may not list would never sync, and the passes waiting
 * on it would wait forever). Checked once at start, one log line per path: a CRD installed or a role
 * granted later takes a restart, as with controller-runtime's informers. Only a 404 means "absent"
 * and a 403 "not allowed": any other error is retried with backoff, so the operator never starts
 * with a path silently off.
 */
export async function servedApis(
  api: CustomObjectsApi,
  logger: Logger,
  namespace?: string,
): Promise<ServedApis> {
  const served = {} as ServedApis;
  for (const name of Object.keys(OPTIONAL_APIS) as OptionalApi[]) {
    const ref = OPTIONAL_APIS[name];
    const verdict = await retrying(logger, `${ref.group}/${ref.version}`, () => check(api, ref, namespace));
    served[name] = verdict.on;
    const what = `${ref.kind} (${ref.group}/${ref.version})`;
    if (verdict.on) logger.info(`${what} is served: ${PATHS[name]} on`);
    else if (verdict.why === 'not served')
      logger.info(
        `${what} is not served in this cluster: ${PATHS[name]} off (install its CRD and restart the operator to turn it on)`,
      );
    else logger.error(`${what} is served but ${verdict.why}: ${PATHS[name]} off`);
  }
  return served;
}

async function check(
  api: CustomObjectsApi,
  ref: { group: string; version: string; plural: string },
  namespace: string | undefined,
): Promise<Verdict> {
  try {
    const list = await api.getAPIResources({ group: ref.group, version: ref.version });
    if (!list.resources.some((r) => r.name === ref.plural)) return { on: false, why: 'not served' };
  } catch (err) {
    if (statusCode(err) === 404) return { on: false, why: 'not served' };
    throw err;
  }
  try {
    const common = { group: ref.group, version: ref.version, plural: ref.plural, limit: 1 };
    await (namespace
      ? api.listNamespacedCustomObject({ ...common, namespace })
      : api.listClusterCustomObject(common));
    return { on: true };
  } catch (err) {
    if (statusCode(err) !== 403) throw err;
    const where = namespace ? `in namespace ${namespace}` : 'cluster-wide';
    return {
      on: false,
      why: `the operator may not list ${ref.plural} ${where}: grant list/watch as in manifests/base/clusterrole.yaml and restart`,
    };
  }
}

/** Runs `attempt` until it answers, retrying errors with backoff (1 s doubling to 30 s). */
async function retrying<T>(logger: Logger, api: string, attempt: () => Promise<T>): Promise<T> {
  for (let backoff = 1000; ; backoff = Math.min(backoff * 2, 30_000)) {
    try {
      return await attempt();
    } catch (err) {
      logger.warn('API discovery failed; will retry', { api, error: describe(err), retryInMs: backoff });
      await new Promise((r) => setTimeout(r, backoff));
    }
  }
}
