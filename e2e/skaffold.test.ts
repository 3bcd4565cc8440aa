import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from './env/paths.js';
import { POD_GATEWAY } from './env/pod-network.js';
import { environment } from './harness.js';
import { helm } from './kit/helm-release.js';

const run = promisify(execFile);

/** skaffold v2.13.2 (built by e2e/env/build.sh) parses the config strictly and renders offline. */
async function skaffold(...args: string[]): Promise<string> {
  const s = await environment();
  const out = await run(path.join(s.binDir, 'skaffold'), args, {
    cwd: repoRoot,
    env: { ...process.env, PATH: `${s.binDir}:${process.env.PATH ?? ''}`, SKAFFOLD_UPDATE_CHECK: 'false' },
    maxBuffer: 32 * 1024 * 1024,
  });
  return out.stdout;
}

test('skaffold.yaml parses with the default and the local profile', async () => {
  assert.match(await skaffold('diagnose', '--yaml-only'), /paths:\n\s+- .*manifests\/base/);
  const local = await skaffold('diagnose', '--yaml-only', '-p', 'local');
  assert.match(local, /chartPath: .*manifests\/helm\/secrets-rotation-operator/, 'local: the chart');
  assert.doesNotMatch(local, /kustomize|kubectl:/, 'local: the chart only');
  // ...into the namespace enforcing PodSecurity restricted, applied before helm runs.
  assert.match(
    local,
    /before:\n\s+- host:\n\s+command:\n\s+- kubectl\n\s+- apply\n\s+- --server-side\n\s+- -f\n\s+- manifests\/base\/namespace\.yaml/,
  );
});

test('the validator can fail: an unknown field is refused', async () => {
  const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sro-skaffold-')), 'skaffold.yaml');
  fs.writeFileSync(bad, 'apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifactz: []\n');
  await assert.rejects(skaffold('diagnose', '--yaml-only', '-f', bad), /field artifactz not found/);
});

test('skaffold renders the kustomize manifests offline; the local profile chart values point at a local AWS endpoint', async () => {
  const base = await skaffold('render', '--offline', '--digest-source=none');
  for (const kind of ['CustomResourceDefinition', 'ClusterRole', 'Deployment', 'Service'])
    assert.match(base, new RegExp(`^kind: ${kind}$`, 'm'));
  assert.doesNotMatch(base, /AWS_ENDPOINT_URL/);
  const s = await environment();
  if (s.noRealNode) return; // the local profile targets the real node; env:up wrote its addresses only then
  const values = ['values.yaml', path.join('generated', 'values.yaml')].flatMap((f) => [
    '-f',
    path.join(repoRoot, 'manifests', 'local', f),
  ]);
  const chart = path.join(repoRoot, 'manifests', 'helm', 'secrets-rotation-operator');
  const local = await helm(['template', 'secrets-rotation-operator', chart, ...values]);
  // The environment's AWS endpoint, as the pods reach it: through the relay on their gateway.
  const literal = (text: string): string => text.replace(/[.]/g, '\\.');
  const endpoint = s.awsEndpoint.replace('127.0.0.1', POD_GATEWAY);
  assert.match(local, new RegExp(`value: "${literal(endpoint)}"`));
  // PodSecurity restricted forbids the host's network: the pods reach the host through the relay.
  assert.doesNotMatch(local, /hostNetwork: true/);
  assert.match(local, new RegExp(`name: KUBERNETES_SERVICE_HOST\n\\s+value: "?${literal(POD_GATEWAY)}"?`));
});
