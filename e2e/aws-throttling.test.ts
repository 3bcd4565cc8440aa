import assert from 'node:assert/strict';
import { metric } from './bench/measure.js';
import {
  drained,
  e2eTest,
  environment,
  installCrd,
  operatorKubeconfig,
  rotate,
  startOperator,
  testQueue,
  waitFor,
} from './harness.js';
import {
  applyMapping,
  eventReasons,
  getMapping,
  mappedDeployment,
  ready,
  waitReason,
} from './mapping-helpers.js';
import { ThrottlingProxy } from './throttling-proxy.js';
import { templateState } from './workloads-fixtures.js';

e2eTest(
  'DescribeSecret throttled: a message is retried with backoff and received once; a pass backs off with Ready untouched',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const { secret: name, arn } = await mappedDeployment(ns, 'web', { app: 'web' });
    // A short visibility timeout: a message left for redelivery would come back within the test.
    const queue = await testQueue(scope, { withRules: true, visibilityTimeout: 5 });
    const proxy = await ThrottlingProxy.start((await environment()).awsEndpoint);
    scope.cleanups.push(() => proxy.close());
    const op = await startOperator(scope, {
      kubeconfig: await operatorKubeconfig(scope),
      queueUrl: queue.queueUrl,
      awsEndpoint: proxy.url,
      env: { RESYNC_INTERVAL: '0s', SECRET_CACHE_TTL: '1s' },
    });
    await waitReason(ns, 'web', 'WatchingSecret');
    const received = (): Promise<number> =>
      op.metrics().then((t) => metric(t, 'secrets_rotation_messages_received_total'));
    const before = await received();

    // More throttled answers in a row than the SDK's own three attempts absorb.
    proxy.throttle(5);
    const version = await rotate(name, arn);
    await waitFor(
      'web restarted',
      async () => (await templateState('Deployment', ns, 'web')).stamp === `${name}@${version}`,
      30_000,
    );
    await drained(queue.queueUrl);
    assert.equal(proxy.throttled, 5, 'the throttled answers were given');
    assert.equal((await received()) - before, 1, 'the message was received once: no redelivery');
    assert.equal(ready(await getMapping(ns, 'web')).status, 'True');

    // A pass whose own lookup is throttled (its cached answer expired; the spec changed) backs off
    // and keeps Ready as it was: throttling says nothing about the mapping.
    await new Promise((r) => setTimeout(r, 1500));
    proxy.throttle(5);
    const seen = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const c = ready(await getMapping(ns, 'web'));
        seen.add(`${c.status}/${c.reason}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await applyMapping(ns, 'web', {
      secretId: name,
      workloads: [{ kind: 'Deployment', name: 'web' }],
      minRestartInterval: '1s',
    });
    await waitFor('the throttled answers given', () => Promise.resolve(proxy.throttled === 10), 30_000);
    await waitReason(ns, 'web', 'WatchingSecret');
    sampling = false;
    await sampler;
    assert.deepEqual([...seen], ['True/WatchingSecret'], 'Ready never flipped');
    assert.ok(!(await eventReasons(ns, 'web')).includes('AwsError'));
  },
);
