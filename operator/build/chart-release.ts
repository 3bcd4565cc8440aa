import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The chart's name: its OCI repository is `<registry>/<path>/secrets-rotation-operator`. */
export const CHART_NAME = 'secrets-rotation-operator';

export interface HelmRun {
  /** The helm binary (v3.8 or later: OCI and provenance layers). */
  helm: string;
  env?: NodeJS.ProcessEnv;
}

const run = (h: HelmRun, args: string[]): string => {
  try {
    return execFileSync(h.helm, args, { encoding: 'utf8', env: { ...process.env, ...h.env }, stdio: 'pipe' });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`helm ${args.join(' ')}: ${e.stderr ?? e.message}`);
  }
};

/**
 * `helm package --sign`: the chart's .tgz and, beside it, its provenance file (.tgz.prov: the
 * Chart.yaml and the archive's SHA-256, clear-signed). `keyring` is a legacy secret keyring
 * (`gpg --export-secret-keys > secring.gpg`: helm reads no GnuPG 2 keybox); `key` names the key in it.
 */
export function packageSigned(
  h: HelmRun,
  opts: { chartDir: string; outDir: string; key: string; keyring: string; version?: string },
): { tgz: string; prov: string } {
  fs.mkdirSync(opts.outDir, { recursive: true });
  const version = opts.version ? ['--version', opts.version, '--app-version', opts.version] : [];
  const out = run(h, [
    'package',
    opts.chartDir,
    '-d',
    opts.outDir,
    '--sign',
    '--key',
    opts.key,
    '--keyring',
    opts.keyring,
    ...version,
  ]);
  const tgz = /saved it to: (.+\.tgz)\s*$/m.exec(out)?.[1];
  if (!tgz) throw new Error(`helm package said: ${out}`);
  const prov = `${tgz}.prov`;
  if (!fs.existsSync(prov)) throw new Error(`helm package wrote no provenance file beside ${tgz}`);
  return { tgz: path.resolve(tgz), prov: path.resolve(prov) };
}

/**
 * `helm push` of a packaged chart to an OCI repository (`oci://host[:port]/path`); the provenance file
 * beside the .tgz goes with it as a layer of the same artifact, so `--verify` works after a pull.
 * Returns the chart's reference, to give `helm install|pull` with `--version`.
 */
export function pushChart(
  h: HelmRun,
  tgz: string,
  repository: string,
  opts: { plainHttp?: boolean } = {},
): string {
  if (!repository.startsWith('oci://')) throw new Error(`not an OCI repository: ${repository}`);
  if (!fs.existsSync(`${tgz}.prov`)) throw new Error(`${tgz} has no provenance file: package it with --sign`);
  run(h, ['push', tgz, repository, ...(opts.plainHttp ? ['--plain-http'] : [])]);
  return `${repository.replace(/\/$/, '')}/${CHART_NAME}`;
}
