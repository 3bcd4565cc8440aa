import fs from 'node:fs';
import path from 'node:path';
import { down, runningEnv } from '../env/env.js';
import { repoRoot } from '../env/paths.js';
import { environment, installCrd } from '../harness.js';
import { sideBySide, type ControllerCost, type SideBySideResult } from './side-by-side.js';

/**
 * `npm run bench:reloader`: our operator and Stakater Reloader (built from its Go module) on one
 * cluster of 20,000 Deployments, 10,000 Secrets and 10,000 ConfigMaps in 100 namespaces, each after
 * one rotation and an idle minute: RSS and CPU seconds, side by side. `BENCH_QUICK=1` fills a small
 * cluster (a check that it runs, not a figure). Writes e2e/bench/results/<date>-reloader.json.
 */
const QUICK = process.env.BENCH_QUICK === '1';
const FILL = QUICK
  ? { namespaces: 4, deployments: 200, secrets: 100, configMaps: 100, bytesEach: 4096 }
  : {
      namespaces: 100,
      deployments: Number(process.env.BENCH_FILL_DEPLOYMENTS ?? 20_000),
      secrets: Number(process.env.BENCH_FILL_SECRETS ?? 10_000),
      configMaps: Number(process.env.BENCH_FILL_CONFIGMAPS ?? 10_000),
      bytesEach: 4096,
    };
const IDLE_SECONDS = QUICK ? 5 : 60;

const mib = (v: number): string => `${v.toFixed(0)} MiB`;
const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function rows(r: SideBySideResult): string[][] {
  const row = (name: string, c: ControllerCost): string[][] => [
    [
      `${name}: idle RSS after ${r.idleSeconds} s (max while idle; peak since start)`,
      `${mib(c.idleRssMiB)} (${mib(c.idleMaxRssMiB)}; ${mib(c.peakRssMiB)})`,
    ],
    [
      `${name}: CPU seconds (start-up, rotation + idle, total)`,
      `${c.cpuSeconds.startup.toFixed(1)}, ${c.cpuSeconds.rotationAndIdle.toFixed(1)}, ${c.cpuSeconds.total.toFixed(1)}`,
    ],
    [`${name}: ready, rotation → template patched`, `${s(c.readyMs)}, ${c.restartMs.toFixed(0)} ms`],
  ];
  return [
    [
      'cluster',
      `${r.cluster.deployments} Deployments, ${r.cluster.secrets} Secrets, ${r.cluster.configMaps} ConfigMaps (${r.fill.bytesEach / 1024} KiB each)`,
    ],
    [
      'load average (start, both ready, end)',
      `${r.loadAverage.start.toFixed(1)}, ${r.loadAverage.ready.toFixed(1)}, ${r.loadAverage.end.toFixed(1)}`,
    ],
    ...row(`ours (${r.ours.mappings} mappings, node ${r.ours.nodeFlags.join(' ')})`, r.ours),
    ...row(`Reloader ${r.reloader.version} (${r.reloader.annotated} annotated)`, r.reloader),
    ['idle RSS, ours / Reloader', `${r.rssRatio.toFixed(2)}× (target ≤ 0.50×)`],
  ];
}

async function main(): Promise<void> {
  // A study's settings (fixtures.ts) are for `npm run bench`: this comparison runs the defaults.
  if (process.env.BENCH_OPERATOR_ENV?.trim())
    throw new Error('bench:reloader runs the operator as shipped: unset BENCH_OPERATOR_ENV');
  const reuse = runningEnv() !== undefined;
  await environment();
  await installCrd();
  let result: SideBySideResult;
  try {
    result = await sideBySide(FILL, { targets: 5, idleSeconds: IDLE_SECONDS });
  } finally {
    if (!reuse) await down();
  }
  const table = rows(result);
  const w = Math.max(...table.map((t) => t[0].length));
  const m = result.machine;
  console.log(
    `\n${result.date}, ${m.cpus} × ${m.model}, ${m.memoryGiB} GiB, Node ${m.node}${QUICK ? ', quick' : ''}`,
  );
  console.log(table.map(([a, b]) => `${a.padEnd(w)}  ${b}`).join('\n'));
  const dir = path.join(repoRoot, 'e2e', 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${result.date.replace(/[:.]/g, '-')}-reloader${QUICK ? '-quick' : ''}.json`);
  fs.writeFileSync(file, `${JSON.stringify({ quick: QUICK, ...result }, null, 2)}\n`);
  console.log(`\nwritten: ${path.relative(repoRoot, file)}`);
}

// Exit explicitly: a watch or keep-alive connection left open must not keep a finished run alive.
main().then(
  () => process.exit(),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
