import assert from 'node:assert/strict';
import { parse } from 'yaml';
import type { Mapping } from '../resources/types.js';
import {
  createSecret,
  e2eTest,
  installCrd,
  kc,
  operatorKubeconfig,
  rotate,
  startOperator,
  testQueue,
  uniqueName,
  waitFor,
  type Scope,
} from './harness.js';
import { pluginUsers, runPlugin, type PluginRun } from './kit/plugin-user.js';
import { applyMapping, getMapping, waitReason } from './mapping-helpers.js';
import { createDeployments, createWorkload, templateState } from './workloads-fixtures.js';

/** A restart window that is closed now: daily, one hour, starting twelve hours from now (UTC). */
function closedWindow(): { schedule: string; duration: string } {
  const hour = (new Date().getUTCHours() + 12) % 24;
  return { schedule: `0 ${hour} * * *`, duration: '1h' };
}

const item = (out: PluginRun, name: string): Record<string, unknown> | undefined =>
  (JSON.parse(out.stdout) as { items: { name: string }[] }).items.find((i) => i.name === name);

/**
 * Three mappings in the states status reports — a Staged one halted at its first stage, one whose
 * restart waits for a window, one whose secret does not exist — under the operator, as its own
 * ServiceAccount; and a kubeconfig with a read-only user (current) and a user allowed to resume.
 */
async function setUp(scope: Scope) {
  const ns = scope.namespace;
  await installCrd();
  const secret = uniqueName('plugin');
  const { arn } = await createSecret(secret);
  await createDeployments(ns, ['a', 'b', 'c', 'w'], 'a');
  await applyMapping(ns, 'staged', {
    secretId: secret,
    workloads: ['a', 'b', 'c'].map((name) => ({ kind: 'Deployment' as const, name })),
    rollout: { strategy: 'Staged', stageSize: 1 },
  });
  await applyMapping(ns, 'windowed', {
    secretId: arn,
    workloads: [{ kind: 'Deployment', name: 'w' }],
    restartWindows: [closedWindow()],
  });
  // Pods no Node accepts, no progress deadline to speak of: its restart stays in flight.
  await createWorkload(
    { kind: 'Deployment', namespace: ns, name: 'r' },
    { app: 'r' },
    { replicas: 1, unschedulable: true },
  );
  await applyMapping(ns, 'rolling', { secretId: secret, workloads: [{ kind: 'Deployment', name: 'r' }] });
  await applyMapping(ns, 'absent', {
    secretId: uniqueName('no-such-secret'),
    workloads: [{ kind: 'Deployment', name: 'w' }],
  });
  const queue = await testQueue(scope, { withRules: true });
  await startOperator(scope, { kubeconfig: await operatorKubeconfig(scope), queueUrl: queue.queueUrl });
  for (const name of ['staged', 'windowed', 'rolling']) await waitReason(ns, name, 'WatchingSecret');
  await waitReason(ns, 'absent', 'SecretNotFound');
  const kubeconfig = await pluginUsers(scope, [
    { name: 'reader', reader: true, resumer: false },
    { name: 'resumer', reader: true, resumer: true },
  ]);
  const version = await rotate(secret, arn);
  const halted = await waitFor(
    'the staged rotation halted',
    async () => {
      const m = await getMapping(ns, 'staged');
      return m.status?.rollout?.state === 'Halted' ? m : undefined;
    },
    90_000,
  );
  await waitFor('the windowed restart pending', async () =>
    (await getMapping(ns, 'windowed')).status?.workloads?.some((w) => w.state === 'Pending'),
  );
  await waitFor('the rolling restart in flight', async () => {
    const w = (await getMapping(ns, 'rolling')).status?.workloads?.[0];
    return w?.versionId === version && w.rollout === 'InProgress';
  });
  const plugin = (...args: string[]): Promise<PluginRun> => runPlugin(scope, kubeconfig, args);
  return { ns, secret, arn, version, halted, plugin };
}

/**
 * Resumes meant for another halt than the one now: refused by the plugin (--version, nothing written)
 * and, written by hand, by the operator (it stays halted and says why).
 */
async function resumesOfAnotherHalt(
  ns: string,
  { secret, version }: { secret: string; version: string },
  plugin: (...args: string[]) => Promise<PluginRun>,
): Promise<void> {
  // --version names the halt the user looked at: halted for another version now, nothing is written.
  const stale = await plugin('--context', 'resumer', 'resume', 'staged', '--version', 'v-looked-at');
  assert.equal(stale.code, 1, stale.stdout);
  assert.match(
    stale.stderr,
    new RegExp(`halted for version ${version} now, not v-looked-at: nothing written`),
  );
  assert.equal(
    (await getMapping(ns, 'staged')).metadata.annotations?.['secretsrotation.io/resume'],
    undefined,
  );
  // A resume value naming another halt (written for a halt a newer one replaced): the operator
  // keeps this one halted and says why.
  await kc(['-n', ns, 'annotate', 'srm', 'staged', 'secretsrotation.io/resume=version=v-older,stage=1,at=t']);
  const kept = await waitFor(
    'the resume for another halt refused',
    async () => {
      const r = (await getMapping(ns, 'staged')).status?.rollout;
      return r?.message?.includes('not resumed') ? r : undefined;
    },
    60_000,
  );
  assert.equal(kept.state, 'Halted');
  assert.match(kept.message ?? '', /names the halt of version v-older at stage 1, not this one: not resumed/);
  assert.notEqual((await templateState('Deployment', ns, 'b')).stamp, `${secret}@${version}`);
}

e2eTest(
  'kubectl secretsrotation, as a read-only user and a resumer: status, impact, resume against the API server',
  async (scope) => {
    const { ns, secret, arn, version, plugin } = await setUp(scope);

    // status: one not Ready (exit 1), the halt with its hint, the window and when it opens.
    const status = await plugin('status', '-n', ns);
    assert.equal(status.code, 1, status.stderr);
    assert.match(status.stdout, new RegExp(`${ns}\\s+staged\\s+True\\s+WatchingSecret\\s+3\\s+1/3 Halted`));
    assert.match(status.stdout, new RegExp(`${ns}\\s+absent\\s+False\\s+SecretNotFound`));
    assert.match(
      status.stdout,
      new RegExp(`${ns}\\s+windowed\\s+True\\s+WatchingSecret\\s+1\\s+-\\s+0\\s+window \\d{4}-`),
    );
    assert.match(status.stdout, new RegExp(`${ns}\\s+rolling\\s+True\\s+WatchingSecret\\s+1\\s+-\\s+1\\s+-`));
    assert.match(
      status.stdout,
      new RegExp(`kubectl secretsrotation resume -n ${ns} staged --version ${version}`),
    );
    const json = await plugin('status', '-n', ns, '-o', 'json');
    assert.equal(json.code, 1);
    assert.deepEqual((item(json, 'staged')?.halted as { stage: number }).stage, 1);
    assert.deepEqual(item(json, 'staged')?.held, ['Deployment/b', 'Deployment/c']);
    assert.deepEqual(item(json, 'rolling')?.inFlight, ['Deployment/r']);
    const window = item(json, 'windowed')?.waitingForWindow as { workloads: string[]; opensAt: string };
    assert.deepEqual(window.workloads, ['Deployment/w']);
    assert.ok(Date.parse(window.opensAt) > Date.now(), `opens later: ${window.opensAt}`);
    const yaml = parse((await plugin('status', '-n', ns, '-o', 'yaml')).stdout) as {
      summary: { notReady: number };
    };
    assert.equal(yaml.summary.notReady, 1);
    // Every namespace the reader can read (its ClusterRoleBinding: all), and the mappings of this one among them.
    const all = await plugin('status', '-A', '-o', 'json');
    assert.ok(item(all, 'staged'), all.stderr);

    // impact, by name, full ARN and partial ARN: the mappings of the secret, not the absent one.
    for (const id of [secret, arn, arn.replace(/-[A-Za-z0-9]{6}$/, '')]) {
      const impact = await plugin('impact', id, '-n', ns, '-o', 'json');
      assert.equal(impact.code, 0, impact.stderr);
      const items = (JSON.parse(impact.stdout) as { items: { name: string }[] }).items.map((i) => i.name);
      assert.deepEqual(items, ['rolling', 'staged', 'windowed'], id);
    }
    const impact = await plugin('impact', secret, '-n', ns);
    assert.match(impact.stdout, /staged.*\n\s+outcome:\s+restarts 3 workload\(s\) in 3 stage\(s\) now/);
    assert.match(impact.stdout, /1\s+Deployment\/a[\s\S]*2\s+Deployment\/b[\s\S]*3\s+Deployment\/c/);
    assert.match(
      impact.stdout,
      /windowed[\s\S]*outcome:\s+restarts 1 workload\(s\) when the next restart window opens, at \d{4}-/,
    );

    // resume: refused to the read-only user (the API server's 403, exit 3), nothing written.
    const refused = await plugin('resume', 'staged');
    assert.equal(refused.code, 3, refused.stdout);
    assert.match(refused.stderr, /forbidden/);
    assert.equal(
      (await getMapping(ns, 'staged')).metadata.annotations?.['secretsrotation.io/resume'],
      undefined,
    );
    // Nothing to resume on a mapping that is not halted (exit 1), for the resumer too.
    assert.equal((await plugin('--context', 'resumer', 'resume', 'windowed')).code, 1);
    await resumesOfAnotherHalt(ns, { secret, version }, plugin);
    // The resumer (another context of the same KUBECONFIG), naming this halt: the rotation goes on to b and c.
    const resumed = await plugin('--context', 'resumer', 'resume', 'staged', '--version', version);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`staged resumed: halted at stage 1 of 3 for version ${version}`));
    await waitFor(
      'b and c restarted for the version',
      async () => {
        const stamps = await Promise.all(['b', 'c'].map((n) => templateState('Deployment', ns, n)));
        return stamps.every((s) => s.stamp === `${secret}@${version}`);
      },
      90_000,
    );
    const after = await waitFor(
      'the rotation complete',
      async () => {
        const m: Mapping = await getMapping(ns, 'staged');
        return m.status?.rollout?.state === 'Complete' ? m : undefined;
      },
      90_000,
    );
    assert.equal(after.status?.rollout?.resumedStage, 1);
    assert.match(
      (await plugin('status', '-n', ns)).stdout,
      new RegExp(`${ns}\\s+staged\\s+True\\s+WatchingSecret\\s+3\\s+3/3 Complete`),
    );

    // A namespace whose mappings are all Ready: exit 0 once the absent one is gone.
    await kc(['-n', ns, 'delete', 'srm', 'absent']);
    await waitFor(
      'absent deleted',
      async () => !(await kc(['-n', ns, 'get', 'srm', '-o', 'name'])).includes('/absent'),
    );
    assert.equal((await plugin('status', '-n', ns)).code, 0);

    // A policy governing the namespace that allows other secrets only: impact says it refuses.
    const policy = uniqueName('plugin-policy');
    await kc(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'secretsrotation.io/v1alpha1',
        kind: 'SecretsRotationPolicy',
        metadata: { name: policy },
        spec: {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
          allowedSecrets: ['other-*'],
        },
      }),
    );
    scope.cleanups.push(() => kc(['delete', 'srpol', policy, '--ignore-not-found']));
    const denied = await plugin('impact', secret, '-n', ns);
    assert.match(denied.stdout, /outcome:\s+refused by policy: nothing restarts \(NotAllowed\)/);
    assert.match(
      denied.stdout,
      new RegExp(`policy:\\s+REFUSED: secret "${secret}" is not among the secrets .*\\(${policy}\\)`),
    );
  },
  { timeout: 360_000 },
);

e2eTest(
  'kubectl secretsrotation: usage errors exit 2, an unknown context too; no kubeconfig user can read nothing',
  async (scope) => {
    const kubeconfig = await pluginUsers(scope, [{ name: 'nobody', reader: false, resumer: false }]);
    const plugin = (...args: string[]): Promise<PluginRun> => runPlugin(scope, kubeconfig, args);
    assert.equal((await plugin('status', '-o', 'wide')).code, 2);
    const context = await plugin('status', '--context', 'no-such');
    assert.equal(context.code, 2);
    assert.match(context.stderr, /context "no-such" does not exist/);
    // Bound to nothing: cluster-wide refused, namespaces refused, its own namespace refused: exit 3.
    const none = await plugin('status');
    assert.equal(none.code, 3);
    assert.match(none.stderr, /cannot list secretsrotationmappings: .*forbidden/);
  },
);
