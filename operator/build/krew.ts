import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run krew`: the plugin's krew archive (dist/krew/kubectl-secretsrotation.tar.gz: the bundle,
 * byte-for-byte reproducible) and manifests/krew/secretsrotation.yaml naming it by the release URL
 * and its sha256 — run at release, after `npm run build`, and attach the archive to the release.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '..', '..', '..');
export const ARCHIVE = 'kubectl-secretsrotation.tar.gz';
export const BUNDLE = 'kubectl-secretsrotation.mjs';
export const MANIFEST = path.join(repo, 'manifests', 'krew', 'secretsrotation.yaml');
const HOMEPAGE = 'https://github.com/secrets-rotation-operator/secrets-rotation-operator';

/** The archive of the bundle in `dist`, reproducible (sorted, no times or owners); returns its path. */
export function krewArchive(dist: string): string {
  const out = path.join(dist, 'krew');
  fs.mkdirSync(out, { recursive: true });
  const tar = execFileSync(
    'tar',
    [
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--mode=0755',
      '-cf',
      '-',
      BUNDLE,
    ],
    { cwd: dist, maxBuffer: 64 << 20 },
  );
  const archive = path.join(out, ARCHIVE);
  fs.writeFileSync(archive, execFileSync('gzip', ['-n', '-9'], { input: tar, maxBuffer: 64 << 20 }));
  return archive;
}

export const sha256 = (file: string): string =>
  createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** The krew Plugin manifest (krew.googlecontainertools.github.com/v1alpha2) for `version` and the archive's sha256. Pure. */
export function krewManifest(version: string, sha: string): string {
  const uri = `${HOMEPAGE}/releases/download/v${version}/${ARCHIVE}`;
  return `# kubectl krew install --manifest=manifests/krew/secretsrotation.yaml (written by npm run krew: see
# operator/build/krew.ts; the archive is attached to the release v${version}).
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: secretsrotation
spec:
  version: v${version}
  homepage: ${HOMEPAGE}
  shortDescription: Status, impact and resume of secret rotations
  description: |
    Reads the SecretsRotationMappings of the secrets-rotation-operator from the API server:
    status shows every mapping (Ready, rollouts in flight, halted, waiting for a restart window
    or for External Secrets) and exits non-zero when one is not Ready; impact SECRET shows what a
    rotation of SECRET would restart now; resume MAPPING continues a halted staged rotation.
  caveats: |
    Needs Node.js 22 or later on the PATH (the plugin is one JavaScript file).
    Read-only use needs the ClusterRole secrets-rotation-plugin-reader; resume needs
    secrets-rotation-plugin-resumer (manifests/plugin/rbac.yaml, or the Helm chart).
  platforms:
    - selector:
        matchExpressions:
          - {key: os, operator: In, values: [linux, darwin]}
      uri: ${uri}
      sha256: ${sha}
      files:
        - {from: ${BUNDLE}, to: kubectl-secretsrotation}
      bin: kubectl-secretsrotation
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string };
  const archive = krewArchive(path.join(repo, 'dist'));
  fs.writeFileSync(MANIFEST, krewManifest(pkg.version, sha256(archive)));
  process.stdout.write(`${path.relative(repo, archive)} ${sha256(archive)}\n`);
}
