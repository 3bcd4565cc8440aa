import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './env/paths.js';
import { REAL_NODE } from './env/real-node.js';
import { e2eTest, environment, kc, rotate, waitFor, type Scope } from './harness.js';
import { waitReason } from './mapping-helpers.js';
import { scenarioWithout } from './scenario.js';

const NS = 'secrets-rotation-operator';

interface PodView {
  spec?: { nodeName?: string; containers?: { image?: string }[] };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

/** The operator pod that is Running and Ready, with the image it runs. */
async function readyOperatorPod(): Promise<PodView | undefined> {
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
  return list.items.find(
    (p) =>
      p.status?.phase === 'Running' &&
      p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
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

/** skip() when the environment has no real node; the Deployment skaffold made is removed afterwards. */
async function needsRealNode(scope: Scope): Promise<boolean> {
  const s = await environment();
  if (s.noRealNode) {
    scope.t.skip(`no real node: ${s.noRealNode}`);
    return false;
  }
  scope.cleanups.push(() =>
    kc([
      '-n',
      NS,
      'delete',
      'deployment',
      'secrets-rotation-operator',
      '--ignore-not-found',
      '--wait=true',
      '--timeout=60s',
    ]),
  );
  return true;
}

e2eTest(
  'npm run deploy (skaffold run -p local): built with buildah, pushed to the local registry, the operator pod Running and Ready on the real node restarts on a rotation',
  async (scope) => {
    if (!(await needsRealNode(scope))) return;
    const sc = await scenarioWithout(scope);
    const deploy = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'e2e', 'env', 'deploy.js')], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 600_000,
    });
    assert.equal(deploy.status, 0, `skaffold run failed:\n${deploy.stdout}\n${deploy.stderr}`);
    const s = await environment();
    assert.ok(
      (await deployedImage()).startsWith(`${s.registry}/secrets-rotation-operator:`),
      'pulled from the local registry',
    );
    const pod = await waitFor('the operator pod Running and Ready', readyOperatorPod, 120_000);
    assert.equal(pod.spec?.nodeName, REAL_NODE);

    await waitReason(scope.namespace, 'm', 'WatchingSecret', 60_000);
    const v2 = await rotate(sc.name, sc.secret.arn);
    await waitFor(
      'web restarted by the operator pod',
      async () => (await sc.stamp()) === `${sc.name}@${v2}`,
      60_000,
    );
    assert.equal(await sc.restarts(), 1);
  },
  { timeout: 900_000 },
);

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
