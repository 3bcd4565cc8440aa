import { main } from './cli.js';

/** kubectl-secretsrotation: the bundle's entry (dist/kubectl-secretsrotation.mjs, see build/bundle.ts). */
process.exitCode = await main(process.argv.slice(2));
