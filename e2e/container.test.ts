import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { localAwsEnv } from './env/aws-setup.js';
import { Containerd } from './env/containerd.js';
import { buildImage, exportImage, IMAGE, imageToolsMissing, inImage } from './env/image.js';
import { operatorRoleEnv } from './kit/aws-role.js';
import { logDir, repoRoot, stateDir } from './env/paths.js';
import { freePort } from './env/processes.js';
import { e2eTest, environment, operatorKubeconfig, rotate, waitFor } from './harness.js';
import { waitReason } from './mapping-helpers.js';
import { scenarioWithout } from './scenario.js';

const readyz = (port: number): Promise<number> =>
  new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path: '/readyz' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', () => resolve(0));
  });

/** The ServiceAccount files a kubelet would mount, from the operator's test identity. */
function serviceAccountDir(kubeconfig: string, caCert: string, namespace: string): string {
  const token = /token: (\S+)/.exec(fs.readFileSync(kubeconfig, 'utf8'))?.[1];
  assert.ok(token, 'the operator kubeconfig holds a ServiceAccount token');
  const dir = path.join(stateDir, `sa-${namespace}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'token'), token);
  fs.copyFileSync(caCert, path.join(dir, 'ca.crt'));
  fs.writeFileSync(path.join(dir, 'namespace'), namespace);
  return dir;
}

const EKS_TOKEN_DIR = '/var/run/secrets/eks.amazonaws.com/serviceaccount';

/**
 * What a security review asks of the image: no shell and no npm (node and the bundle only), and an
 * SBOM listing the bundled production dependencies at the lockfile's versions.
 */
function assertHardened(): void {
  // One working container for both reads: its file list and its SBOM.
  const [paths, sbomText] = inImage(
    IMAGE,
    (root) =>
      [
        (fs.readdirSync(root, { recursive: true }) as string[]).map((p) => `/${p}`),
        fs.readFileSync(path.join(root, 'app', 'sbom.cdx.json'), 'utf8'),
      ] as const,
  );
  assert.ok(
    paths.includes('/usr/local/bin/node') && paths.includes('/app/operator.mjs'),
    'node and the bundle',
  );
  const forbidden = paths.filter((p) =>
    /(^|\/)(sh|bash|dash|busybox|apt|dpkg)$|\/npm(\/|$)|node_modules/.test(p),
  );
  assert.deepEqual(forbidden, [], 'no shell, package manager, npm or node_modules in the image');
  const sbom = JSON.parse(sbomText) as {
    bomFormat: string;
    components: { name: string; version: string }[];
  };
  assert.equal(sbom.bomFormat, 'CycloneDX');
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version: string }>;
  };
  for (const dep of Object.keys(pkg.dependencies)) {
    const version = lock.packages[`node_modules/${dep}`].version;
    assert.ok(
      sbom.components.some((c) => c.name === dep && c.version === version),
      `SBOM lists ${dep}@${version}`,
    );
  }
  for (const dep of ['typescript', 'esbuild'])
    assert.ok(!sbom.components.some((c) => c.name === dep), `no dev dependency (${dep}) in the SBOM`);
}

e2eTest(
  'the image built from the Dockerfile (no shell, no npm, an SBOM) runs under containerd (runc, non-root, read-only root, in-cluster config, IRSA) and restarts on a rotation',
  async (scope) => {
    const missing = imageToolsMissing();
    if (missing) {
      scope.t.skip(missing);
      return;
    }
    const image = buildImage();
    console.log(`image ${image.ref}: ${(image.size / 1e6).toFixed(1)} MB in ${image.layers.length} layers`);
    assertHardened();
    const archive = path.join(stateDir, 'operator-image.tar');
    exportImage(IMAGE, archive);
    const containerd = await Containerd.start();
    scope.cleanups.push(() => containerd.stop());
    assert.ok(containerd.importImage(archive).includes(IMAGE));

    const s = await environment();
    const sc = await scenarioWithout(scope);
    const sa = serviceAccountDir(await operatorKubeconfig(scope), s.caCert, scope.namespace);
    const api = new URL(s.apiserverUrl);
    const port = await freePort();
    const log = path.join(logDir, `operator-container-${scope.namespace}.log`);
    scope.logs.push(log);
    const id = `sro-${scope.namespace}`.slice(0, 60);
    const role = await operatorRoleEnv(scope.namespace, {
      queueUrl: sc.queue.queueUrl,
      awsEndpoint: s.awsEndpoint,
    });
    const awsToken = path.join(stateDir, `aws-${scope.namespace}`, 'token');
    fs.mkdirSync(path.dirname(awsToken), { recursive: true });
    fs.copyFileSync(role.AWS_WEB_IDENTITY_TOKEN_FILE, awsToken);
    // The kubelet makes a projected token readable by the pod's user (runAsUser): here, the image's 1000.
    fs.chownSync(awsToken, 1000, 1000);
    const container = containerd.run(id, IMAGE, {
      env: {
        // What the kubelet gives a pod: the API server's address; the token and CA below.
        KUBERNETES_SERVICE_HOST: api.hostname,
        KUBERNETES_SERVICE_PORT: api.port,
        WATCH_NAMESPACE: scope.namespace,
        SQS_QUEUE_URL: sc.queue.queueUrl,
        // IRSA as EKS's webhook sets it up: the role, and a projected token where EKS mounts it.
        ...localAwsEnv(s.awsEndpoint, { ...role, AWS_WEB_IDENTITY_TOKEN_FILE: `${EKS_TOKEN_DIR}/token` }),
        METRICS_PORT: String(port),
        METRICS_BIND_ADDRESS: '127.0.0.1',
        SQS_WAIT_TIME_SECONDS: '2',
        POD_NAME: id,
      },
      mounts: [
        { src: sa, dst: '/var/run/secrets/kubernetes.io/serviceaccount' },
        { src: path.dirname(awsToken), dst: EKS_TOKEN_DIR },
      ],
      log,
    });
    scope.cleanups.push(() => container.stop());
    await waitFor('the operator container ready', async () => (await readyz(port)) === 200, 60_000);

    const pid = containerd.taskPid(id);
    const uid = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    assert.equal(uid, '1000', 'runs as the image’s non-root user');
    const rootMount = fs
      .readFileSync(`/proc/${pid}/mounts`, 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[1] === '/');
    assert.match(rootMount?.split(' ')[3] ?? '', /(^|,)ro(,|$)/, `read-only root filesystem: ${rootMount}`);

    await waitReason(scope.namespace, 'm', 'WatchingSecret');
    const v2 = await rotate(sc.name, sc.secret.arn);
    await waitFor(
      'web restarted by the containerized operator',
      async () => (await sc.stamp()) === `${sc.name}@${v2}`,
    );
    assert.equal(await sc.restarts(), 1);
    assert.equal(await container.stop(), 0, 'SIGTERM ends the container cleanly');
  },
  { timeout: 600_000 },
);
