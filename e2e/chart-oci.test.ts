import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { packageSigned, pushChart, type HelmRun } from '../operator/build/chart-release.js';
import { repoRoot } from './env/paths.js';
import { e2eTest, environment, uniqueName } from './harness.js';
import { chartRegistry, makeSigningKey, noGpg, type SigningKey } from './kit/chart-signing.js';
import { helm } from './kit/helm-release.js';

/*
 * The chart as users get it: an OCI artifact with its provenance file, pulled and installed by
 * version with --verify (README "Install on EKS", docs/operations.md "Verifying the chart").
 */

const chartDir = path.join(repoRoot, 'manifests', 'helm', 'secrets-rotation-operator');
const VERSION = (parse(fs.readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8')) as { version: string })
  .version;
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/secrets-rotation';

let work = '';
let key: SigningKey | undefined;
let stranger: SigningKey | undefined;
let registry: Awaited<ReturnType<typeof chartRegistry>> = 'not started';
/** `oci://…/secrets-rotation-operator`, signed by `key`. */
let ref = '';
let why: string | undefined;

const helmRun = async (): Promise<HelmRun> => {
  const s = await environment();
  return { helm: path.join(s.binDir, 'helm'), env: { HELM_CACHE_HOME: path.join(s.cacheDir, 'helm-cache') } };
};

/** The output of a helm command expected to fail, or 'accepted'. */
const refusal = (args: string[]): Promise<string> =>
  helm(args).then(
    () => 'accepted',
    (err: Error) => err.message,
  );

before(async () => {
  why = noGpg();
  if (why) return;
  registry = await chartRegistry();
  if (typeof registry === 'string') {
    why = registry;
    return;
  }
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sro-chart-'));
  key = makeSigningKey(path.join(work, 'publisher'), 'Chart Publisher');
  stranger = makeSigningKey(path.join(work, 'stranger'), 'Someone Else');
  const h = await helmRun();
  const { tgz } = packageSigned(h, {
    chartDir,
    outDir: path.join(work, 'package'),
    key: key.name,
    keyring: key.secring,
  });
  ref = pushChart(h, tgz, `oci://${registry.address}/${uniqueName('charts')}`, { plainHttp: true });
});

after(async () => {
  if (typeof registry !== 'string') await registry.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('helm pull --verify: passes with the publisher’s key; refuses another key and a tampered package', async (t) => {
  if (why) return t.skip(why);
  assert.ok(key && stranger && typeof registry !== 'string');
  const pull = (from: string, keyring: string, dir: string): string[] => [
    'pull',
    from,
    '--version',
    VERSION,
    '--verify',
    '--keyring',
    keyring,
    '--plain-http',
    '-d',
    fs.mkdtempSync(path.join(work, dir)),
  ];
  const pulled = await helm([...pull(ref, key.pubring, 'ok-')]).catch((err: Error) => err.message);
  assert.match(pulled, /Signed by: Chart Publisher/);
  assert.match(pulled, /Chart Hash Verified: sha256:[0-9a-f]{64}/);
  assert.match(await refusal(pull(ref, stranger.pubring, 'stranger-')), /signature made by unknown entity/);

  // The same chart with one value changed, pushed with the genuine provenance file beside it.
  const unpacked = path.join(work, 'unpacked');
  fs.mkdirSync(unpacked);
  execFileSync('tar', [
    '-xzf',
    path.join(work, 'package', `secrets-rotation-operator-${VERSION}.tgz`),
    '-C',
    unpacked,
  ]);
  const values = path.join(unpacked, 'secrets-rotation-operator', 'values.yaml');
  const v = parse(fs.readFileSync(values, 'utf8')) as { image: { repository: string } };
  v.image.repository = 'attacker.example/secrets-rotation-operator';
  fs.writeFileSync(values, stringify(v));
  const forged = path.join(work, 'forged');
  await helm(['package', path.join(unpacked, 'secrets-rotation-operator'), '-d', forged]);
  const forgedTgz = path.join(forged, `secrets-rotation-operator-${VERSION}.tgz`);
  fs.copyFileSync(
    path.join(work, 'package', `secrets-rotation-operator-${VERSION}.tgz.prov`),
    `${forgedTgz}.prov`,
  );
  const forgedRef = pushChart(
    await helmRun(),
    forgedTgz,
    `oci://${registry.address}/${uniqueName('forged')}`,
    {
      plainHttp: true,
    },
  );
  assert.match(await refusal(pull(forgedRef, key.pubring, 'forged-')), /sha256 sum does not match/);
});

e2eTest(
  'helm install oci://… --version --verify installs the signed chart; with another key it installs nothing',
  async (scope) => {
    if (why) return scope.t.skip(why);
    assert.ok(key && stranger);
    const release = uniqueName('sro-oci');
    const install = (keyring: string): string[] => [
      'install',
      release,
      ref,
      '--version',
      VERSION,
      '--verify',
      '--keyring',
      keyring,
      '--plain-http',
      '-n',
      scope.namespace,
      '--set',
      `config.sqsQueueUrl=${QUEUE}`,
    ];
    assert.match(await refusal(install(stranger.pubring)), /signature made by unknown entity/);
    assert.equal(await helm(['list', '-n', scope.namespace, '-q']), '', 'no release after a failed verify');

    scope.cleanups.push(() => helm(['uninstall', release, '-n', scope.namespace, '--wait', '--timeout=90s']));
    // kwok runs the replicas (fake Nodes), so --wait sees them Ready.
    await helm([...install(key.pubring), '--wait', '--timeout=120s']);
    const [listed] = JSON.parse(await helm(['list', '-n', scope.namespace, '-o', 'json'])) as {
      name: string;
      status: string;
      chart: string;
    }[];
    assert.deepEqual(
      { name: listed.name, status: listed.status, chart: listed.chart },
      { name: release, status: 'deployed', chart: `secrets-rotation-operator-${VERSION}` },
    );
    const manifest = await helm(['get', 'manifest', release, '-n', scope.namespace]);
    assert.match(manifest, /kind: Deployment/);
    assert.match(manifest, /image: "?secrets-rotation-operator:/);
  },
);
