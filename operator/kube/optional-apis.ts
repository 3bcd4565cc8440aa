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

/**
 * Which optional APIs the cluster serves, from API discovery (allowed to every authenticated
 * client: no RBAC of ours). Checked once at start: a CRD installed later takes a restart, as with
 * controller-runtime's informers. Only a 404 means "absent": any other error is retried with
 * backoff, so the operator never starts with a path silently off.
 */
export async function servedApis(api: CustomObjectsApi, logger: Logger): Promise<ServedApis> {
  const served = {} as ServedApis;
  for (const name of Object.keys(OPTIONAL_APIS) as OptionalApi[]) {
    served[name] = await serves(api, OPTIONAL_APIS[name], logger);
    const { group, version, kind } = OPTIONAL_APIS[name];
    const what = `${kind} (${group}/${version})`;
    if (served[name]) logger.info(`${what} is served: ${PATHS[name]} on`);
    else
      logger.info(
        `${what} is not served in this cluster: ${PATHS[name]} off (install its CRD and restart the operator to turn it on)`,
      );
  }
  return served;
}

async function serves(
  api: CustomObjectsApi,
  ref: { group: string; version: string; plural: string },
  logger: Logger,
): Promise<boolean> {
  for (let backoff = 1000; ; backoff = Math.min(backoff * 2, 30_000)) {
    try {
      const list = await api.getAPIResources({ group: ref.group, version: ref.version });
      return list.resources.some((r) => r.name === ref.plural);
    } catch (err) {
      if (statusCode(err) === 404) return false;
      logger.warn('API discovery failed; will retry', {
        api: `${ref.group}/${ref.version}`,
        error: describe(err),
        retryInMs: backoff,
      });
      await new Promise((r) => setTimeout(r, backoff));
    }
  }
}
