import { spawn } from 'node:child_process';
import { waitReason } from '../mapping-helpers.js';
import { testQueue } from '../harness.js';
import { benchOperator, benchScope, operatorNodeFlags, teardown, createMappedSecrets } from './fixtures.js';
import { metric, progress, rss } from './measure.js';

/** Where an idle operator's resident memory goes (MiB), from its own metrics and /proc. */
export interface MemoryBreakdown {
  rssMiB: number;
  /** V8's heap as reserved (heapTotal), and by space: what is used in each. */
  heapTotalMiB: number;
  heapUsedMiB: number;
  spaces: Record<string, number>;
  /** Buffers and other memory held outside the JS heap (external, including ArrayBuffers). */
  externalMiB: number;
  /** RSS the heap and external memory do not explain: the node binary, V8's and libuv's own. */
  nativeMiB: number;
}

export interface MemoryResult {
  mappings: number;
  idleSeconds: number;
  /** The operator's node flags (see operatorNodeFlags). */
  nodeFlags: string[];
  /** The memory limit of the operator's cgroup (the chart's; absent: it ran unlimited). */
  memoryLimitMiB?: number;
  idle: MemoryBreakdown;
  /** A bare node (no code loaded, same flags) on this machine: the runtime's own share. */
  bareNodeRssMiB: number;
}

const MiB = 2 ** 20;

/** The breakdown from the operator's default metrics (prom-client) and its RSS. */
export function breakdown(metrics: string, pid: number): MemoryBreakdown {
  const m = (name: string, labels = ''): number => metric(metrics, `secrets_rotation_${name}`, labels) / MiB;
  const spaces: Record<string, number> = {};
  for (const line of metrics.split('\n')) {
    const space = /^secrets_rotation_nodejs_heap_space_size_used_bytes\{space="([^"]+)"\} (\S+)/.exec(line);
    if (space) spaces[space[1]] = Number(space[2]) / MiB;
  }
  const rssMiB = rss(pid).rss;
  const heapTotalMiB = m('nodejs_heap_size_total_bytes');
  const externalMiB = m('nodejs_external_memory_bytes');
  return {
    rssMiB,
    heapTotalMiB,
    heapUsedMiB: m('nodejs_heap_size_used_bytes'),
    spaces,
    externalMiB,
    nativeMiB: rssMiB - heapTotalMiB - externalMiB,
  };
}

/** RSS of a node process with the same flags that loads nothing, after it settled. */
async function bareNodeRss(flags: string[]): Promise<number> {
  const child = spawn(process.execPath, [...flags, '-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1000));
  const out = rss(child.pid ?? 0).rss;
  child.kill('SIGKILL');
  return out;
}

/**
 * `mappings` mappings (one secret, one Deployment each), the operator leading with every one of them
 * WatchingSecret, then `idleSeconds` without events: the resident memory a quiet cluster costs.
 */
export async function memory(mappings: number, idleSeconds: number): Promise<MemoryResult> {
  const sc = await benchScope('bench-memory');
  await createMappedSecrets(sc.namespace, 'mem', mappings);
  const q = await testQueue(sc);
  const nodeFlags = operatorNodeFlags();
  const op = await benchOperator(sc, q.queueUrl);
  for (let i = 0; i < mappings; i++) await waitReason(sc.namespace, `m-${i}`, 'WatchingSecret', 60_000);
  progress(`memory: ${mappings} mappings watching; idle for ${idleSeconds} s`);
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const idle = breakdown(await op.metrics(), op.process.pid ?? 0);
  await teardown(sc, [op]);
  const memoryLimitMiB = op.cgroup?.limitMiB;
  return {
    mappings,
    idleSeconds,
    nodeFlags,
    memoryLimitMiB,
    idle,
    bareNodeRssMiB: await bareNodeRss(nodeFlags),
  };
}
