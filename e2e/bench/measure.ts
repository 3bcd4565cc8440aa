import { Watch } from '@kubernetes/client-node';
import fs from 'node:fs';
import { readState } from '../env/env.js';
import { adminClients, kc } from '../harness.js';

export const STAMP = 'secretsrotation.io/secret-version';

export const progress = (msg: string): void => console.error(`[bench] ${msg}`);

export const now = (): number => performance.timeOrigin + performance.now();

/** p50/p95/p99/max of a sample set, in its unit; NaN when empty. */
export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function percentiles(samples: number[]): Percentiles {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN);
  return { n: s.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s.length ? s[s.length - 1] : NaN };
}

/** The values at percentiles 0, 1, …, `steps` of 100 (0: the least), to 0.1: a distribution in ~100 numbers. */
export function quantileCurve(samples: number[], steps = 100): number[] {
  const s = [...samples].sort((a, b) => a - b);
  if (!s.length) return [];
  return Array.from({ length: steps + 1 }, (_, i) => {
    const v = s[Math.min(s.length - 1, Math.floor((i / steps) * s.length))];
    return Math.round(v * 10) / 10;
  });
}

/** Resident memory of a process now and at its peak (MiB), from /proc. */
export function rss(pid: number): { rss: number; peak: number } {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const mib = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) / 1024;
  return { rss: mib('VmRSS'), peak: mib('VmHWM') };
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of stat(5); the split drops the first two.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** apiserver_request_total summed by "VERB resource[/subresource]" (every client). */
export async function apiRequests(): Promise<Map<string, number>> {
  const text = await kc(['get', '--raw', '/metrics']);
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const label = (k: string): string => new RegExp(`${k}="([^"]*)"`).exec(line)?.[1] ?? '';
    const sub = label('subresource');
    const key = `${label('verb')} ${label('resource')}${sub ? `/${sub}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.split(' ').pop()));
  }
  return out;
}

/** The requests made between two apiRequests() readings, for resources matching `resource`. */
export function requestDelta(
  before: Map<string, number>,
  after: Map<string, number>,
  resource: RegExp,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, n] of after) {
    const d = n - (before.get(key) ?? 0);
    if (d > 0 && resource.test(key.split(' ')[1])) out[key] = d;
  }
  return out;
}

export const sum = (r: Record<string, number>): number => Object.values(r).reduce((n, v) => n + v, 0);

/** Operator metric value (summed over label sets whose labels match `labels`). */
export function metric(text: string, name: string, labels = ''): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => l.includes(labels))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

/**
 * Watches the Deployments of a namespace and records when each version stamp first appears on a pod
 * template: the moment a restart is visible to the cluster.
 */
export async function stampWatch(namespace: string): Promise<{ seen: Map<string, number>; stop(): void }> {
  const { config } = await adminClients();
  const seen = new Map<string, number>();
  type D = { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } };
  const abort = await new Watch(config).watch(
    `/apis/apps/v1/namespaces/${namespace}/deployments`,
    {},
    (_phase: string, d: D) => {
      const stamp = d.spec?.template?.metadata?.annotations?.[STAMP];
      if (stamp && !seen.has(stamp)) seen.set(stamp, now());
    },
    () => undefined,
  );
  return { seen, stop: () => abort.abort() };
}

/** Runs `fn` over `items` with at most `concurrency` calls at once. */
export async function forEachLimit<T>(
  items: T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/**
 * CPU used from now on by the control plane's processes (`all`: every process of the environment;
 * `operatorPid`: an operator running already, as `operator`), and by an operator started since,
 * given its pid to `used`.
 */
export function componentCpu(opts: { all?: boolean; operatorPid?: number } = {}): {
  used(operatorPid?: number): Record<string, number>;
} {
  const procs = (readState()?.processes ?? [])
    .filter((p) => opts.all || ['kube-apiserver', 'etcd'].includes(p.name))
    .map(({ name, pid }) => ({ name, pid }));
  if (opts.operatorPid) procs.push({ name: 'operator', pid: opts.operatorPid });
  const start = new Map(procs.map((p) => [p.name, cpuSeconds(p.pid)]));
  return {
    used: (operatorPid) => ({
      ...(operatorPid ? { operator: cpuSeconds(operatorPid) } : {}),
      ...Object.fromEntries(procs.map((p) => [p.name, cpuSeconds(p.pid) - (start.get(p.name) ?? 0)])),
    }),
  };
}
