import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CustomObjectsApi } from '@kubernetes/client-node';
import type { Logger } from '../runtime/logger.js';
import { servedApis } from './optional-apis.js';

/** A logger that keeps its lines. */
function recording(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const keep = (m: string): void => void lines.push(m);
  const logger = { debug: keep, info: keep, warn: keep, error: keep } as unknown as Logger;
  return { logger, lines };
}

/** API discovery as the API server answers it: a resource list per served group/version, else 404. */
function discovery(
  served: Record<string, string[]>,
  failFirst = 0,
  forbidden: string[] = [],
): CustomObjectsApi {
  let failures = failFirst;
  const list = ({ plural }: { plural: string }) =>
    forbidden.includes(plural)
      ? Promise.reject(Object.assign(new Error('forbidden'), { code: 403 }))
      : Promise.resolve({ items: [] });
  return {
    listClusterCustomObject: list,
    listNamespacedCustomObject: list,
    getAPIResources: ({ group, version }: { group: string; version: string }) => {
      if (failures-- > 0)
        return Promise.reject(Object.assign(new Error('connection refused'), { code: 503 }));
      const plurals = served[`${group}/${version}`];
      if (!plurals) return Promise.reject(Object.assign(new Error('not found'), { code: 404 }));
      return Promise.resolve({ resources: plurals.map((name) => ({ name })) });
    },
  } as unknown as CustomObjectsApi;
}

/** A cluster with the three projects' CRDs. */
const ALL_SERVED = {
  'external-secrets.io/v1': ['externalsecrets'],
  'secrets-store.csi.x-k8s.io/v1': ['secretproviderclasses'],
  'argoproj.io/v1alpha1': ['rollouts'],
};

test('an API not served turns its path off, and the operator says so once', async () => {
  const { logger, lines } = recording();
  const served = await servedApis(
    discovery({
      'external-secrets.io/v1': ['externalsecrets', 'secretstores'],
      'argoproj.io/v1alpha1': ['workflows'],
    }),
    logger,
  );
  assert.deepEqual(served, { externalSecrets: true, providerClasses: false, rollouts: false });
  assert.equal(lines.length, 3);
  assert.match(lines[0], /ExternalSecret \(external-secrets.io\/v1\) is served: .* on/);
  assert.match(lines[1], /SecretProviderClass .* is not served in this cluster: .* off \(install its CRD/);
  // argoproj.io/v1alpha1 is served (Argo Workflows) but has no rollouts resource: off.
  assert.match(lines[2], /Rollout .* is not served/);
});

test('a discovery error other than 404 is retried, never taken for an absent API', async () => {
  const { logger, lines } = recording();
  const served = await servedApis(discovery(ALL_SERVED, 1), logger);
  assert.deepEqual(served, { externalSecrets: true, providerClasses: true, rollouts: true });
  assert.match(lines[0], /API discovery failed; will retry/);
});

test('an API served but not readable by the operator turns its path off with an error, never a pass that waits forever', async () => {
  const { logger, lines } = recording();
  const served = await servedApis(
    discovery(ALL_SERVED, 0, ['externalsecrets', 'rollouts']),
    logger,
    'team-a',
  );
  assert.deepEqual(served, { externalSecrets: false, providerClasses: true, rollouts: false });
  assert.match(
    lines[0],
    /ExternalSecret .* is served but the operator may not list externalsecrets in namespace team-a: grant list\/watch/,
  );
  assert.match(lines[2], /Rollout .* may not list rollouts in namespace team-a/);
});
