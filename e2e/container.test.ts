import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { localAwsEnv } from './env/aws-setup.js';
import { Containerd } from './env/containerd.js';
import { buildImage, exportImage, IMAGE, imageToolsMissing } from './env/image.js';
import { logDir, stateDir } from './env/paths.js';
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

e2eTest(
  'the image built from the Dockerfile runs under containerd (runc, non-root, read-only root, in-cluster config) and restarts on a rotation',
  async (scope) => {
    const missing = imageToolsMissing();
    if (missing) {
      scope.t.skip(missing);
      return;
    }
    const image = buildImage();
    console.log(`image ${image.ref}: ${(image.size / 1e6).toFixed(1)} MB in ${image.layers.length} layers`);
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
    const container = containerd.run(id, IMAGE, {
      env: {
        // What the kubelet gives a pod: the API server's address; the token and CA below.
        KUBERNETES_SERVICE_HOST: api.hostname,
        KUBERNETES_SERVICE_PORT: api.port,
        WATCH_NAMESPACE: scope.namespace,
        SQS_QUEUE_URL: sc.queue.queueUrl,
        ...localAwsEnv(s.awsEndpoint),
        METRICS_PORT: String(port),
        METRICS_BIND_ADDRESS: '127.0.0.1',
        SQS_WAIT_TIME_SECONDS: '2',
        POD_NAME: id,
      },
      mounts: [{ src: sa, dst: '/var/run/secrets/kubernetes.io/serviceaccount' }],
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
