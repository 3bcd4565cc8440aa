import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { repoRoot } from '../env/paths.js';

/**
 * A memory cgroup limited as the chart limits the operator's container. Node sizes its heap from the
 * limit it finds in its cgroup (measured: a 259 MiB heap limit under 256 MiB, 4,288 MiB unlimited on
 * this 24 GiB machine), so the bench measures the operator in one, as the pod runs it.
 */
export interface MemoryCgroup {
  /** Write a pid here to move that process in (before it execs node: node reads the limit at start). */
  procs: string;
  limitMiB: number;
  /** The cgroup's peak usage as the kernel charges it (file pages only if this cgroup read them first). */
  peakMiB(): number;
  /** How often the kernel's OOM killer killed a process of the cgroup. */
  oomKills(): number;
  remove(): void;
}

const MiB = 2 ** 20;
const valuesFile = path.join(repoRoot, 'manifests/helm/secrets-rotation-operator/values.yaml');

/** A Kubernetes memory quantity (`256Mi`, `1Gi`, `500M`, `268435456`) in bytes. */
export function quantityBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q.trim());
  if (!m) throw new Error(`not a memory quantity: ${JSON.stringify(q)}`);
  const unit: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: MiB,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Math.round(Number(m[1]) * (m[2] ? unit[m[2]] : 1));
}

/** The chart's default `resources.limits.memory`, in bytes. */
export function chartMemoryLimit(): number {
  const values = YAML.parse(fs.readFileSync(valuesFile, 'utf8')) as {
    resources?: { limits?: { memory?: string } };
  };
  const limit = values.resources?.limits?.memory;
  if (!limit) throw new Error(`${valuesFile}: no resources.limits.memory`);
  return quantityBytes(limit);
}

interface Layout {
  dir: string;
  limit: string;
  peak: string;
  events: string;
}

/** This process's memory cgroup directory and its file names: cgroup v1's memory controller or v2's. */
function ownLayout(): Layout | string {
  const lines = fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  const v1 = lines.map((l) => l.split(':')).find(([, ctrl]) => ctrl.split(',').includes('memory'));
  if (v1 && fs.existsSync('/sys/fs/cgroup/memory')) {
    return {
      dir: path.join('/sys/fs/cgroup/memory', v1[2]),
      limit: 'memory.limit_in_bytes',
      peak: 'memory.max_usage_in_bytes',
      events: 'memory.oom_control',
    };
  }
  const v2 = lines.find((l) => l.startsWith('0::'));
  if (v2 && fs.existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    return {
      dir: path.join('/sys/fs/cgroup', v2.slice(3)),
      limit: 'memory.max',
      peak: 'memory.peak',
      events: 'memory.events',
    };
  }
  return 'no cgroup memory controller is mounted';
}

/**
 * A child of this process's memory cgroup named `name`, limited to `limitBytes`; or why none can be
 * made here (not root, read-only cgroupfs, v2 without the memory controller delegated).
 */
export function memoryCgroup(name: string, limitBytes: number): MemoryCgroup | string {
  const layout = ownLayout();
  if (typeof layout === 'string') return layout;
  const dir = path.join(layout.dir, name);
  try {
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, layout.limit), String(limitBytes));
  } catch (e) {
    if (fs.existsSync(dir)) fs.rmdirSync(dir);
    return `cannot make a memory cgroup under ${layout.dir}: ${(e as Error).message}`;
  }
  const read = (file: string): string => fs.readFileSync(path.join(dir, file), 'utf8');
  return {
    procs: path.join(dir, 'cgroup.procs'),
    limitMiB: limitBytes / MiB,
    peakMiB: () => Number(read(layout.peak).trim()) / MiB,
    oomKills: () => Number(/^oom_kill (\d+)$/m.exec(read(layout.events))?.[1] ?? 0),
    remove: () => fs.rmdirSync(dir),
  };
}
