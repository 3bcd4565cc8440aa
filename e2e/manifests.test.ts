import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { OUR_CRDS, waitForCrdsEstablished } from './env/crds-established.js';
import { repoRoot } from './env/paths.js';
import {
  environment,
  installAdmissionGuard,
  installCrd,
  kc,
  releaseMappings,
  uniqueName,
  waitFor,
} from './harness.js';

const base = path.join(repoRoot, 'manifests', 'base');

test(
  'kubectl apply --server-side -k manifests/base installs everything, kubectl delete -k removes it, CRD included',
  { timeout: 180_000 },
  async () => {
    await environment();
    const rendered = await kc(['kustomize', base]);
    for (const kind of [
      'CustomResourceDefinition',
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'Service',
      'PodDisruptionBudget',
      'NetworkPolicy',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ]) {
      assert.match(rendered, new RegExp(`^kind: ${kind}$`, 'm'), `${kind} rendered`);
    }
    await kc(['apply', '--server-side', '--force-conflicts', '-k', base]);
    await waitForCrdsEstablished(kc, OUR_CRDS, 30_000);
    const dep = await kc([
      '-n',
      'secrets-rotation-operator',
      'get',
      'deployment',
      'secrets-rotation-operator',
      '-o',
      'json',
    ]);
    const spec = (
      JSON.parse(dep) as {
        spec: {
          template: {
            spec: {
              securityContext: Record<string, unknown>;
              containers: { securityContext: Record<string, unknown> }[];
            };
          };
        };
      }
    ).spec.template.spec;
    assert.equal(spec.securityContext.runAsNonRoot, true);
    assert.deepEqual(spec.containers[0].securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    // The namespace enforces PodSecurity restricted, and admits the operator's pods (kwok runs them).
    assert.equal(
      await kc([
        'get',
        'namespace',
        'secrets-rotation-operator',
        '-o',
        'jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}',
      ]),
      'restricted',
    );
    await waitFor(
      'the operator pods admitted under PodSecurity restricted and running',
      async () =>
        (
          await kc([
            '-n',
            'secrets-rotation-operator',
            'get',
            'pods',
            '-o',
            'jsonpath={.items[*].status.phase}',
          ])
        )
          .split(' ')
          .filter((p) => p === 'Running').length === 2,
      60_000,
    );
    // Accepted by the API server as written: the PDB and the NetworkPolicy select the operator's pods.
    const selects = async (kind: string, field: string): Promise<string> =>
      kc([
        '-n',
        'secrets-rotation-operator',
        'get',
        kind,
        'secrets-rotation-operator',
        '-o',
        `jsonpath=${field}`,
      ]);
    assert.equal(await selects('pdb', '{.spec.maxUnavailable}'), '1');
    assert.equal(
      await selects('pdb', '{.spec.selector.matchLabels.app\\.kubernetes\\.io/name}'),
      'secrets-rotation-operator',
    );
    assert.equal(
      await selects('networkpolicy', '{.spec.podSelector.matchLabels.app\\.kubernetes\\.io/name}'),
      'secrets-rotation-operator',
    );
    assert.equal(await selects('networkpolicy', '{.spec.ingress[0].ports[0].port}'), 'metrics');
    // Mappings other suites left behind (their operators are gone) would hold the CRD's deletion.
    const namespaces = (await kc(['get', 'srm', '-A', '-o', 'jsonpath={.items[*].metadata.namespace}']))
      .split(' ')
      .filter(Boolean);
    for (const ns of new Set(namespaces)) await releaseMappings(ns, false);
    await kc(['delete', '-k', base, '--timeout=120s']);
    await waitFor(
      'everything removed',
      async () => {
        const left = await kc([
          'get',
          'crd,clusterrole,clusterrolebinding,namespace,validatingadmissionpolicy,validatingadmissionpolicybinding',
          '-o',
          'name',
        ]);
        return !/secretsrotationmappings|secretsrotationpolicies|secrets-rotation-operator/.test(left);
      },
      60_000,
    );
    // Later suites expect the CRDs, and run under the admission guard.
    await installCrd();
    await installAdmissionGuard();
  },
);

interface Stored {
  kind: string;
  spec?: {
    unhealthyPodEvictionPolicy?: string;
    template?: {
      spec: { containers: Record<string, { timeoutSeconds?: number; failureThreshold?: number }>[] };
    };
  };
  rules?: { resourceNames?: string[]; verbs: string[] }[];
}

test('what scanners asked of the base, as the API server stores it: PDB evicts unhealthy pods, probes with time to answer, the Lease by name', async () => {
  const ns = uniqueName('kustomize-dry-run');
  await kc(['create', 'namespace', ns]);
  try {
    // A server-side dry run in a namespace of its own: what the API server would keep, nothing applied.
    const items = parseAllDocuments(await kc(['kustomize', base]))
      .map((d) => d.toJSON() as { kind: string; metadata: Record<string, unknown> })
      .filter((o) => ['PodDisruptionBudget', 'Deployment', 'Role'].includes(o.kind))
      .map((o) => ({ ...o, metadata: { ...o.metadata, namespace: ns } }));
    const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
    const stored = (
      JSON.parse(await kc(['apply', '--dry-run=server', '--server-side', '-o', 'json', '-f', '-'], list)) as {
        items: Stored[];
      }
    ).items;
    const of = (kind: string): Stored | undefined => stored.find((o) => o.kind === kind);
    // Unready replicas (a crash loop, a bad config) never block a node drain.
    assert.equal(of('PodDisruptionBudget')?.spec?.unhealthyPodEvictionPolicy, 'AlwaysAllow');
    // Time to answer on a pod with a 20m CPU request (the default timeout is 1 s).
    const container = of('Deployment')?.spec?.template?.spec.containers[0] ?? {};
    const probes = ['livenessProbe', 'readinessProbe'].map((p) => container[p]);
    assert.deepEqual(
      probes.map((p) => [p?.timeoutSeconds, p?.failureThreshold]),
      [
        [5, 3],
        [5, 3],
      ],
    );
    // The Lease by the name the operator gives it; create cannot be limited by name: a rule of its own.
    assert.deepEqual(
      of('Role')?.rules?.map((r) => [r.verbs, r.resourceNames]),
      [
        [['get', 'update'], ['secrets-rotation-operator']],
        [['create'], undefined],
      ],
    );
  } finally {
    await kc(['delete', 'namespace', ns, '--wait=false']);
  }
});

test('the namespaced overlay binds the ClusterRole in the watched namespace only (cluster-wide: the tenancy reads)', async () => {
  const rendered = await kc(['kustomize', path.join(repoRoot, 'manifests', 'namespaced')]);
  const bindings = parseAllDocuments(rendered)
    .map((d) => d.toJSON() as { kind: string; roleRef?: { name: string } })
    .filter((d) => d.kind === 'ClusterRoleBinding');
  assert.deepEqual(
    bindings.map((b) => b.roleRef?.name),
    ['secrets-rotation-operator-tenancy'],
    'the only cluster-wide binding is the read-only tenancy role',
  );
  assert.match(rendered, /kind: ValidatingAdmissionPolicy\n/, 'the admission guard ships here too');
  assert.match(rendered, /kind: RoleBinding\n[\s\S]*namespace: my-app/);
  assert.match(rendered, /name: WATCH_NAMESPACE\n\s+value: my-app/);
});

test('the samples: secret eks-controller-test-secret mapped to nginx labelled environment=operatortest', async () => {
  const rendered = await kc(['kustomize', path.join(repoRoot, 'manifests', 'samples')]);
  assert.match(rendered, /secretId: eks-controller-test-secret/);
  assert.match(rendered, /environment: operatortest/);
  assert.match(rendered, /replicas: 3/);
});
