import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { kubectl } from './env/cluster.js';
import type { EnvState } from './env/env.js';
import { admissionGuardPath, repoRoot } from './env/paths.js';
import { isAlive } from './env/processes.js';

/*
 * The environments of the parallel e2e runner beyond the first: each in a state folder of its own,
 * started and stopped by env/cli.js in a child process (the state folder is fixed per process), always
 * without the real node (one per machine; the first environment has it).
 */

export interface ExtraEnv {
  dir: string;
  /** Already up before the run (a run interrupted before it stopped it): left running after. */
  reused: boolean;
  upSeconds: number;
}

/** The environment whose state is in `dir`, if every process it started still runs. */
function liveState(dir: string): EnvState | undefined {
  try {
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')) as EnvState;
    return state.processes.every((p) => isAlive(p.pid)) ? state : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `cli.js up|down` for `dir`, in its own process group: a Ctrl-C meant for the tests must not cut an
 * `up` half-way (it would leave processes no state file names); the runner stops it afterwards.
 */
function envCli(dir: string, command: 'up' | 'down'): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'e2e', 'env', 'cli.js'), command], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SRO_E2E_DIR: dir, ENV_REAL_NODE: '0' },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

export async function startExtraEnv(dir: string): Promise<ExtraEnv> {
  const t0 = Date.now();
  const reused = liveState(dir) !== undefined;
  const { code, output } = await envCli(dir, 'up');
  const state = liveState(dir);
  if (code !== 0 || !state) throw new Error(`the environment in ${dir} did not start:\n${output}`);
  if (reused) removeDeployedOperator(state);
  return { dir, reused, upSeconds: (Date.now() - t0) / 1000 };
}

/** Stops it unless it was up before the run. */
export async function stopExtraEnv(env: ExtraEnv): Promise<void> {
  if (env.reused) return;
  const { code, output } = await envCli(env.dir, 'down');
  if (code !== 0) console.error(`[e2e] env:down of ${env.dir} failed:\n${output}`);
}

/**
 * An operator left running in a reused environment by `npm run demo` or `npm run deploy` watches every
 * namespace: it would act on the tests' mappings beside the operators the tests start. Removed first.
 */
export function removeDeployedOperator(env: EnvState): void {
  const k = (args: string[]): string => kubectl(env.binDir, env.kubeconfig, args);
  const found = k([
    '-n',
    'secrets-rotation-operator',
    'get',
    'deployments',
    '-o',
    'name',
    '--ignore-not-found',
  ]);
  if (!found.trim()) return;
  console.error(
    '[e2e] removing the operator that npm run demo/deploy left running (it would act on the tests’ mappings)',
  );
  // The chart's release goes whole (its guard is applied again: the suites run under it).
  const helm = spawnSync(
    path.join(env.binDir, 'helm'),
    [
      'uninstall',
      'secrets-rotation-operator',
      '-n',
      'secrets-rotation-operator',
      '--wait',
      '--ignore-not-found',
    ],
    { env: { ...process.env, KUBECONFIG: env.kubeconfig }, stdio: 'inherit' },
  );
  if (helm.status !== 0) console.error('[e2e] helm uninstall failed; deleting the Deployment');
  k(['-n', 'secrets-rotation-operator', 'delete', 'deployments', '--all', '--wait=true', '--timeout=60s']);
  k(['apply', '--server-side', '--force-conflicts', '-f', admissionGuardPath]);
}
