import assert from 'node:assert/strict';
import {
  createSecret,
  drained,
  e2eTest,
  installCrd,
  kc,
  operatorKubeconfig,
  rotate,
  startOperator,
  testQueue,
  uniqueName,
} from './harness.js';
import { applyMapping, eventReasons, waitReason } from './mapping-helpers.js';

/*
 * Bounds: what the schema refuses at apply, and what the operator refuses when a valid spec reaches
 * more than a status can hold.
 */

e2eTest('a selector past its bounds (5,000 expressions, a long value) is refused at apply', async (scope) => {
  await installCrd();
  const body = (selector: object): string =>
    JSON.stringify({
      apiVersion: 'secretsrotation.io/v1alpha1',
      kind: 'SecretsRotationMapping',
      metadata: { name: 'big', namespace: scope.namespace },
      spec: { secretId: 'db', selector },
    });
  const expressions = Array.from({ length: 5000 }, (_, i) => ({ key: `k${i}`, operator: 'Exists' }));
  const refused = (selector: object): Promise<string> =>
    kc(['apply', '-f', '-'], body(selector)).then(
      () => 'accepted',
      (err: Error) => err.message,
    );
  assert.match(
    await refused({ matchExpressions: expressions }),
    /matchExpressions: Too many: 5000: must have at most 32 items/,
  );
  assert.match(
    await refused({ matchLabels: { app: 'x'.repeat(64) } }),
    /Too long: may not be (longer|more) than 63/,
  );
  assert.equal(await refused({ matchLabels: { app: 'web' } }), 'accepted');
});

e2eTest(
  'a selector reaching more workloads than a status can list is TooManyWorkloads, and restarts none',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const name = uniqueName('many');
    const secret = await createSecret(name);
    // 1,001 Deployments without pods (replicas 0): one more than a mapping may target.
    const items = Array.from({ length: 1001 }, (_, i) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `d${i}`, namespace: ns, labels: { app: 'many' } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: `d${i}` } },
        template: {
          metadata: { labels: { app: `d${i}` } },
          spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] },
        },
      },
    }));
    await kc(
      ['apply', '--server-side', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
    );
    await applyMapping(ns, 'm', { secretId: name, selector: { matchLabels: { app: 'many' } } });
    const queue = await testQueue(scope, { withRules: true });
    await startOperator(scope, { kubeconfig: await operatorKubeconfig(scope), queueUrl: queue.queueUrl });
    const m = await waitReason(ns, 'm', 'TooManyWorkloads', 60_000);
    assert.match(
      m.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '',
      /targets 1001 workloads, more than the 1000/,
    );
    assert.ok((await eventReasons(ns, 'm')).includes('TooManyWorkloads'), 'a Warning Event says why');
    await rotate(name, secret.arn);
    // The rotation is seen (the signal settles the pass) and restarts nothing.
    await drained(queue.queueUrl);
    const stamped = await kc([
      '-n',
      ns,
      'get',
      'deployments',
      '-o',
      'jsonpath={range .items[*]}{.spec.template.metadata.annotations.secretsrotation\\.io/secret-version}{end}',
    ]);
    assert.equal(stamped, '', 'no Deployment restarted');
    // One fewer: within the bound, the mapping is served again.
    await kc(['-n', ns, 'delete', 'deployment', 'd1000']);
    await waitReason(ns, 'm', 'WatchingSecret', 60_000);
  },
  { timeout: 300_000 },
);
