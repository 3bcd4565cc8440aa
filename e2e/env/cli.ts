import { down, up } from './env.js';

/** `node dist/e2e/env/cli.js up|down [--quiet]` — what `npm run env:up` / `env:down` run. */
async function main(): Promise<void> {
  const [command, ...flags] = process.argv.slice(2);
  const quiet = flags.includes('--quiet');
  if (command === 'up') await up({ quiet });
  else if (command === 'down') await down({ quiet });
  else throw new Error('usage: cli.js up|down [--quiet]');
}

main().catch((err: unknown) => {
  console.error(`[env] ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
