import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { down, runningEnv, up } from './env/env.js';
import { repoRoot } from './env/paths.js';

/**
 * Runs the real-environment suites: reuses an environment that `npm run env:up` started (and leaves
 * it running), or starts one and stops it afterwards, even when tests fail.
 */
async function main(): Promise<void> {
  const reuse = runningEnv() !== undefined;
  await up();
  let status = 1;
  try {
    const files = process.argv.slice(2);
    const result = spawnSync(
      process.execPath,
      [
        '--test',
        '--test-concurrency=1',
        '--test-reporter=spec',
        ...(files.length ? files : [path.join(repoRoot, 'dist', 'e2e')]),
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

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
