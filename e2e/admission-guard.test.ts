import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { withSharedAgents } from '../operator/kube/kube.js';
import { statusCode } from '../operator/runtime/errors.js';
import { delay } from './env/processes.js';
import { essence, probesOf, type Json, type Probe } from './guard-probes.js';
import { adminClients, e2eTest, installAdmissionGuard, kc, operatorKubeconfig, waitFor } from './harness.js';
import { createWorkload } from './workloads-fixtures.js';

const GUARD = 'secrets-rotation-operator-writes';
/** The operator's field manager (operator/main.ts): the guard lets its own managedFields entry change. */
const FIELD_MANAGER = 'secrets-rotation-operator';

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

type Obj = { [key: string]: Json };

/**
 * Patches sent with `api` in `namespace` (dry runs: admission decides, nothing is stored): the object
 * the API server answered with, or the HTTP status and body it refused the patch with.
 */
const patcher =
  (api: CustomObjectsApi, namespace: string, dryRun?: 'All') =>
  async (ref: Ref, type: Patch, body: object): Promise<Obj | string> => {
    try {
      const headers = setHeaderOptions('Content-Type', CONTENT_TYPES[type]);
      return (await api.patchNamespacedCustomObject(
        { ...ref, namespace, body, dryRun, fieldManager: FIELD_MANAGER },
        headers,
      )) as Obj;
    } catch (err) {
      return `${statusCode(err)} ${String((err as { body?: unknown }).body ?? err)}`;
    }
  };

/** Patches sent with `api` in `namespace`: 'ok', or the HTTP status and body the API server refused one with. */
const sender = (api: CustomObjectsApi, namespace: string) => {
  const patch = patcher(api, namespace);
  return async (ref: Ref, type: Patch, body: object): Promise<string> => {
    const answer = await patch(ref, type, body);
    return typeof answer === 'string' ? answer : 'ok';
  };
};

/** The restart fields of each kind, as JSON pointers: the only changes the operator may make. */
const RESTART_FIELDS: Record<string, (path: string) => boolean> = {
  apps: (p) => p.startsWith('/spec/template/metadata/annotations/secretsrotation.io~1'),
  'argoproj.io': (p) => p.startsWith('/metadata/annotations/secretsrotation.io~1') || p === '/spec/restartAt',
  'external-secrets.io': (p) => p === '/metadata/annotations/force-sync',
};

/** The template metadata fields issue 29 found open; each must be among the probes the guard refuses. */
const TEMPLATE_METADATA = [
  'finalizers',
  'name',
  'generateName',
  'ownerReferences',
  'labels/probe.example~1x',
];

interface Question {
  ref: Ref;
  probe: Probe;
  patch: Probe['patches'][number];
}

/**
 * The probes of every field of `refs` (guard-probes.ts) that change the object when the admin sends
 * them (dry run): the questions for the guard. Refused or ignored for the admin: no question.
 */
async function questions(
  api: CustomObjectsApi,
  namespace: string,
  refs: Ref[],
): Promise<{ asked: Question[]; dropped: number }> {
  const asAdmin = patcher(api, namespace, 'All');
  const asked: Question[] = [];
  let dropped = 0;
  for (const ref of refs) {
    const live = (await api.getNamespacedCustomObject({ ...ref, namespace })) as Obj;
    for (const probe of probesOf(live, RESTART_FIELDS[ref.group])) {
      for (const patch of probe.patches) {
        const answer = await asAdmin(ref, patch.type, patch.body);
        if (typeof answer !== 'string' && !isDeepStrictEqual(essence(answer), essence(live)))
          asked.push({ ref, probe, patch });
        else dropped++;
      }
    }
  }
  return { asked, dropped };
}

/** The questions the operator's identity got through (dry run), or that something other than the guard refused. */
async function notRefusedByTheGuard(
  api: CustomObjectsApi,
  namespace: string,
  qs: Question[],
): Promise<(Question & { answer: string })[]> {
  const asOperator = patcher(api, namespace, 'All');
  const open: (Question & { answer: string })[] = [];
  for (const q of qs) {
    const answer = await asOperator(q.ref, q.patch.type, q.patch.body);
    const refused = typeof answer === 'string' && /^(403|422) /.test(answer) && answer.includes(`'${GUARD}'`);
    if (!refused) open.push({ ...q, answer: typeof answer === 'string' ? answer.slice(0, 120) : 'accepted' });
  }
  return open;
}

const template = (annotations: Record<string, string | null>): object => ({
  spec: { template: { metadata: { annotations } } },
});

e2eTest(
  "the admission guard: the operator's ServiceAccount may change its restart fields and nothing else, whatever its RBAC",
  async (scope) => {
    const ns = scope.namespace;
    // The guard as this tree ships it (env:up applied the one of its day).
    await installAdmissionGuard();
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
    const config = withSharedAgents(new KubeConfig());
    config.loadFromFile(await operatorKubeconfig(scope));
    const operatorApi = config.makeApiClient(CustomObjectsApi);
    const send = sender(operatorApi, ns);

    // Every field but the restart fields, changed, removed or added one at a time: each refused by
    // the guard. Retried for a while: the guard's informer may take a moment to see a changed policy.
    const refs = [DEPLOYMENT, STATEFULSET, DAEMONSET, ROLLOUT, EXTERNAL_SECRET];
    const { asked, dropped } = await questions(custom, ns, refs);
    scope.t.diagnostic(
      `${asked.length} changes asked of the guard (${dropped} refused or ignored for the admin)`,
    );
    for (const ref of [DEPLOYMENT, STATEFULSET, DAEMONSET])
      for (const field of TEMPLATE_METADATA) {
        const path = `/spec/template/metadata/${field}`;
        assert.ok(
          asked.some((q) => q.ref === ref && q.probe.path === path),
          `${ref.plural}: ${path} probed`,
        );
      }
    let open = await notRefusedByTheGuard(operatorApi, ns, asked);
    for (let tries = 0; open.length > 0 && tries < 15; tries++) {
      await delay(1000);
      open = await notRefusedByTheGuard(operatorApi, ns, open);
    }
    // Once more, every question: the policy in force now answers all of them.
    const through = (await notRefusedByTheGuard(operatorApi, ns, asked)).map(
      (q) => `${q.ref.plural}: ${q.probe.what} (${q.patch.type}) -> ${q.answer}`,
    );
    assert.deepEqual(through, [], `${through.length} of ${asked.length} changes got past the guard`);

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
    // Restart fields another manager set before (kubectl annotate, kubectl argo rollouts restart):
    // the operator's write takes them over, the API server moving them out of that manager's entry.
    for (const [ref, fieldManager, body] of [
      [EXTERNAL_SECRET, 'kubectl-annotate', { metadata: { annotations: { 'force-sync': '1764540000' } } }],
      [ROLLOUT, 'kubectl-argo-rollouts', { spec: { restartAt: '2026-11-30T00:00:00Z' } }],
    ] as const)
      await custom.patchNamespacedCustomObject(
        { ...ref, namespace: ns, body, fieldManager },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
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

    // Strategic-merge patches and whole-value replacements (the probes above change one field each):
    // denied by the API server with the guard's reason.
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
      [
        'a pod-template label',
        STATEFULSET,
        'strategic',
        { spec: { template: { metadata: { labels: { extra: 'x' } } } } },
      ],
      ['another pod-template annotation', DEPLOYMENT, 'strategic', template({ 'other.io/x': 'y' })],
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
      ["an ExternalSecret's spec", EXTERNAL_SECRET, 'merge', { spec: { refreshInterval: '1s' } }],
      [
        'another ExternalSecret annotation',
        EXTERNAL_SECRET,
        'merge',
        { metadata: { annotations: { 'secretsrotation.io/x': '1' } } },
      ],
    ];
    // managedFields: a forged entry owning the image erases every real manager, and a later
    // `kubectl apply --server-side` by CI conflicts with it (the operator's own entry included).
    const live = (await custom.getNamespacedCustomObject({ ...DEPLOYMENT, namespace: ns })) as Obj;
    const managed = (live.metadata as { managedFields: { [key: string]: Json }[] }).managedFields;
    const image = {
      'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"c"}': { 'f:image': {} } } } } },
    };
    const forged = (manager: string, operation: string, fieldsV1: Json = image) => ({
      manager,
      operation,
      apiVersion: 'apps/v1',
      time: '2026-12-01T00:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1,
    });
    for (const [what, entries] of [
      ['a forged Apply entry replacing every manager', [forged('ci', 'Apply')]],
      ['a forged Apply entry as the operator', [forged(FIELD_MANAGER, 'Apply')]],
      ['the operator owning the image', [...managed, forged(FIELD_MANAGER, 'Update')]],
      ['a manager added', [...managed, forged('probe', 'Update')]],
      ['a manager removed', managed.slice(1)],
      [
        "another manager's fields changed",
        managed.map((e) => ({ ...e, fieldsV1: { ...(e.fieldsV1 as object), ...image } })),
      ],
    ] as const)
      denied.push([`managedFields: ${what}`, DEPLOYMENT, 'merge', { metadata: { managedFields: entries } }]);
    for (const ref of [DEPLOYMENT, STATEFULSET])
      denied.push([
        `${ref.plural}: the DaemonSet template-generation annotation`,
        ref,
        'merge',
        { metadata: { annotations: { 'deprecated.daemonset.template.generation': '7' } } },
      ]);
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
