import assert from 'node:assert/strict';
import { createSecret, e2eTest, installCrd, kc, operatorKubeconfig, putEvent, putSecretValueEvent, queueCounts, rotate, startOperator, testQueue, uniqueName, waitFor } from './harness.js';
import { applyMapping, eventReasons, getMapping, ready, waitReason } from './mapping-helpers.js';
import { createWorkload, templateState } from './workloads-fixtures.js';

const KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;

e2eTest('a rotation restarts every matched workload exactly once, and nothing else', async (scope) => {
  const ns = scope.namespace;
  await installCrd();
  const secretName = uniqueName('db');
  const secret = await createSecret(secretName);
  for (const kind of KINDS) await createWorkload(kind, ns, `app-${kind.toLowerCase()}`, { environment: 'operatortest' });
  await createWorkload('Deployment', ns, 'unrelated', { environment: 'other' });
  await applyMapping(ns, 'm', { secretId: secretName, selector: { matchLabels: { environment: 'operatortest' } } });
  const queue = await testQueue(scope, { withRules: true });
  await startOperator(scope, { kubeconfig: await operatorKubeconfig(scope), queueUrl: queue.queueUrl });

  await kc(['-n', ns, 'wait', '--for=condition=Ready', 'srm/m', '--timeout=30s']);
  const m = await getMapping(ns, 'm');
  assert.ok(m.metadata.finalizers?.includes('secretsrotation.io/finalizer'));
  assert.equal(m.status?.currentVersionId, secret.versionId, 'a new mapping adopts the current version');
  assert.equal(m.status?.secretArn, secret.arn);
  assert.equal(m.status?.matchedWorkloads, 3);
  const table = await kc(['-n', ns, 'get', 'srm']);
  assert.match(table, /NAME\s+SECRET\s+WORKLOADS\s+LAST ROTATION\s+READY\s+REASON\s+AGE/);
  assert.match(table, new RegExp(`m\\s+${secretName}\\s+3\\s+True\\s+WatchingSecret`));

  const names = [...KINDS.map((k) => [k, `app-${k.toLowerCase()}`] as const), ['Deployment', 'unrelated'] as const];
  const before = await Promise.all(names.map(([k, n]) => templateState(k, ns, n)));
  assert.ok(before.every((s) => s.stamp === undefined), 'baseline restarts nothing');

  const v2 = await rotate(secretName, secret.arn);
  await waitFor('all three workloads restarted', async () => {
    const s = await Promise.all(names.slice(0, 3).map(([k, n]) => templateState(k, ns, n)));
    return s.every((x) => x.stamp === `${secretName}@${v2}`);
  });
  await kc(['-n', ns, 'rollout', 'status', 'deployment/app-deployment', '--timeout=60s']);
  const rs = await kc(['-n', ns, 'get', 'rs', '-l', 'app=app-deployment', '-o', 'jsonpath={range .items[*]}{.status.replicas}{" "}{end}']);
  assert.deepEqual(rs.trim().split(' ').sort(), ['0', '2'], 'a new ReplicaSet took over, the old one scaled to 0');

  // The same event 5 more times (duplicate deliveries): nothing more may restart.
  for (let i = 0; i < 5; i++) await putEvent('AWS API Call via CloudTrail', putSecretValueEvent(secretName, secret.arn, v2));
  await waitFor('queue drained', async () => {
    const c = await queueCounts(queue.queueUrl);
    return c.visible + c.inflight === 0;
  });
  const after = await waitReason(ns, 'm', 'WatchingSecret');
  assert.equal(ready(after).status, 'True');
  const mid = await Promise.all(names.map(([k, n]) => templateState(k, ns, n)));
  assert.deepEqual(mid.map((s, i) => s.generation - before[i].generation), [1, 1, 1, 0], 'exactly one template change per matched workload');
  assert.ok((await eventReasons(ns, 'm')).includes('WorkloadRestarted'));
  assert.equal(mid[3].stamp, undefined, 'the unrelated workload is untouched');
});
