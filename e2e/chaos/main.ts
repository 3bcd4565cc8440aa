import fs from 'node:fs';
import path from 'node:path';
import { parseDuration } from '../../operator/runtime/duration.js';
import { down, runningEnv } from '../env/env.js';
import { repoRoot } from '../env/paths.js';
import { environment } from '../harness.js';
import { chaosFigures, writeFigures } from '../bench/write-figures.js';
import { failures, formatReport, runChaos } from './run.js';

/**
 * `npm run chaos`: a fault-injection run on the real environment (see run.ts), one table of every
 * invariant with its count, and a JSON record in e2e/chaos/results/. Exits non-zero when an
 * invariant failed (report.ts's failures).
 *
 *   CHAOS_SEED=7 CHAOS_DURATION=30m npm run chaos
 *   CHAOS_SEED=7 npm run chaos -- --minutes 45
 *
 * CHAOS_SEED (default: from the clock, printed), CHAOS_DURATION or `--minutes N` (default 5m, no cap:
 * a soak runs for hours; the run adds ~1 min of set-up and checks), CHAOS_SECRETS (4),
 * CHAOS_ROTATE_EVERY (1s), CHAOS_FAULT_EVERY (8s), CHAOS_LOG_LEVEL (the replicas', info).
 */
function duration(env: NodeJS.ProcessEnv, argv: string[]): number {
  const at = argv.indexOf('--minutes');
  if (at >= 0) {
    const minutes = Number(argv[at + 1]);
    if (!(minutes > 0)) throw new Error(`--minutes needs a positive number, not ${argv[at + 1]}`);
    return minutes * 60_000;
  }
  return parseDuration(env.CHAOS_DURATION ?? '5m');
}

async function main(): Promise<void> {
  const env = process.env;
  const durationMs = duration(env, process.argv.slice(2));
  const opts = {
    seed: Number(env.CHAOS_SEED ?? Date.now() % 1_000_000),
    durationMs,
    secrets: Number(env.CHAOS_SECRETS ?? 4),
    rotateEveryMs: parseDuration(env.CHAOS_ROTATE_EVERY ?? '1s'),
    faultEveryMs: parseDuration(env.CHAOS_FAULT_EVERY ?? '8s'),
  };
  const reuse = runningEnv() !== undefined;
  await environment();
  try {
    const report = await runChaos(opts);
    console.log(formatReport(report));
    const dir = path.join(repoRoot, 'e2e', 'chaos', 'results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-seed-${opts.seed}.json`);
    fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nresults: ${path.relative(repoRoot, file)}`);
    for (const svg of Object.values(writeFigures(chaosFigures(report), file)))
      console.log(`timeline: ${path.relative(repoRoot, svg)}`);
    const failed = failures(report);
    for (const f of failed) console.error(`FAILED: ${f}`);
    process.exitCode = failed.length ? 1 : 0;
  } finally {
    if (!reuse) await down();
  }
}

main().then(
  () => process.exit(),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : String(err));
    process.exit(1);
  },
);
