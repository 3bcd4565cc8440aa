import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './env/paths.js';
import { kc, uniqueName } from './harness.js';
import { helm } from './kit/helm-release.js';

const chart = path.join(repoRoot, 'manifests', 'helm', 'secrets-rotation-operator');
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/secrets-rotation';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

const objects = (yaml: string): Obj[] =>
  parseAllDocuments(yaml)
    .map((d) => d.toJSON() as Obj | null)
    .filter((o): o is Obj => o !== null);

/** `helm template` of release `release` (`sro` unless given) with `sets`. */
const renderAs = async (release: string, ...sets: string[]): Promise<Obj[]> =>
  objects(
    await helm([
      'template',
      release,
      chart,
      '-n',
      'secrets-rotation-operator',
      '--set',
      `config.sqsQueueUrl=${QUEUE}`,
      ...sets.flatMap((s) => ['--set', s]),
    ]),
  );
const render = (...sets: string[]): Promise<Obj[]> => renderAs('sro', ...sets);

const refusal = (args: string[]): Promise<string> =>
  helm(args).then(
    () => 'accepted',
    (err: Error) => err.message,
  );

test('helm lint --strict passes; values.schema.json refuses unknown keys, wrong types and latest', async () => {
  await helm(['lint', '--strict', chart, '--set', `config.sqsQueueUrl=${QUEUE}`]);
  const template = ['template', 'sro', chart, '--set', `config.sqsQueueUrl=${QUEUE}`];
  assert.match(await refusal([...template, '--set', 'bogus=1']), /additional properties 'bogus' not allowed/);
  assert.match(
    await refusal([...template, '--set', 'config.bogus=1']),
    /additional properties 'bogus' not allowed/,
  );
  assert.match(
    await refusal([...template, '--set', 'config.maxConcurrentReconciles=many']),
    /maxConcurrentReconciles.*want null or integer/,
  );
  assert.match(await refusal([...template, '--set', 'config.resyncInterval=5 minutes']), /resyncInterval/);
  assert.match(
    await refusal([...template, '--set', 'config.defaultSecretPolicy=maybe']),
    /defaultSecretPolicy/,
  );
  assert.match(await refusal([...template, '--set', 'image.tag=latest']), /image\/tag/);
  assert.match(await refusal(['template', 'sro', chart]), /config.sqsQueueUrl is required/);
  assert.match(
    await refusal([...template, '--set', 'rbac.scope=namespace']),
    /rbac.scope=namespace needs config.watchNamespace/,
  );
});

test('every setting of the configuration table (docs/operations.md) is a typed chart value', () => {
  const page = fs.readFileSync(path.join(repoRoot, 'docs', 'operations.md'), 'utf8');
  const start = page.indexOf('\n## Configuration\n');
  assert.ok(start >= 0, 'docs/operations.md has a "## Configuration" section');
  const end = page.indexOf('\n## ', start + 1);
  const table = page.slice(start, end < 0 ? undefined : end);
  const variables = [...table.matchAll(/^\| `([A-Z_]+)`/gm)].map((m) => m[1]);
  const helpers = fs.readFileSync(path.join(chart, 'templates', '_helpers.tpl'), 'utf8');
  const mapped = new Set([...helpers.matchAll(/\(list "[a-zA-Z]+" "([A-Z_]+)"\)/g)].map((m) => m[1]));
  // Set by the Deployment itself: from the downward API, and the mount of notifyHeadersSecret.
  const downward = ['POD_NAME', 'NOTIFY_HEADERS_DIR'];
  const missing = variables.filter((v) => !mapped.has(v) && !downward.includes(v));
  assert.deepEqual(missing, [], 'configuration table settings without a chart value');
  assert.ok(variables.length > 20, `read ${variables.length} settings from docs/operations.md`);
});

const CLUSTER_SCOPED = [
  'ClusterRole',
  'ClusterRoleBinding',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
];

/** The fields two renderings of an object must agree on (labels and Helm's metadata aside). */
function essence(o: Obj): unknown {
  const { metadata, ...rest } = o;
  if (o.kind === 'Deployment') {
    const spec = rest.spec as { template: { spec: { containers: Record<string, unknown>[] } } };
    const pod = spec.template.spec;
    return {
      ...pod,
      containers: pod.containers.map((c) => ({ ...c, env: undefined, image: undefined })),
    };
  }
  // kustomize's namespace transformer also stamps kinds it does not know to be cluster-scoped (the
  // admission policy and its binding); the API server ignores it there.
  const namespace = CLUSTER_SCOPED.includes(o.kind) ? undefined : metadata.namespace;
  return { name: metadata.name, namespace, ...rest };
}

test('the chart and the kustomize manifests do not drift: same objects, same rules, same CRDs, same guard', async () => {
  // The values the kustomize Deployment carries as its example, and the release name `npm run deploy`
  // and the README use (the chart's cluster-scoped names then are the kustomize ones).
  const chartObjects = await renderAs(
    'secrets-rotation-operator',
    'config.awsRegion=us-east-1',
    'config.resyncInterval=5m',
  );
  const base = objects(await kc(['kustomize', path.join(repoRoot, 'manifests', 'base')]));
  const key = (o: Obj): string => `${o.kind}/${o.metadata.name}`;
  const byKey = new Map(chartObjects.map((o) => [key(o), o]));
  // The chart leaves the namespace to `helm install -n … --create-namespace` (Helm's convention) and
  // its CRDs to crds/ (compared below, byte for byte).
  const expected = base.filter((o) => !['Namespace', 'CustomResourceDefinition'].includes(o.kind));
  assert.deepEqual([...byKey.keys()].sort(), expected.map(key).sort());
  for (const o of expected) {
    const c = byKey.get(key(o));
    assert.ok(c, key(o));
    assert.deepEqual(essence(c), essence(o), `${key(o)} differs between chart and kustomize`);
  }
  for (const f of fs.readdirSync(path.join(repoRoot, 'resources')).filter((n) => n.endsWith('.crd.yaml'))) {
    assert.equal(
      fs.readFileSync(path.join(chart, 'crds', f), 'utf8'),
      fs.readFileSync(path.join(repoRoot, 'resources', f), 'utf8'),
      `crds/${f} is resources/${f}`,
    );
  }
  const env = (o: Obj | undefined): { name: string; value?: string }[] =>
    (o?.spec as { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } })
      .template.spec.containers[0].env;
  const chartEnv = env(byKey.get('Deployment/secrets-rotation-operator'));
  for (const e of env(base.find((o) => o.kind === 'Deployment')).filter((e) => e.value)) {
    assert.deepEqual(
      chartEnv.find((c) => c.name === e.name),
      e,
      `${e.name} as kustomize sets it`,
    );
  }
});

test('helm template is accepted by the API server (server-side dry run), in both RBAC scopes', async () => {
  const ns = uniqueName('helm-dry-run');
  await kc(['create', 'namespace', ns]);
  try {
    for (const sets of [[], ['rbac.scope=namespace', `config.watchNamespace=${ns}`]]) {
      const yaml = await helm([
        'template',
        'sro',
        chart,
        '-n',
        ns,
        '--include-crds',
        '--set',
        `config.sqsQueueUrl=${QUEUE}`,
        '--set',
        'metrics.dashboard.enabled=true',
        ...sets.flatMap((s) => ['--set', s]),
      ]);
      await kc(['apply', '--dry-run=server', '--server-side', '--force-conflicts', '-f', '-'], yaml);
    }
    const namespaced = await render('rbac.scope=namespace', `config.watchNamespace=${ns}`);
    const bindings = namespaced.filter((o) => o.kind === 'ClusterRoleBinding').map((o) => o.metadata.name);
    assert.deepEqual(
      bindings,
      ['sro-secrets-rotation-operator-tenancy'],
      'only the read-only tenancy binding is cluster-wide',
    );
    const rb = namespaced.find(
      (o) => o.kind === 'RoleBinding' && o.metadata.name === 'secrets-rotation-operator',
    );
    assert.equal(rb?.metadata.namespace, ns);
  } finally {
    await kc(['delete', 'namespace', ns, '--wait=false']);
  }
});

test('optional monitoring objects render when enabled: ServiceMonitor, PrometheusRule alerts, Grafana dashboard', async () => {
  const all = await render(
    'metrics.serviceMonitor.enabled=true',
    'metrics.prometheusRule.enabled=true',
    'metrics.dashboard.enabled=true',
  );
  assert.ok(all.find((o) => o.kind === 'ServiceMonitor'));
  const rule = all.find((o) => o.kind === 'PrometheusRule') as
    { spec: { groups: { rules: { alert: string }[] }[] } } | undefined;
  assert.deepEqual(
    rule?.spec.groups[0].rules.map((r) => r.alert),
    [
      'SecretsRotationMessageDeadLettered',
      'SecretsRotationRestartsFailing',
      'SecretsRotationSyncTimedOut',
      'SecretsRotationNoLeader',
      'SecretsRotationSlow',
    ],
  );
  const dashboard = all.find((o) => o.kind === 'ConfigMap') as
    { metadata: Obj['metadata']; data: Record<string, string> } | undefined;
  assert.equal(dashboard?.metadata.labels?.grafana_dashboard, '1');
  const json = JSON.parse(dashboard?.data['secrets-rotation-operator.json'] ?? '{}') as {
    panels?: unknown[];
  };
  assert.ok((json.panels ?? []).length >= 6);
  const none = await render();
  assert.equal(
    none.filter((o) => ['ServiceMonitor', 'PrometheusRule', 'ConfigMap'].includes(o.kind)).length,
    0,
  );
});

test('two releases do not collide: every cluster-scoped object carries the release name, and refers to its own', async () => {
  const names = async (release: string): Promise<Obj[]> =>
    (await renderAs(release)).filter((o) => CLUSTER_SCOPED.includes(o.kind));
  const [one, two] = [await names('sro'), await names('other')];
  // Two ClusterRoles and their bindings, the admission policy and its binding.
  assert.equal(one.length, 6, one.map((o) => o.metadata.name).join(', '));
  for (const [release, objs] of [
    ['sro', one],
    ['other', two],
  ] as const) {
    for (const o of objs)
      assert.match(o.metadata.name, new RegExp(`^${release}-`), `${o.kind}/${o.metadata.name}`);
    const own = new Set(objs.map((o) => o.metadata.name));
    for (const o of objs) {
      const ref = (o as { roleRef?: { name: string } }).roleRef?.name;
      const policy = (o as { spec?: { policyName?: string } }).spec?.policyName;
      for (const name of [ref, policy].filter((n) => n !== undefined))
        assert.ok(own.has(name), `${o.kind}/${o.metadata.name} refers to ${name} of its own release`);
    }
  }
  const taken = new Set(one.map((o) => `${o.kind}/${o.metadata.name}`));
  assert.deepEqual(
    two.filter((o) => taken.has(`${o.kind}/${o.metadata.name}`)).map((o) => o.metadata.name),
    [],
  );
});

test('what scanners asked of the chart: PDB evicts unhealthy pods, probes with time to answer, the Lease by name', async () => {
  const all = await render();
  const pdb = all.find((o) => o.kind === 'PodDisruptionBudget') as
    { spec?: Record<string, unknown> } | undefined;
  // Replicas that are not ready (a crash loop, a bad config) must not block a node drain.
  assert.equal(pdb?.spec?.unhealthyPodEvictionPolicy, 'AlwaysAllow');
  const dep = all.find((o) => o.kind === 'Deployment') as
    | {
        spec: {
          template: {
            spec: { containers: Record<string, { timeoutSeconds?: number; failureThreshold?: number }>[] };
          };
        };
      }
    | undefined;
  const container = dep?.spec.template.spec.containers[0] ?? {};
  for (const probe of ['livenessProbe', 'readinessProbe']) {
    assert.equal(container[probe]?.timeoutSeconds, 5, `${probe}.timeoutSeconds`);
    assert.equal(container[probe]?.failureThreshold, 3, `${probe}.failureThreshold`);
  }
  const role = all.find((o) => o.kind === 'Role') as { rules?: unknown[] } | undefined;
  assert.deepEqual(role?.rules, [
    {
      apiGroups: ['coordination.k8s.io'],
      resources: ['leases'],
      resourceNames: ['secrets-rotation-operator'],
      verbs: ['get', 'update'],
    },
    // RBAC cannot limit create by name (the name is not known before the object exists).
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  ]);
});
