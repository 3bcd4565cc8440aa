import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './env/paths.js';
import { helm, release, uninstall } from './kit/helm-release.js';
import { REAL_NODE, REAL_NODE_TAINT, STATIC_WEB } from './env/real-node.js';
import { e2eTest, environment, kc, rotate, waitFor, type Scope } from './harness.js';
import { metric } from './bench/measure.js';
import { waitReason } from './mapping-helpers.js';
import { scenarioWithout } from './scenario.js';
import { copyPodLogs, keyLines } from './kit/pod-logs.js';
import { SpecChanges, writersReport } from './kit/workload-writers.js';
import { tail } from './env/processes.js';

const NS = 'secrets-rotation-operator';
const chart = path.join(repoRoot, 'manifests', 'helm', 'secrets-rotation-operator');

interface PodView {
  metadata?: { name?: string; deletionTimestamp?: string };
  spec?: {
    nodeName?: string;
    hostNetwork?: boolean;
    containers?: { image?: string; env?: { name: string; value?: string }[] }[];
    volumes?: unknown[];
  };
  status?: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] };
}

/** The pod gets AWS credentials as IRSA gives them: `roleArn` and a projected token, no static key. */
function assertWebIdentity(pod: PodView, roleArn: string | undefined): void {
  const env = JSON.stringify(pod.spec?.containers);
  assert.ok(env.includes(JSON.stringify({ name: 'AWS_ROLE_ARN', value: roleArn })), env);
  assert.doesNotMatch(env, /AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/, 'no static key');
  assert.match(JSON.stringify(pod.spec?.volumes), /"serviceAccountToken":\{"audience":"sts\.amazonaws\.com"/);
}

/** The operator pods that are Running and Ready. */
async function readyOperatorPods(): Promise<PodView[]> {
  const list = JSON.parse(
    await kc([
      '-n',
      NS,
      'get',
      'pods',
      '-l',
      'app.kubernetes.io/name=secrets-rotation-operator',
      '-o',
      'json',
    ]),
  ) as { items: PodView[] };
  return list.items.filter(
    (p) =>
      !p.metadata?.deletionTimestamp &&
      p.status?.phase === 'Running' &&
      p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
}

/** An operator pod that is Running and Ready, with the image it runs. */
const readyOperatorPod = async (): Promise<PodView | undefined> => (await readyOperatorPods())[0];

/** The metrics of the Ready operator pod that leads, read on its pod IP (from the host, over the bridge). */
async function leaderMetrics(): Promise<string | undefined> {
  for (const pod of await readyOperatorPods()) {
    const text = await fetch(`http://${pod.status?.podIP}:8080/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    if (/^secrets_rotation_leader 1$/m.test(text)) return text;
  }
  return undefined;
}

/** A Deployment of the locally built static web server, on the real node. */
const realSite = (): object => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'site', labels: { app: 'web' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'site' } },
    template: {
      metadata: { labels: { app: 'site' } },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': REAL_NODE },
        tolerations: [{ key: REAL_NODE_TAINT, operator: 'Exists', effect: 'NoSchedule' }],
        containers: [
          { name: 'web', image: STATIC_WEB.tag, imagePullPolicy: 'Never', ports: [{ containerPort: 8080 }] },
        ],
      },
    },
  },
});

/** The site's only Running pod and what it answers on its pod IP (from the host, over the bridge). */
async function siteServing(namespace: string): Promise<{ pod: string; body: string } | undefined> {
  const list = JSON.parse(await kc(['-n', namespace, 'get', 'pods', '-l', 'app=site', '-o', 'json'])) as {
    items: {
      metadata: { name: string; deletionTimestamp?: string };
      status?: { phase?: string; podIP?: string };
    }[];
  };
  const live = list.items.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running');
  if (live.length !== 1 || !live[0].status?.podIP) return undefined;
  const res = await fetch(`http://${live[0].status.podIP}:8080/`).catch(() => undefined);
  return res?.ok ? { pod: live[0].metadata.name, body: await res.text() } : undefined;
}

const deployedImage = async (): Promise<string> =>
  kc([
    '-n',
    NS,
    'get',
    'deployment',
    'secrets-rotation-operator',
    '-o',
    'jsonpath={.spec.template.spec.containers[0].image}',
  ]);

/** skip() when the environment has no real node; the release skaffold installed is removed afterwards. */
async function needsRealNode(scope: Scope): Promise<boolean> {
  const s = await environment();
  if (s.noRealNode) {
    scope.t.skip(`no real node: ${s.noRealNode}`);
    return false;
  }
  scope.cleanups.push(uninstall);
  return true;
}

e2eTest(
  'npm run deploy (skaffold run -p local): the operator pod from the local registry, Running and Ready on the real node, replaces real containers on a rotation',
  async (scope) => {
    if (!(await needsRealNode(scope))) return;
    const sc = await scenarioWithout(scope);
    // Beside the kwok `web`, a workload of real containers on the real node, selected by the same mapping.
    await kc(['-n', scope.namespace, 'apply', '-f', '-'], JSON.stringify(realSite()));
    // Who changes the workloads' templates, and what the operator pods said: printed on failure.
    const changes = new SpecChanges(scope.namespace);
    await changes.start();
    const podLogs = copyPodLogs(NS, 'secrets-rotation-operator-');
    scope.cleanups.push(() => {
      changes.stop();
      podLogs.stop();
      return Promise.resolve();
    });
    try {
      await deployRotateUpgrade(scope, sc, changes);
    } catch (err) {
      console.error(podLogs.files.map((f) => `${keyLines(f)}\n${tail(f, 40)}`).join('\n'));
      console.error(await writersReport(scope.namespace, { leaseNamespace: NS, mapping: 'm', changes }));
      throw err;
    }
  },
  { timeout: 900_000 },
);

/** The body of the test above: deploy, rotate once, upgrade (no restart), uninstall. */
async function deployRotateUpgrade(
  scope: Scope,
  sc: Awaited<ReturnType<typeof scenarioWithout>>,
  changes: SpecChanges,
): Promise<void> {
  const before = await waitFor('the real site serving', () => siteServing(scope.namespace), 120_000);
  const deploy = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'e2e', 'env', 'deploy.js')], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 600_000,
  });
  assert.equal(deploy.status, 0, `skaffold run failed:\n${deploy.stdout}\n${deploy.stderr}`);
  assert.equal((await release())?.status, 'deployed', 'helm list shows the release');
  const s = await environment();
  assert.ok(
    /^[^/]+\/secrets-rotation-operator@sha256:[a-f0-9]{64}$/.test(await deployedImage()) &&
      (await deployedImage()).startsWith(`${s.registry}/`),
    'pulled from the local registry, pinned by digest',
  );
  const pod = await waitFor('the operator pod Running and Ready', readyOperatorPod, 120_000);
  assert.equal(pod.spec?.nodeName, REAL_NODE);
  // Admitted where PodSecurity restricted is enforced: on the pod network, not the host's.
  assert.equal(pod.spec?.hostNetwork, undefined);
  assert.equal(
    await kc([
      'get',
      'namespace',
      NS,
      '-o',
      'jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}',
    ]),
    'restricted',
  );
  // IRSA: the stack's role from a projected token; IAM is enforced, so WatchingSecret below proves the exchange.
  assertWebIdentity(pod, s.roleArn);

  await waitReason(scope.namespace, 'm', 'WatchingSecret', 60_000);
  const v2 = await rotate(sc.name, sc.secret.arn);
  await waitFor(
    'web restarted by the operator pod',
    async () => (await sc.stamp()) === `${sc.name}@${v2}`,
    60_000,
  );
  assert.equal(await sc.restarts(), 1);
  const after = await waitFor(
    'the real site served by a new container',
    async () => {
      const now = await siteServing(scope.namespace);
      return now && now.pod !== before.pod ? now : undefined;
    },
    120_000,
  );
  assert.match(after.body, new RegExp(`^hello from ${after.pod}`), 'a real container answers on its pod IP');

  // An upgrade with the mapping live (a new operator pod, the same secret version) restarts nothing.
  const operatorsBefore = new Set((await readyOperatorPods()).map((p) => p.metadata?.name));
  await helm([
    'upgrade',
    'secrets-rotation-operator',
    chart,
    '-n',
    NS,
    '--reuse-values',
    '--set',
    'podAnnotations.upgraded=yes',
    '--wait',
    '--timeout=120s',
  ]);
  await waitFor(
    'only new operator pods Ready',
    async () => {
      const pods = await readyOperatorPods();
      return pods.length > 0 && pods.every((p) => !operatorsBefore.has(p.metadata?.name)) ? pods : undefined;
    },
    120_000,
  );
  assert.equal((await release())?.revision, '2');
  await waitFor(
    'a new pod leads and has reconciled the mapping',
    async () => {
      const text = await leaderMetrics();
      return text !== undefined && metric(text, 'secrets_rotation_reconcile_duration_seconds_count') > 0;
    },
    60_000,
  );
  assert.equal(await sc.restarts(), 1, 'the upgrade restarted no workload');
  assert.deepEqual(
    ['Deployment/web', 'Deployment/site'].map((w) => changes.count(w)),
    [1, 1],
    'one template change per mapped workload: the rotation',
  );
  assert.equal((await siteServing(scope.namespace))?.pod, after.pod, 'the real site kept its container');

  // Uninstall leaves nothing of the operator behind but the CRDs (Helm never deletes crds/).
  await helm(['uninstall', 'secrets-rotation-operator', '-n', NS, '--wait', '--timeout=90s']);
  const left = await kc([
    'get',
    'clusterrole,clusterrolebinding,validatingadmissionpolicy,validatingadmissionpolicybinding',
    '-o',
    'name',
  ]);
  assert.doesNotMatch(left, /\/secrets-rotation-operator/);
  // The pods go after their ReplicaSet, by the garbage collector: waited for, not assumed.
  await waitFor(
    'nothing of the release left in its namespace',
    async () =>
      (await kc(['-n', NS, 'get', 'all,sa,role,rolebinding,pdb,networkpolicy', '-o', 'name']))
        .replace(/serviceaccount\/default\n?/, '')
        .trim() === '',
    60_000,
  );
  await kc([
    'get',
    'crd',
    'secretsrotationmappings.secretsrotation.io',
    'secretsrotationpolicies.secretsrotation.io',
  ]);
  await uninstall();
}

e2eTest(
  'skaffold dev -p local: a source change rebuilds the image and redeploys the operator pod',
  async (scope) => {
    if (!(await needsRealNode(scope))) return;
    // A copy of the sources, so the test can edit one without touching the repository.
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'sro-skaffold-dev-'));
    scope.cleanups.push(() => Promise.resolve(fs.rmSync(copy, { recursive: true, force: true })));
    for (const f of [
      'Dockerfile',
      '.dockerignore',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'skaffold.yaml',
    ])
      fs.copyFileSync(path.join(repoRoot, f), path.join(copy, f));
    for (const d of ['operator', 'resources', 'e2e', 'manifests', 'dist'])
      fs.cpSync(path.join(repoRoot, d), path.join(copy, d), { recursive: true });
    const s = await environment();
    const log = path.join(copy, 'skaffold-dev.log');
    const fd = fs.openSync(log, 'a');
    const dev = spawn(
      path.join(s.binDir, 'skaffold'),
      [
        'dev',
        '-p',
        'local',
        '--port-forward=false',
        '--cleanup=false',
        '--trigger=polling',
        '--watch-poll-interval=500',
      ],
      {
        cwd: copy,
        stdio: ['ignore', fd, fd],
        env: {
          ...process.env,
          KUBECONFIG: s.kubeconfig,
          PATH: `${s.binDir}:${process.env.PATH ?? ''}`,
          SKAFFOLD_DEFAULT_REPO: s.registry,
          SKAFFOLD_INSECURE_REGISTRY: s.registry,
          SKAFFOLD_UPDATE_CHECK: 'false',
        },
      },
    );
    fs.closeSync(fd);
    scope.logs.push(log);
    scope.cleanups.push(async () => {
      dev.kill('SIGINT');
      await new Promise((r) => dev.once('exit', r));
    });
    const first = await waitFor(
      'skaffold dev deployed the operator',
      async () => {
        if (dev.exitCode !== null) throw new Error(`skaffold dev exited with ${dev.exitCode}`);
        const image = await deployedImage().catch(() => '');
        return image.startsWith(`${s.registry}/`) && (await readyOperatorPod()) ? image : undefined;
      },
      300_000,
    );

    // A change made before skaffold lists the files to watch would go unseen.
    await waitFor('skaffold dev watching', () =>
      Promise.resolve(fs.readFileSync(log, 'utf8').includes('Watching for changes')),
    );
    fs.appendFileSync(path.join(copy, 'operator', 'main.ts'), '\n// a change skaffold dev must pick up\n');
    const second = await waitFor(
      'skaffold dev rebuilt and redeployed',
      async () => {
        const image = await deployedImage().catch(() => '');
        const pod = await readyOperatorPod();
        return image !== first && pod?.spec?.containers?.[0]?.image === image ? image : undefined;
      },
      300_000,
    );
    assert.notEqual(second, first);
  },
  { timeout: 900_000 },
);
