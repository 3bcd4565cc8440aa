import assert from 'node:assert/strict';
import type { Mapping } from '../resources/types.js';
import {
  e2eTest,
  installCrd,
  kc,
  operatorKubeconfig,
  rotate,
  startOperator,
  testQueue,
  waitFor,
} from './harness.js';
import { applyMapping, eventReasons, getMapping, mappedDeployment, waitReason } from './mapping-helpers.js';
import { templateState } from './workloads-fixtures.js';

const entry = (m: Mapping) => m.status?.workloads?.[0];

/** A daily window of one minute, twelve hours from now (UTC): closed for the whole test. */
function farWindow(now = new Date()): { schedule: string; duration: string; opensAt: string } {
  const opens = new Date(now.getTime() + 12 * 3_600_000);
  opens.setUTCSeconds(0, 0);
  return {
    schedule: `${opens.getUTCMinutes()} ${opens.getUTCHours()} * * *`,
    duration: '1m',
    opensAt: opens.toISOString(),
  };
}

e2eTest(
  'outside its restart window a due restart waits, Pending and naming the next window; once a window is open it restarts',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const { secret, arn } = await mappedDeployment(ns, 'web', { app: 'web' });
    const far = farWindow();
    const spec = { secretId: secret, workloads: [{ kind: 'Deployment' as const, name: 'web' }] };
    await applyMapping(ns, 'web', {
      ...spec,
      restartWindows: [{ schedule: far.schedule, duration: far.duration }],
    });
    const queue = await testQueue(scope, { withRules: true });
    await startOperator(scope, { kubeconfig: await operatorKubeconfig(scope), queueUrl: queue.queueUrl });
    await waitReason(ns, 'web', 'WatchingSecret');

    const v2 = await rotate(secret, arn);
    const pending = await waitFor('the restart waiting for its window', async () => {
      const m = await getMapping(ns, 'web');
      return entry(m)?.state === 'Pending' ? m : undefined;
    });
    assert.equal(
      entry(pending)?.message,
      `restart for version ${v2} waits for the next restart window, opening at ${far.opensAt}`,
    );
    assert.equal((await templateState('Deployment', ns, 'web')).stamp, undefined, 'not restarted');
    assert.ok((await eventReasons(ns, 'web')).includes('RestartDeferred'));

    // The window edited to one open now (every minute, for an hour): the restart goes.
    await applyMapping(ns, 'web', { ...spec, restartWindows: [{ schedule: '* * * * *', duration: '1h' }] });
    await waitFor(
      'restarted in the window',
      async () => (await templateState('Deployment', ns, 'web')).stamp === `${secret}@${v2}`,
    );
    const detected = (await eventReasons(ns, 'web')).filter((r) => r === 'RotationDetected');
    assert.equal(detected.length, 1, 'one rotation, announced once (when it began to wait)');
  },
);

e2eTest(
  'a window that opens a little later: the waiting restart goes when it opens, by a timer, with no other change',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const { secret, arn } = await mappedDeployment(ns, 'web', { app: 'web' });
    // The next whole minute at least 15 s away (UTC), open for 5 minutes.
    const opens = new Date(Date.now() + 75_000);
    opens.setUTCSeconds(0, 0);
    await applyMapping(ns, 'web', {
      secretId: secret,
      workloads: [{ kind: 'Deployment', name: 'web' }],
      restartWindows: [
        {
          schedule: `${opens.getUTCMinutes()} ${opens.getUTCHours()} * * *`,
          duration: '5m',
          timeZone: 'UTC',
        },
      ],
    });
    const queue = await testQueue(scope, { withRules: true });
    await startOperator(scope, {
      kubeconfig: await operatorKubeconfig(scope),
      queueUrl: queue.queueUrl,
      // No periodic resync to stand in for the timer.
      env: { RESYNC_INTERVAL: '0s' },
    });
    await waitReason(ns, 'web', 'WatchingSecret');
    const v2 = await rotate(secret, arn);
    await waitFor('Pending', async () => entry(await getMapping(ns, 'web'))?.state === 'Pending');
    assert.ok(Date.now() < opens.getTime(), 'the window has not opened yet');
    await waitFor(
      'restarted once the window opened',
      async () => (await templateState('Deployment', ns, 'web')).stamp === `${secret}@${v2}`,
      opens.getTime() - Date.now() + 20_000,
    );
    // The operator writes the status after the patch: under load the template changes first.
    const restartedAt = await waitFor(
      'the restart recorded in the status',
      async () => Date.parse(entry(await getMapping(ns, 'web'))?.restartedAt ?? '') || undefined,
      30_000,
    );
    assert.ok(
      restartedAt >= opens.getTime(),
      `restarted at ${new Date(restartedAt).toISOString()}, the window opens ${opens.toISOString()}`,
    );
    assert.ok(restartedAt < opens.getTime() + 10_000, 'within seconds of the opening');
    assert.match(await kc(['-n', ns, 'get', 'srm', 'web']), /True\s+WatchingSecret/);
  },
  { timeout: 240_000 },
);

e2eTest(
  'a restart window the schema cannot judge (minute 61, an unknown zone) is InvalidSpec naming the field',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const { secret } = await mappedDeployment(ns, 'web', { app: 'web' });
    await applyMapping(ns, 'web', {
      secretId: secret,
      workloads: [{ kind: 'Deployment', name: 'web' }],
      restartWindows: [
        { schedule: '61 2 * * *', duration: '1h' },
        { schedule: '0 2 * * *', duration: '1h', timeZone: 'Mars/Olympus' },
      ],
    });
    const bad = await kc(
      ['-n', ns, 'apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'secretsrotation.io/v1alpha1',
        kind: 'SecretsRotationMapping',
        metadata: { name: 'refused', namespace: ns },
        spec: {
          secretId: secret,
          workloads: [{ kind: 'Deployment', name: 'web' }],
          restartWindows: [{ schedule: '0 2 * *', duration: '0s' }],
        },
      }),
    ).then(
      () => 'accepted',
      (err: Error) => err.message,
    );
    assert.match(bad, /schedule.*should match|spec.restartWindows\[0\].schedule/);
    assert.match(bad, /a restart window lasts more than 0s/);
    await startOperator(scope, {
      kubeconfig: await operatorKubeconfig(scope),
      queueUrl: (await testQueue(scope)).queueUrl,
    });
    const m = await waitReason(ns, 'web', 'InvalidSpec');
    const ready = m.status?.conditions?.find((c) => c.type === 'Ready');
    assert.match(ready?.message ?? '', /spec.restartWindows\[0\]: minute "61" is not in 0-59/);
    assert.match(
      ready?.message ?? '',
      /spec.restartWindows\[1\]: time zone "Mars\/Olympus" is not an IANA time zone/,
    );
  },
);
