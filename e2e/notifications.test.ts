import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { stateDir } from './env/paths.js';
import { metric } from './bench/measure.js';
import {
  adminClients,
  e2eTest,
  installCrd,
  operatorKubeconfig,
  rotate,
  startOperator,
  testQueue,
  waitFor,
  type Scope,
} from './harness.js';
import { mappedDeployment, waitReason } from './mapping-helpers.js';
import { templateState } from './workloads-fixtures.js';

interface Received {
  at: number;
  auth?: string;
  event: {
    type: string;
    subject: string;
    data: { reason: string; secret: string; version?: string; workload?: string };
  };
  raw: string;
}

/**
 * A webhook receiver on loopback; `behaviour` decides each answer: a status, or 'hang' (answer
 * nothing for `hangMs`, then 200).
 */
async function receiver(scope: Scope, behaviour: () => number | 'hang', hangMs = 8000) {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const answer = behaviour();
      const record = (): void => {
        got.push({
          at: Date.now(),
          auth: req.headers.authorization,
          event: JSON.parse(raw) as Received['event'],
          raw,
        });
      };
      if (answer === 'hang') setTimeout(() => (record(), res.writeHead(200).end()), hangMs);
      else {
        if (answer < 300) record();
        res.writeHead(answer).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  scope.cleanups.push(() => new Promise((r) => (server.closeAllConnections(), server.close(r))));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, got };
}

/** When the mapping's Events of `reason` were created (the API server's clock, to the second). */
async function eventTimes(ns: string, reason: string): Promise<number[]> {
  const { core } = await adminClients();
  const list = await core.listNamespacedEvent({ namespace: ns, fieldSelector: `reason=${reason}` });
  return list.items.map((e) => new Date(e.metadata?.creationTimestamp ?? 0).getTime());
}

e2eTest(
  'NOTIFY_WEBHOOK_URL: CloudEvents of a rotation within a second of its Events; a slow, then failing receiver delays no restart and is retried until it recovers',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    let mode: 'ok' | 'slow-then-fail' = 'ok';
    let calls = 0;
    let firstSlowCall = 0;
    const hook = await receiver(scope, () => {
      calls++;
      if (mode === 'ok') return 200;
      // The first call hangs, the next three fail, then the receiver recovers.
      const n = calls - firstSlowCall;
      return n === 0 ? 'hang' : n <= 3 ? 503 : 200;
    });
    const headers = path.join(stateDir, `notify-headers-${ns}`);
    fs.mkdirSync(headers, { recursive: true });
    fs.writeFileSync(path.join(headers, 'Authorization'), 'Bearer local-token\n');
    const value = `very-secret-${ns}`;
    const { secret, arn } = await mappedDeployment(ns, 'web', { app: 'web' });
    const op = await startOperator(scope, {
      kubeconfig: await operatorKubeconfig(scope),
      queueUrl: (await testQueue(scope, { withRules: true })).queueUrl,
      env: { NOTIFY_WEBHOOK_URL: hook.url, NOTIFY_HEADERS_DIR: headers },
    });
    await waitReason(ns, 'web', 'WatchingSecret');

    const v2 = await rotate(secret, arn, { value });
    const reasons = ['RotationDetected', 'WorkloadRestarted', 'RolloutComplete'];
    await waitFor(
      'three notifications',
      () =>
        Promise.resolve(
          reasons.every((r) =>
            hook.got.some((g) => g.event.data.reason === r && g.event.data.version === v2),
          ),
        ),
      60_000,
    );
    for (const reason of reasons) {
      const n = hook.got.find((g) => g.event.data.reason === reason);
      assert.equal(n?.event.type, `io.secretsrotation.${reason}`);
      assert.equal(n?.event.data.secret, secret);
      assert.equal(n?.auth, 'Bearer local-token', 'the header from NOTIFY_HEADERS_DIR');
      // Event times are whole seconds: the notification came within a second of the Event's second.
      const [created] = await eventTimes(ns, reason);
      assert.ok(n && n.at - created < 2000, `${reason}: ${n ? n.at - created : '?'} ms after its Event`);
    }
    assert.equal(
      hook.got.find((g) => g.event.data.reason === 'WorkloadRestarted')?.event.data.workload,
      'Deployment/web',
    );
    assert.ok(
      hook.got.every((g) => !g.raw.includes(value)),
      'no secret value in any notification',
    );

    // The receiver hangs, then fails: the next rotation's restart is not delayed.
    mode = 'slow-then-fail';
    firstSlowCall = calls + 1;
    const rotatedAt = Date.now();
    const v3 = await rotate(secret, arn);
    await waitFor(
      'restarted for v3',
      async () => (await templateState('Deployment', ns, 'web')).stamp === `${secret}@${v3}`,
    );
    assert.ok(Date.now() - rotatedAt < 8000, 'restarted while the receiver still hangs');
    await waitFor(
      'the v3 notifications delivered after retries',
      () =>
        Promise.resolve(
          reasons.every((r) =>
            hook.got.some((g) => g.event.data.reason === r && g.event.data.version === v3),
          ),
        ),
      60_000,
    );
    const text = await op.metrics();
    assert.ok(
      metric(text, 'secrets_rotation_notifications_total', 'result="failed"') >= 3,
      'the failures were retried',
    );
    assert.equal(metric(text, 'secrets_rotation_notifications_dropped_total', 'reason="gave_up"'), 0);
  },
);
