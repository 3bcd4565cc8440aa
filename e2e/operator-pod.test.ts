import assert from 'node:assert/strict';
import path from 'node:path';
import { buildImage, exportImage, IMAGE } from './env/image.js';
import { repoRoot, stateDir } from './env/paths.js';
import { loadImage, REAL_NODE } from './env/real-node.js';
import { e2eTest, environment, kc, rotate, waitFor } from './harness.js';
import { waitReason } from './mapping-helpers.js';
import { scenarioWithout } from './scenario.js';

const NS = 'secrets-rotation-operator';

interface PodView {
  spec?: { nodeName?: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

e2eTest(
  'the operator as a pod on the real node (manifests/local): Running and Ready with its ServiceAccount, it restarts on a rotation',
  async (scope) => {
    const s = await environment();
    if (s.noRealNode) {
      scope.t.skip(`no real node: ${s.noRealNode}`);
      return;
    }
    buildImage();
    const archive = path.join(stateDir, 'operator-image.tar');
    exportImage(IMAGE, archive);
    loadImage(archive);

    const sc = await scenarioWithout(scope);
    await kc([
      'apply',
      '--server-side',
      '--force-conflicts',
      '-k',
      path.join(repoRoot, 'manifests', 'local'),
    ]);
    scope.cleanups.push(async () => {
      await kc([
        '-n',
        NS,
        'delete',
        'deployment',
        'secrets-rotation-operator',
        '--wait=true',
        '--timeout=60s',
      ]);
    });
    const pod = await waitFor(
      'the operator pod Running and Ready on the real node',
      async () => {
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
      },
      120_000,
    );
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
  { timeout: 600_000 },
);
