import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { EnvState } from '../env/env.js';
import { repoRoot } from '../env/paths.js';

const run = promisify(execFile);

/** Another local environment (its own control plane, kwok and moto), in a folder of its own. */
export interface SecondEnvironment {
  state: EnvState;
  kubectl: (args: string[], input?: string) => Promise<string>;
  /** Stops it and removes its folder. */
  down: () => Promise<void>;
}

/**
 * Starts a second environment without a real node (`ENV_REAL_NODE=0`); `peers: false` leaves out
 * the other projects' CRDs and ESO. Binaries come from the same cache, so it is up in seconds.
 */
export async function startSecondEnvironment(
  name: string,
  opts: { peers: boolean },
): Promise<SecondEnvironment> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sro-${name}-`));
  const cli = (cmd: string): Promise<unknown> =>
    run(process.execPath, [path.join(repoRoot, 'dist', 'e2e', 'env', 'cli.js'), cmd], {
      env: { ...process.env, SRO_E2E_DIR: dir, ENV_REAL_NODE: '0', ENV_PEERS: opts.peers ? '1' : '0' },
    });
  const down = async (): Promise<void> => {
    await cli('down').catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await cli('up');
  } catch (err) {
    await down();
    throw err;
  }
  const state = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')) as EnvState;
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const child = run(path.join(state.binDir, 'kubectl'), [`--kubeconfig=${state.kubeconfig}`, ...args]);
    if (input !== undefined) child.child.stdin?.end(input);
    return (await child).stdout;
  };
  return { state, kubectl, down };
}
