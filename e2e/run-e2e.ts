import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { down, runningEnv, up } from './env/env.js';
import { repoRoot, stateDir } from './env/paths.js';
import { splitArgs } from './run-args.js';
import { removeDeployedOperator, startExtraEnv, stopExtraEnv, type ExtraEnv } from './shard-envs.js';
import { pick, queueOf, shardCount, type Job, type ShardState } from './shard-plan.js';
import { countsOf, failed, recordedDurations, summary, type FileResult } from './shard-report.js';

/*
 * Runs the real-environment suites on E2E_SHARDS environments (default 3; 1 = one environment, the
 * files one after another): each environment runs one file at a time, taken from one queue, longest
 * first (e2e/durations.json). The first environment is the usual one (reused when `npm run env:up`
 * started it, and then left running); the others live in .e2e/shards/N and never have the real node.
 */

const distE2e = path.join(repoRoot, 'dist', 'e2e');
const durationsFile = path.join(repoRoot, 'e2e', 'durations.json');

interface Shard extends ShardState {
  n: number;
  dir: string;
  upSeconds: number;
}

/** Every compiled test file under `dir` (node --test takes files or globs, not folders, since Node 21). */
function testFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.js'))
    .sort()
    .map((f) => path.join(dir, f));
}

function readDurations(): Record<string, number> {
  try {
    return JSON.parse(fs.readFileSync(durationsFile, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

const children = new Set<ChildProcess>();
let interrupted = false;

/** One test file on one environment, its output kept and printed whole when it ends (no interleaving). */
function runFile(job: Job, shard: Shard, options: string[]): Promise<FileResult> {
  const t0 = Date.now();
  const child = spawn(
    process.execPath,
    ['--test', '--test-concurrency=1', '--test-reporter=spec', ...options, path.resolve(distE2e, job.file)],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SRO_E2E_DIR: shard.dir, ...(shard.realNode ? {} : { ENV_REAL_NODE: '0' }) },
    },
  );
  children.add(child);
  const chunks: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => chunks.push(d));
  child.stderr?.on('data', (d: Buffer) => chunks.push(d));
  return new Promise((resolve) =>
    child.on('close', (code) => {
      children.delete(child);
      const output = Buffer.concat(chunks).toString();
      const r: FileResult = {
        file: job.file,
        shard: shard.n,
        seconds: (Date.now() - t0) / 1000,
        code,
        counts: countsOf(output),
      };
      const verdict = failed(r) ? 'FAILED' : 'ok';
      process.stdout.write(
        `\n[e2e] ── ${job.file} · environment ${shard.n} · ${r.seconds.toFixed(1)} s · ${verdict} ──\n${output}`,
      );
      resolve(r);
    }),
  );
}

/**
 * Hands out the queue until it is empty (or the run is interrupted) and nothing runs. `wake` is how a
 * shard whose environment came up later joins in. Returns the results and the files never run.
 */
function drain(
  queue: Job[],
  shards: Shard[],
  options: string[],
): { done: Promise<{ results: FileResult[]; notRun: string[] }>; wake: () => void } {
  const results: FileResult[] = [];
  let finish: (v: { results: FileResult[]; notRun: string[] }) => void = () => undefined;
  const done = new Promise<{ results: FileResult[]; notRun: string[] }>((r) => (finish = r));
  const wake = (): void => {
    // Environments without the real node first: the one with it keeps room for the jobs only it can run.
    for (const shard of [...shards].sort((a, b) => Number(a.realNode) - Number(b.realNode))) {
      const job = interrupted ? undefined : pick(queue, shard, shards);
      if (!job) continue;
      queue.splice(queue.indexOf(job), 1);
      Object.assign(shard, { status: 'running', job });
      void runFile(job, shard, options).then((r) => {
        results.push(r);
        Object.assign(shard, { status: 'idle', job: undefined });
        wake();
      });
    }
    const running = shards.some((s) => s.status === 'running');
    const booting = shards.some((s) => s.status === 'booting');
    // Nothing left, or nothing any environment up (or coming up) can take.
    if (!running && (queue.length === 0 || interrupted || !booting))
      finish({ results, notRun: queue.map((j) => j.file) });
  };
  return { done, wake };
}

/** The files to run (all, or those named), their queue, how many environments, the node --test options. */
function plan(): { all: boolean; options: string[]; queue: Job[]; count: number } {
  const { options, files } = splitArgs(process.argv.slice(2));
  const all = files.length === 0;
  const paths = all ? testFiles(distE2e) : files.map((f) => path.resolve(f));
  const queue = queueOf(
    paths.map((f) => path.relative(distE2e, f)),
    readDurations(),
  );
  const wanted = Math.max(1, Math.floor(Number(process.env.E2E_SHARDS ?? '3')) || 1);
  return { all, options, queue, count: shardCount(queue, wanted) };
}

/** Starts the environments after the first; each joins the queue (`wake`) once up, or drops out. */
function bootOthers(shards: Shard[], extras: ExtraEnv[], wake: () => void): Promise<void>[] {
  return shards.slice(1).map((shard) =>
    startExtraEnv(shard.dir).then(
      (e) => {
        extras.push(e);
        Object.assign(shard, { status: 'idle', upSeconds: e.upSeconds });
        console.error(`[e2e] environment ${shard.n} up in ${e.upSeconds.toFixed(1)} s (${shard.dir})`);
        wake();
      },
      (err: unknown) => {
        console.error(`[e2e] environment ${shard.n}: ${err instanceof Error ? err.message : String(err)}`);
        shards.splice(shards.indexOf(shard), 1);
        wake();
      },
    ),
  );
}

function onSigint(): void {
  interrupted = true;
  console.error('[e2e] interrupted: stopping the tests, then the environments this run started');
  for (const c of children) c.kill('SIGINT');
}

/** E2E_RECORD_DURATIONS=1: the measured durations become the queue's table (a whole run only). */
function record(durations: Record<string, number>, results: FileResult[]): void {
  if (process.env.E2E_RECORD_DURATIONS !== '1') return;
  fs.writeFileSync(durationsFile, `${JSON.stringify(recordedDurations(durations, results), null, 2)}\n`);
  console.log(`[e2e] wrote ${path.relative(repoRoot, durationsFile)}`);
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const { all, options, queue, count } = plan();
  const durations = readDurations();
  process.on('SIGINT', onSigint);
  const reuse = runningEnv() !== undefined;
  const extras: ExtraEnv[] = [];
  let boots: Promise<void>[] = [];
  let outcome: { results: FileResult[]; notRun: string[] } = { results: [], notRun: [] };
  const shards: Shard[] = [];
  let stoppedCleanly = false;
  try {
    const env = await up();
    if (reuse) removeDeployedOperator(env);
    const upSeconds = (Date.now() - t0) / 1000;
    shards.push({ n: 1, dir: stateDir, realNode: !env.noRealNode, status: 'idle', upSeconds });
    for (let n = 2; n <= count; n++)
      shards.push({
        n,
        dir: path.join(stateDir, 'shards', String(n)),
        realNode: false,
        status: 'booting',
        upSeconds: 0,
      });
    console.error(`[e2e] ${queue.length} files on ${count} environment(s)`);
    const { done, wake } = drain(queue, shards, options);
    // The first environment starts on the queue while the others come up.
    boots = bootOthers(shards, extras, wake);
    wake();
    outcome = await done;
  } finally {
    stoppedCleanly = await stopAll(boots, extras, reuse);
    process.off('SIGINT', onSigint);
    const { results, notRun } = outcome;
    const envs = shards.map((s) => ({ shard: s.n, upSeconds: s.upSeconds }));
    // Said even when the run or the stop threw: the tests that ran are not lost with it.
    for (const line of summary(results, notRun, (Date.now() - t0) / 1000, envs)) console.log(line);
  }
  const { results, notRun } = outcome;
  if (all && options.length === 0 && notRun.length === 0) record(durations, results);
  process.exitCode = Number(interrupted || !stoppedCleanly || notRun.length > 0 || results.some(failed));
}

/** Stops the environments this run started (the others first, then the first); false (said) when one would not. */
async function stopAll(boots: Promise<void>[], extras: ExtraEnv[], reuse: boolean): Promise<boolean> {
  await Promise.allSettled(boots);
  const stops = await Promise.allSettled(extras.map((e) => stopExtraEnv(e)));
  if (!reuse) stops.push(...(await Promise.allSettled([down()])));
  for (const s of stops)
    if (s.status === 'rejected') console.error(`[e2e] an environment did not stop: ${describe(s.reason)}`);
  return stops.every((s) => s.status === 'fulfilled');
}

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
