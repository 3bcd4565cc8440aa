import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { down, runningEnv } from '../env/env.js';
import { repoRoot } from '../env/paths.js';
import { environment, installCrd } from '../harness.js';
import { studyEnv } from './fixtures.js';
import { burst, type BurstResult } from './burst.js';
import { latency, type LatencyResult } from './latency.js';
import type { Percentiles } from './measure.js';
import { memory, type MemoryBreakdown, type MemoryResult } from './memory.js';
import { scale, type ScaleResult } from './scale.js';
import { tenant, type TenantResult } from './tenant.js';
import { benchFigures, writeFigures } from './write-figures.js';
import { largeCluster, type ColdStart, type LargeCluster } from './large-cluster.js';

/**
 * `npm run bench`: the benchmark suite on the real environment. Every latency comes with its floor
 * measured in the same run; `BENCH_QUICK=1` runs a small version (under 2 minutes with the environment
 * up); `BENCH_PHASES=latency,burst,scale` picks phases; `BENCH_RATES` the latency rates. Prints a table, writes one JSON file per run
 * to e2e/bench/results/ so runs can be compared.
 */
const QUICK = process.env.BENCH_QUICK === '1';
const PHASES = (process.env.BENCH_PHASES ?? 'memory,latency,burst,scale,tenant,large-cluster').split(',');
/** `BENCH_RATES=50` (a comma list) runs the latency phase at those rates only, to study one. */
const RATES = process.env.BENCH_RATES?.trim()
  ? process.env.BENCH_RATES.split(',').map((r) => {
      const rate = Number(r);
      if (!Number.isFinite(rate) || rate < 1)
        throw new Error(`BENCH_RATES: "${r}" is not a rate (events/s, ≥ 1)`);
      return rate;
    })
  : undefined;
/** What a study changed from the full run; its results are named `-study`, not compared as history. */
const STUDY =
  RATES || process.env.BENCH_OPERATOR_ENV?.trim() ? { rates: RATES, operatorEnv: studyEnv() } : undefined;
const SIZES = QUICK
  ? {
      // 10/s three times: its target holds over three runs, each printed.
      rates: [1, 10, 10, 10, 50],
      perRate: (r: number) => ({ 1: 5, 10: 50, 50: 100 })[r] ?? 50,
      burst: { events: 100, secrets: 20, workloads: 50 },
      scale: { mappings: 300, secrets: 30, idleSeconds: 5 },
      memory: { mappings: 50, idleSeconds: 10 },
      largeCluster: {
        mappings: 50,
        deployments: 500,
        namespaces: 5,
        secretsAndConfigMaps: 500,
        bytes: 4096,
        idleSeconds: 10,
      },
    }
  : {
      rates: [1, 10, 10, 10, 50],
      perRate: (r: number) => ({ 1: 60, 10: 300, 50: 1000 })[r] ?? 300,
      burst: { events: 1000, secrets: 200, workloads: 500 },
      scale: {
        mappings: Number(process.env.BENCH_SCALE_MAPPINGS ?? 5000),
        secrets: Number(process.env.BENCH_SCALE_SECRETS ?? 500),
        idleSeconds: 60,
      },
      memory: { mappings: 50, idleSeconds: 30 },
      // 50 mappings beside 20,000 Deployments in 100 other namespaces, 10,000 Secrets and 10,000
      // ConfigMaps of 4 KiB: the cluster Reloader's users report 450–560 MB on.
      largeCluster: {
        mappings: 50,
        deployments: 20_000,
        namespaces: 100,
        secretsAndConfigMaps: 10_000,
        bytes: 4096,
        idleSeconds: 60,
      },
    };

interface Results {
  date: string;
  quick: boolean;
  study?: { rates?: number[]; operatorEnv: Record<string, string> };
  machine: { cpus: number; model: string; memoryGiB: number; node: string };
  memory?: MemoryResult;
  latency?: LatencyResult;
  burst?: BurstResult[];
  scale?: ScaleResult;
  tenant?: TenantResult;
  largeCluster?: LargeCluster;
  errors?: Record<string, string>;
}

const ms = (v: number): string => `${v.toFixed(1)} ms`;
const pcts = (p: Percentiles): string => `p50 ${ms(p.p50)}, p95 ${ms(p.p95)}, p99 ${ms(p.p99)}`;
const verbs = (r: Record<string, number>): string =>
  Object.entries(r)
    .sort(([, a], [, b]) => b - a)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

const mib = (v: number): string => `${v.toFixed(0)} MiB`;

/** RSS by part: the JS heap (reserved, used, by space), external memory, the rest (native). */
function whereItGoes(i: MemoryBreakdown, bareNodeRssMiB?: number): string {
  const spaces = Object.entries(i.spaces)
    .filter(([, v]) => v >= 1)
    .sort(([, a], [, b]) => b - a)
    .map(([k, v]) => `${k.replace(/_space$/, '')} ${mib(v)}`)
    .join(', ');
  const bare = bareNodeRssMiB === undefined ? '' : ` (a bare node: ${mib(bareNodeRssMiB)} RSS)`;
  return `JS heap ${mib(i.heapTotalMiB)} reserved, ${mib(i.heapUsedMiB)} used (${spaces}); external ${mib(i.externalMiB)}; native ${mib(i.nativeMiB)}${bare}`;
}

const limited = (limitMiB?: number): string =>
  limitMiB === undefined ? 'no memory limit' : `memory limit ${mib(limitMiB)}`;

function memoryRows(m: MemoryResult): string[][] {
  return [
    [
      `idle RSS, ${m.mappings} mappings, after ${m.idleSeconds} s (node ${m.nodeFlags.join(' ')}; ${limited(m.memoryLimitMiB)})`,
      mib(m.idle.rssMiB),
    ],
    ['  where it goes', whereItGoes(m.idle, m.bareNodeRssMiB)],
  ];
}

/** Writes per rotation and the CPU seconds of the busiest processes, ours then the floor's. */
function costRow(c: NonNullable<LatencyResult['rates'][number]['cost']>): string {
  const side = (x: typeof c.operator): string =>
    `${x.writesPerRotation} writes/rotation, ` +
    Object.entries(x.cpu)
      .filter(([, v]) => v >= 0.05)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', ');
  return `operator: ${side(c.operator)}; floor: ${side(c.floor)}`;
}

function latencyRows(l: LatencyResult): string[][] {
  const c = l.patchCost;
  return [
    [
      `PATCH p50, one at a time (n=${c.n}): admin, operator's ServiceAccount`,
      `${ms(c.adminMs)}, ${ms(c.serviceAccountMs)} (its identity and admission guard: +${ms(c.serviceAccountMs - c.adminMs)}; the floor patches as it)`,
    ],
    [
      `operator's RESTART_RATE_LIMIT in this phase`,
      `${l.restartRateLimit}/s (default 10/s paces 50/s on purpose)`,
    ],
    ...l.rates.flatMap((r) => [
      [
        `latency ${r.rate}/s, operator (n=${r.operator.n}, missed ${r.missed.operator}, superseded ${r.superseded})`,
        pcts(r.operator),
      ],
      [
        `latency ${r.rate}/s, floor (n=${r.floor.n}, missed ${r.missed.floor}, superseded ${r.floorSuperseded ?? 0})`,
        `${pcts(r.floor)} (wake ${ms(r.floorParts.wake)} + DescribeSecret ${ms(r.floorParts.describe)} + PATCH→watch ${ms(r.floorParts.patch)})`,
      ],
      [
        `latency ${r.rate}/s, ratio to floor p50`,
        `p50 ${(r.operator.p50 / r.floor.p50).toFixed(2)}×, p99 ${(r.operator.p99 / r.floor.p50).toFixed(2)}× (floor's own p99 ${(r.floor.p99 / r.floor.p50).toFixed(2)}×); p99 to floor p99 ${(r.operator.p99 / r.floor.p99).toFixed(2)}×`,
      ],
      ...(r.covered && (r.superseded || r.floorSuperseded)
        ? [
            [
              `latency ${r.rate}/s, until this version or a later one is stamped (n=${r.covered.operator.n}, floor's ${r.covered.floor.n})`,
              `p50 ${ms(r.covered.operator.p50)} vs floor ${ms(r.covered.floor.p50)}: ${(r.covered.operator.p50 / r.covered.floor.p50).toFixed(2)}×; p99 ${ms(r.covered.operator.p99)} vs ${ms(r.covered.floor.p99)}`,
            ],
          ]
        : []),
      ...(r.cost ? [[`latency ${r.rate}/s, API writes per rotation; CPU-s`, costRow(r.cost)]] : []),
    ]),
    [
      `RSS once ${l.mappings} mappings watch (the memory phase measures idle)`,
      `${l.idleRssMiB.toFixed(0)} MiB (peak under load ${l.peakRssMiB.toFixed(0)} MiB)`,
    ],
  ];
}

function burstRows(b: BurstResult): string[][] {
  const name = `burst, ${b.valves} valves: ${b.events} events, ${b.secrets} secrets, ${b.workloads} Deployments`;
  return [
    [
      name,
      `restarts ${b.restarts} (expected ${b.workloads}; duplicated ${b.duplicated}, missing ${b.missing})`,
    ],
    [
      '  wall time',
      `all restarted ${(b.allRestartedMs / 1000).toFixed(1)} s, queue drained ${(b.drainedMs / 1000).toFixed(1)} s`,
    ],
    [
      '  API writes',
      `${b.objectWrites} object PATCHes (${verbs(b.writes)}) for ${b.workloads + b.secrets} objects; ${b.eventWrites} Events`,
    ],
    ['  DescribeSecret calls, peak RSS', `${b.describeSecretCalls}, ${b.peakRssMiB.toFixed(0)} MiB`],
  ];
}

const cpu = (r: Record<string, number>): string =>
  Object.entries(r)
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ');

function scaleRows(s: ScaleResult): string[][] {
  const name = `scale: ${s.mappings} ${s.discover ? 'discovering ' : ''}mappings, ${s.workloads} Deployments, ${s.secrets} secrets`;
  return [
    [
      name,
      `all Ready from cold ${(s.coldReadyMs / 1000).toFixed(1)} s, RSS ${s.coldRssMiB.toFixed(0)} MiB${s.coldCgroup ? ` (cgroup peak ${mib(s.coldCgroup.peakMiB)} of ${mib(s.coldCgroup.limitMiB)})` : ', no memory limit'}`,
    ],
    [
      `  write floor: finalizer + status for ${s.floor.mappings}, ${s.floor.concurrency} at a time`,
      `${(s.floor.ms / 1000).toFixed(1)} s (${cpu(s.floor.cpu)}); cold start ${(s.coldReadyMs / s.floor.ms).toFixed(2)}× the floor`,
    ],
    [
      '  kube-apiserver CPU-seconds per 1,000 mappings',
      Object.entries(s.floor.perThousand)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', '),
    ],
    ['  cold start API requests', verbs(s.coldRequests)],
    ['  cold start CPU seconds', cpu(s.coldCpu)],
    ['  leader change → every mapping reconciled', `${(s.leaderChangeMs / 1000).toFixed(1)} s`],
    [
      '  leader change API requests',
      `${verbs(s.leaderChangeRequests)}; DescribeSecret ${s.leaderChangeDescribes} (${s.secrets} secrets)`,
    ],
    ['  rotation (PutSecretValue, SendMessage) as the new leader starts → patch', ms(s.rotationDuringSyncMs)],
    [
      `  idle ${s.idle.seconds} s (leader)`,
      `RSS ${s.idle.rssMiB.toFixed(0)} MiB (JS heap used ${s.idle.heapUsedMiB.toFixed(0)} MiB), CPU ${s.idle.cpuPercent.toFixed(1)} %; follower RSS ${s.followerRssMiB.toFixed(0)} MiB`,
    ],
    ['  where the leader’s RSS goes', whereItGoes(s.idle.memory)],
  ];
}

const coldStart = (c: ColdStart): string =>
  `/readyz ${ms(c.readyzMs)}, all reconciled ${ms(c.reconciledMs)}; idle RSS ${mib(c.idleRssMiB)} (peak ${mib(c.peakRssMiB)}); cached ${c.cachedWorkloads} workloads in ${c.cachedNamespaces} namespaces, ${c.cacheWatches} watches; requests: ${verbs(c.requests)}`;

function largeClusterRows(l: LargeCluster): string[][] {
  const rssDelta = (100 * (l.with.idleRssMiB - l.without.idleRssMiB)) / l.without.idleRssMiB;
  return [
    [`large cluster: ${l.mappings} mappings, cold start, idle ${l.idleSeconds} s`, coldStart(l.without)],
    [
      `  + ${l.deployments} Deployments in ${l.namespaces} namespaces, ${l.secrets} Secrets and ${l.configMaps} ConfigMaps of ${l.bytesEach / 1024} KiB, unrelated`,
      coldStart(l.with),
    ],
    [
      '  with them − without',
      `idle RSS ${rssDelta >= 0 ? '+' : ''}${rssDelta.toFixed(1)} %, /readyz ${ms(l.with.readyzMs - l.without.readyzMs)}`,
    ],
  ];
}

function tenantRows(t: TenantResult): string[][] {
  return [
    [
      `a mapping with every field at its CRD bound (${t.targets} targets, 16 windows)`,
      `${t.passes} passes woken by its workload's relabels: ${ms(t.meanPassMs)} each (a plain mapping: ${ms(t.plainMeanPassMs)}), ${t.statusWrites} status writes`,
    ],
    ['  its memory', `RSS ${mib(t.rssBeforeMiB)} before it, ${mib(t.rssAfterMiB)} after`],
    ['  its staged rotation, 100 stages', `${(t.stagedRotationMs / 1000).toFixed(1)} s`],
  ];
}

/** The printed table's rows, phase by phase (the phases that ran). */
function allRows(results: Results): string[][] {
  return [
    ...(results.memory ? memoryRows(results.memory) : []),
    ...(results.latency ? latencyRows(results.latency) : []),
    ...(results.burst ?? []).flatMap(burstRows),
    ...(results.scale ? scaleRows(results.scale) : []),
    ...(results.tenant ? tenantRows(results.tenant) : []),
    ...(results.largeCluster ? largeClusterRows(results.largeCluster) : []),
  ];
}

function table(rows: string[][]): string {
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([a, b]) => `${a.padEnd(w)}  ${b}`).join('\n');
}

async function main(): Promise<void> {
  const reuse = runningEnv() !== undefined;
  await environment();
  await installCrd();
  const results: Results = {
    date: new Date().toISOString(),
    quick: QUICK,
    study: STUDY,
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model ?? '',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
  };
  const phase = async <T>(name: string, run: () => Promise<T>): Promise<T | undefined> => {
    if (!PHASES.includes(name)) return undefined;
    try {
      return await run();
    } catch (err) {
      // One phase failing still leaves the others' figures (and says why in the JSON).
      console.error(
        `[bench] ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      results.errors = { ...results.errors, [name]: String(err) };
      return undefined;
    }
  };
  try {
    results.memory = await phase('memory', () => memory(SIZES.memory.mappings, SIZES.memory.idleSeconds));
    results.latency = await phase('latency', () => latency(RATES ?? SIZES.rates, SIZES.perRate));
    results.burst = await phase('burst', async () => [
      await burst('default', SIZES.burst),
      await burst('opened', SIZES.burst),
    ]);
    results.scale = await phase('scale', () =>
      scale(SIZES.scale.mappings, SIZES.scale.secrets, {
        idleSeconds: SIZES.scale.idleSeconds,
        discover: process.env.BENCH_SCALE_DISCOVER === '1',
      }),
    );
    results.tenant = await phase('tenant', tenant);
    results.largeCluster = await phase('large-cluster', () => largeCluster(SIZES.largeCluster));
  } finally {
    if (!reuse) await down();
  }
  const rows = allRows(results);
  const m = results.machine;
  console.log(
    `\n${results.date}, ${m.cpus} × ${m.model}, ${m.memoryGiB} GiB, Node ${m.node}${QUICK ? ', quick' : ''}`,
  );
  console.log(table(rows));
  const dir = path.join(repoRoot, 'e2e', 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(
    dir,
    `${results.date.replace(/[:.]/g, '-')}${QUICK ? '-quick' : ''}${STUDY ? '-study' : ''}.json`,
  );
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwritten: ${path.relative(repoRoot, file)}`);
  for (const svg of Object.values(writeFigures(benchFigures(results), file)))
    console.log(`written: ${path.relative(repoRoot, svg)}`);
  if (results.errors) process.exitCode = 1;
}

// Exit explicitly: a watch or keep-alive connection left open by a failed phase must not keep a
// finished benchmark alive.
main().then(
  () => process.exit(),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
