import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { statusCode } from '../operator/runtime/errors.js';
import { adminClients, e2eTest, kc, operatorKubeconfig, waitFor } from './harness.js';
import { createWorkload } from './workloads-fixtures.js';

const GUARD = 'secrets-rotation-operator-writes';

type Patch = 'merge' | 'json' | 'strategic';
const CONTENT_TYPES: Record<Patch, PatchStrategy> = {
  merge: PatchStrategy.MergePatch,
  json: PatchStrategy.JsonPatch,
  strategic: PatchStrategy.StrategicMergePatch,
};

interface Ref {
  group: string;
  version: string;
  plural: string;
  name: string;
}

const DEPLOYMENT: Ref = { group: 'apps', version: 'v1', plural: 'deployments', name: 'web' };
const STATEFULSET: Ref = { group: 'apps', version: 'v1', plural: 'statefulsets', name: 'db' };
const DAEMONSET: Ref = { group: 'apps', version: 'v1', plural: 'daemonsets', name: 'agent' };
const ROLLOUT: Ref = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts', name: 'canary' };
const EXTERNAL_SECRET: Ref = {
  group: 'external-secrets.io',
  version: 'v1',
  plural: 'externalsecrets',
  name: 'db',
};

/** Patches sent with `api` in `namespace`: 'ok', or the HTTP status and body the API server refused one with. */
const sender =
  (api: CustomObjectsApi, namespace: string) =>
  async (ref: Ref, type: Patch, body: object): Promise<string> => {
    try {
      const headers = setHeaderOptions('Content-Type', CONTENT_TYPES[type]);
      await api.patchNamespacedCustomObject({ ...ref, namespace, body }, headers);
      return 'ok';
    } catch (err) {
      return `${statusCode(err)} ${String((err as { body?: unknown }).body ?? err)}`;
    }
  };

const template = (annotations: Record<string, string | null>): object => ({
  spec: { template: { metadata: { annotations } } },
});

e2eTest(
  "the admission guard: the operator's ServiceAccount may change its restart fields and nothing else, whatever its RBAC",
  async (scope) => {
    const ns = scope.namespace;
    await kc(['get', 'validatingadmissionpolicybinding', GUARD]);
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'web' }, { app: 'web' }, { replicas: 1 });
    await createWorkload({ kind: 'StatefulSet', namespace: ns, name: 'db' }, { app: 'db' }, { replicas: 1 });
    await createWorkload({ kind: 'DaemonSet', namespace: ns, name: 'agent' }, { app: 'agent' });
    const { custom } = await adminClients();
    await custom.createNamespacedCustomObject({
      ...ROLLOUT,
      namespace: ns,
      body: {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        metadata: { name: ROLLOUT.name },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'canary' } },
          template: {
            metadata: { labels: { app: 'canary' } },
            spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] },
          },
          strategy: { canary: { steps: [{ setWeight: 50 }] } },
        },
      },
    });
    await custom.createNamespacedCustomObject({
      ...EXTERNAL_SECRET,
      namespace: ns,
      body: {
        apiVersion: 'external-secrets.io/v1',
        kind: 'ExternalSecret',
        metadata: { name: EXTERNAL_SECRET.name },
        spec: {
          refreshInterval: '1h',
          secretStoreRef: { name: 'store', kind: 'SecretStore' },
          target: { name: 'db' },
          data: [{ secretKey: 'password', remoteRef: { key: 'db' } }],
        },
      },
    });
    // The operator's own identity: a token of its ServiceAccount, bound to the shipped ClusterRole.
    const config = new KubeConfig();
    config.loadFromFile(await operatorKubeconfig(scope));
    const send = sender(config.makeApiClient(CustomObjectsApi), ns);
    const stamp = {
      'secretsrotation.io/restartedAt': new Date().toISOString(),
      'secretsrotation.io/secret-version': 'db@v2',
    };

    // What the operator does: accepted (the guard's informer may take a moment to see a new binding).
    await waitFor(
      'the restart annotation accepted',
      async () => (await send(DEPLOYMENT, 'strategic', template(stamp))) === 'ok',
    );
    for (const ref of [STATEFULSET, DAEMONSET])
      assert.equal(await send(ref, 'strategic', template(stamp)), 'ok', ref.plural);
    assert.equal(
      await send(DEPLOYMENT, 'json', [
        {
          op: 'test',
          path: '/spec/template/metadata/annotations/secretsrotation.io~1secret-version',
          value: 'db@v2',
        },
        {
          op: 'add',
          path: '/spec/template/metadata/annotations/secretsrotation.io~1secret-version',
          value: 'db@v3',
        },
      ]),
      'ok',
      'the stamp swap',
    );
    assert.equal(
      await send(ROLLOUT, 'merge', {
        metadata: { annotations: stamp },
        spec: { restartAt: '2026-12-01T00:00:00Z' },
      }),
      'ok',
      'a Rollout restart',
    );
    assert.equal(
      await send(EXTERNAL_SECRET, 'merge', {
        metadata: { annotations: { 'force-sync': '1764547200' } },
      }),
      'ok',
    );

    // Anything else: denied by the API server with the guard's reason.
    const denied: [string, Ref, Patch, object][] = [
      [
        'an image',
        DEPLOYMENT,
        'strategic',
        { spec: { template: { spec: { containers: [{ name: 'c', image: 'evil:1' }] } } } },
      ],
      [
        'serviceAccountName',
        DEPLOYMENT,
        'strategic',
        { spec: { template: { spec: { serviceAccountName: 'admin' } } } },
      ],
      ['hostNetwork', DAEMONSET, 'strategic', { spec: { template: { spec: { hostNetwork: true } } } }],
      ['a label', DEPLOYMENT, 'merge', { metadata: { labels: { owned: 'yes' } } }],
      [
        'a pod-template label',
        STATEFULSET,
        'strategic',
        { spec: { template: { metadata: { labels: { extra: 'x' } } } } },
      ],
      ['another pod-template annotation', DEPLOYMENT, 'strategic', template({ 'other.io/x': 'y' })],
      ['replicas', STATEFULSET, 'merge', { spec: { replicas: 5 } }],
      [
        "a Deployment's strategy",
        DEPLOYMENT,
        'merge',
        { spec: { strategy: { type: 'Recreate', rollingUpdate: null } } },
      ],
      [
        "a Rollout's strategy",
        ROLLOUT,
        'merge',
        { spec: { strategy: { canary: { steps: [{ setWeight: 100 }] } } } },
      ],
      [
        "a Rollout's image",
        ROLLOUT,
        'merge',
        { spec: { template: { spec: { containers: [{ name: 'c', image: 'evil:1' }] } } } },
      ],
      ["an ExternalSecret's spec", EXTERNAL_SECRET, 'merge', { spec: { refreshInterval: '1s' } }],
      [
        'another ExternalSecret annotation',
        EXTERNAL_SECRET,
        'merge',
        { metadata: { annotations: { 'secretsrotation.io/x': '1' } } },
      ],
    ];
    for (const [what, ref, type, body] of denied) {
      const answer = await send(ref, type, body);
      assert.match(answer, /^403 /, `${what}: ${answer}`);
      assert.match(answer, new RegExp(`ValidatingAdmissionPolicy '${GUARD}'`), what);
    }
    // The guard binds the operator's identity only: the same change by another user passes.
    const { apps } = await adminClients();
    await apps.patchNamespacedDeployment(
      { namespace: ns, name: 'web', body: { metadata: { labels: { owned: 'yes' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  },
);
