import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { BUNDLE, MANIFEST, krewArchive, krewManifest, sha256 } from '../operator/build/krew.js';
import { repoRoot } from './env/paths.js';
import { environment, kc } from './kit/clients.js';
import { helm } from './kit/helm-release.js';
import { PLUGIN, PLUGIN_RBAC } from './kit/plugin-user.js';

const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
};

interface KrewPlatform {
  selector: { matchExpressions: { key: string; operator: string; values: string[] }[] };
  uri: string;
  sha256: string;
  files: { from: string; to: string }[];
  bin: string;
}

interface KrewPlugin {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    version: string;
    homepage: string;
    shortDescription: string;
    description: string;
    platforms: KrewPlatform[];
  };
}

const QUEUE = 'config.sqsQueueUrl=https://sqs.us-east-1.amazonaws.com/123456789012/secrets-rotation';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'sro-plugin-'));

/** Runs `file` with `args` and PATH = `dirs` before the PATH of this process; its stdout. */
const run = (file: string, args: string[], dirs: string[] = []): string =>
  execFileSync(file, args, {
    encoding: 'utf8',
    env: { ...process.env, PATH: [...dirs, process.env.PATH].join(path.delimiter) },
  });

test('the krew manifest: a krew v1alpha2 Plugin named secretsrotation whose platforms install the binary kubectl-secretsrotation', () => {
  const m = parse(fs.readFileSync(MANIFEST, 'utf8')) as KrewPlugin;
  assert.equal(m.apiVersion, 'krew.googlecontainertools.github.com/v1alpha2');
  assert.equal(m.kind, 'Plugin');
  // krew runs the plugin as `kubectl <name>`: the name is the binary's, without kubectl-.
  assert.equal(m.metadata.name, 'secretsrotation');
  assert.equal(m.spec.version, `v${pkg.version}`);
  assert.match(m.spec.homepage, /^https:\/\//);
  assert.ok(m.spec.shortDescription.length <= 50 && m.spec.description.length > 0);
  assert.ok(m.spec.platforms.length > 0);
  for (const p of m.spec.platforms) {
    assert.equal(p.bin, 'kubectl-secretsrotation');
    assert.deepEqual(p.files, [{ from: BUNDLE, to: 'kubectl-secretsrotation' }]);
    assert.match(p.sha256, /^[0-9a-f]{64}$/);
    assert.match(p.uri, new RegExp(`^https://.*/v${pkg.version}/kubectl-secretsrotation\\.tar\\.gz$`));
    for (const e of p.selector.matchExpressions) {
      assert.equal(e.key, 'os');
      assert.equal(e.operator, 'In');
      for (const v of e.values) assert.ok(['linux', 'darwin'].includes(v), v);
    }
  }
  // Written by npm run krew, not by hand: the same text for its sha256.
  assert.equal(fs.readFileSync(MANIFEST, 'utf8'), krewManifest(pkg.version, m.spec.platforms[0].sha256));
});

test('the krew archive of the bundle is reproducible, and kubectl runs the binary it installs as `kubectl secretsrotation`', async () => {
  const dir = tmp();
  try {
    fs.copyFileSync(PLUGIN, path.join(dir, BUNDLE));
    const sha = sha256(krewArchive(dir));
    assert.equal(sha256(krewArchive(dir)), sha, 'the same bytes twice');
    // As krew installs it: unpack, move each `files` entry, put the bin on the PATH.
    const m = parse(krewManifest(pkg.version, sha)) as KrewPlugin;
    const unpacked = path.join(dir, 'unpacked');
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(unpacked);
    fs.mkdirSync(bin);
    execFileSync('tar', ['-xzf', path.join(dir, 'krew', 'kubectl-secretsrotation.tar.gz'), '-C', unpacked]);
    for (const f of m.spec.platforms[0].files)
      fs.renameSync(path.join(unpacked, f.from), path.join(bin, f.to));
    const installed = path.join(bin, m.spec.platforms[0].bin);
    assert.ok(fs.statSync(installed).mode & 0o111, 'executable');
    assert.equal(run(installed, ['version']).trim(), `kubectl-secretsrotation ${pkg.version}`);
    const kubectl = path.join((await environment()).binDir, 'kubectl');
    assert.match(run(kubectl, ['plugin', 'list'], [bin]), /kubectl-secretsrotation/);
    assert.match(run(kubectl, ['secretsrotation', '--help'], [bin]), /^kubectl secretsrotation: /);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('npm pack of a clean checkout builds the bundle (prepare) and ships it; npm i -g puts kubectl-secretsrotation on the PATH', () => {
  const dir = tmp();
  try {
    // The repository's files as a clone has them: no dist/, node_modules as npm ci would make it.
    const src = path.join(dir, 'src');
    const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: repoRoot,
      encoding: 'utf8',
    })
      .split('\0')
      .filter(
        (f) =>
          f &&
          f !== 'node_modules' &&
          fs.statSync(path.join(repoRoot, f), { throwIfNoEntry: false })?.isFile(),
      );
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(src, f)), { recursive: true });
      fs.copyFileSync(path.join(repoRoot, f), path.join(src, f));
    }
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(src, 'node_modules'));
    const packed = JSON.parse(run('npm', ['pack', '--json', '--silent', '--pack-destination', dir], [])) as {
      filename: string;
      files: { path: string }[];
    }[];
    assert.deepEqual(
      packed[0].files.map((f) => f.path).filter((f) => f.startsWith('dist/')),
      ['dist/kubectl-secretsrotation.mjs', 'dist/kubectl-secretsrotation.mjs.map'],
      'the bundle and its map, nothing else of dist/',
    );
    assert.deepEqual(pkg.bin, { 'kubectl-secretsrotation': 'dist/kubectl-secretsrotation.mjs' });
    const prefix = path.join(dir, 'prefix');
    execFileSync(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        path.join(dir, packed[0].filename),
      ],
      { cwd: dir, stdio: 'pipe' },
    );
    assert.equal(
      run('kubectl-secretsrotation', ['version'], [path.join(prefix, 'bin')]).trim(),
      `kubectl-secretsrotation ${pkg.version}`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

interface Role {
  kind: string;
  metadata: { name: string };
  rules: unknown[];
}

test('the chart ships the plugin roles of manifests/plugin when rbac.pluginRoles is set, and none by default', async () => {
  const chart = path.join(repoRoot, 'manifests', 'helm', 'secrets-rotation-operator');
  const render = async (...sets: string[]): Promise<Role[]> =>
    parseAllDocuments(
      await helm(['template', 'sro', chart, ...[QUEUE, ...sets].flatMap((s) => ['--set', s])]),
    )
      .map((d) => d.toJSON() as Role)
      .filter((o) => o?.kind === 'ClusterRole');
  const shipped = parseAllDocuments(fs.readFileSync(PLUGIN_RBAC, 'utf8')).map((d) => d.toJSON() as Role);
  const withRoles = await render('rbac.pluginRoles=true');
  for (const role of shipped) {
    // <release fullname>-plugin-reader: cluster-scoped names carry the release's.
    const name = role.metadata.name.replace('secrets-rotation-', '-');
    const chartRole = withRoles.find(
      (r) => r.metadata.name.startsWith('sro') && r.metadata.name.endsWith(name),
    );
    assert.ok(chartRole, name);
    assert.deepEqual(chartRole.rules, role.rules, `${name}: the rules of manifests/plugin/rbac.yaml`);
  }
  assert.equal((await render()).filter((r) => r.metadata.name.includes('plugin')).length, 0);
  // kustomize builds the directory the docs apply.
  assert.match(await kc(['kustomize', path.dirname(PLUGIN_RBAC)]), /name: secrets-rotation-plugin-reader/);
});
