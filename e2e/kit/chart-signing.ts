import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stateDir } from '../env/paths.js';
import { onPath, stopProcess } from '../env/processes.js';
import { startRegistry } from '../env/registry.js';
import { environment } from './clients.js';

/** A PGP key made for one test: the secret keyring helm signs with, the public one it verifies with. */
export interface SigningKey {
  name: string;
  /** Legacy-format secret keyring (helm reads no GnuPG 2 keybox). */
  secring: string;
  pubring: string;
}

/** Why this machine cannot make a key (no gpg), or undefined. */
export const noGpg = (): string | undefined =>
  onPath('gpg') ? undefined : 'gpg is not installed (apt-get install gnupg; e2e/env/system-deps.sh does)';

/**
 * A fresh RSA signing key without a passphrase, in its own GnuPG home under `dir` (the user's keys are
 * never touched); its agent is stopped once both keyrings are exported.
 */
export function makeSigningKey(dir: string, name: string): SigningKey {
  const home = path.join(dir, 'gnupg');
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const gpg = (args: string[]): Buffer =>
    execFileSync('gpg', ['--batch', '--homedir', home, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    gpg([
      '--pinentry-mode',
      'loopback',
      '--passphrase',
      '',
      '--quick-gen-key',
      `${name} <${name.replace(/\W+/g, '-').toLowerCase()}@example.invalid>`,
      'rsa2048',
      'sign',
      'never',
    ]);
    const key = { name, secring: path.join(dir, 'secring.gpg'), pubring: path.join(dir, 'pubring.gpg') };
    fs.writeFileSync(key.secring, gpg(['--export-secret-keys']));
    fs.writeFileSync(key.pubring, gpg(['--export']));
    return key;
  } finally {
    try {
      execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { stdio: 'ignore' });
    } catch {
      // No agent was started (or gpgconf is absent): nothing to stop.
    }
  }
}

/**
 * An OCI registry for charts: the environment's (the real node's image registry) when it runs one,
 * otherwise the same docker-registry started for the caller, stopped by `stop`. Undefined with the
 * reason when there is neither.
 */
export async function chartRegistry(): Promise<{ address: string; stop: () => Promise<void> } | string> {
  const s = await environment();
  if (s.registry) return { address: s.registry, stop: () => Promise.resolve() };
  if (!onPath('docker-registry'))
    return 'no OCI registry: docker-registry is not installed (e2e/env/system-deps.sh installs it)';
  const { proc, address } = await startRegistry(path.join(stateDir, 'charts'), 'chart-registry');
  return { address, stop: () => stopProcess(proc.pid) };
}
