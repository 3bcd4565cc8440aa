import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { kubectl } from './env/cluster.js';
import { down, runningEnv, up, type EnvState } from './env/env.js';
import { admissionGuardPath, repoRoot } from './env/paths.js';

/** Every compiled test file under `dir` (node --test takes files or globs, not folders, since Node 21). */
function testFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.js'))
    .sort()
    .map((f) => path.join(dir, f));
}

/**
 * Runs the real-environment suites: reuses an environment that `npm run env:up` started (and leaves
 * it running), or starts one and stops it afterwards, even when tests fail.
 */
async function main(): Promise<void> {
  const reuse = runningEnv() !== undefined;
  const env = await up();
  if (reuse) removeDeployedOperator(env);
  let status = 1;
  try {
    const files = process.argv.slice(2);
    const result = spawnSync(
      process.execPath,
      [
        '--test',
        '--test-concurrency=1',
        '--test-reporter=spec',
        ...(files.length ? files : testFiles(path.join(repoRoot, 'dist', 'e2e'))),
      ],
      {
        stdio: 'inherit',
        cwd: repoRoot,
      },
    );
    status = result.status ?? 1;
  } finally {
    if (!reuse) await down();
  }
  process.exitCode = status;
}

/**
 * An operator left running in a reused environment by `npm run demo` or `npm run deploy` watches every
 * namespace: it would act on the tests' mappings beside the operators the tests start. Removed first.
 */
function removeDeployedOperator(env: EnvState): void {
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

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
