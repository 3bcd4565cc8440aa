import fs from 'node:fs';
import path from 'node:path';
import { logDir } from '../env/paths.js';

/** Where the real node's kubelet writes container logs (its default podLogsDir). */
const POD_LOGS = '/var/log/pods';

/**
 * Copies the container logs of every pod of `namespace` whose name starts with `prefix`, on the
 * real node, from now on — pods a rolling update makes later too — into one file per pod under
 * the environment's log dir, as they are written. Read from the node's files, not through
 * `kubectl logs` (the API server cannot reach this kubelet by its node name); each file is kept
 * open, so what an old pod wrote before the kubelet removed its log is still copied.
 */
export function copyPodLogs(namespace: string, prefix: string): { files: string[]; stop: () => void } {
  const open = new Map<string, { fd: number; offset: number; out: string }>();
  const files: string[] = [];
  const copy = (): void => {
    for (const [src, f] of open) {
      const buf = Buffer.alloc(64 * 1024);
      for (let n = fs.readSync(f.fd, buf, 0, buf.length, f.offset); n > 0;) {
        fs.appendFileSync(f.out, buf.subarray(0, n));
        f.offset += n;
        n = fs.readSync(f.fd, buf, 0, buf.length, f.offset);
      }
      if (!fs.existsSync(src)) {
        fs.closeSync(f.fd);
        open.delete(src);
      }
    }
  };
  const discover = (): void => {
    const dirs = fs.existsSync(POD_LOGS) ? fs.readdirSync(POD_LOGS) : [];
    for (const dir of dirs.filter((d) => d.startsWith(`${namespace}_${prefix}`))) {
      const pod = dir.split('_')[1];
      const root = path.join(POD_LOGS, dir);
      for (const container of fs.readdirSync(root))
        for (const file of fs.readdirSync(path.join(root, container))) {
          const src = path.join(root, container, file);
          if (open.has(src)) continue;
          const out = path.join(logDir, `pod-${namespace}-${pod}.log`);
          if (!files.includes(out)) files.push(out);
          open.set(src, { fd: fs.openSync(src, 'r'), offset: 0, out });
        }
    }
  };
  const tick = (): void => {
    try {
      discover();
      copy();
    } catch {
      // a pod's directory went between two reads: the next tick sees the rest
    }
  };
  const timer = setInterval(tick, 250);
  tick();
  return {
    files,
    stop: () => {
      clearInterval(timer);
      tick();
      for (const f of open.values()) fs.closeSync(f.fd);
      open.clear();
    },
  };
}

/** What says who led and who restarted what, from an operator's log (every line, not a tail). */
const KEY_LINES =
  /became leader|lost leadership|released the lease|leading:|shutting down|rotation detected|workload restarted|restart failed|pass abandoned|still running at the end of the term/;

export function keyLines(file: string): string {
  if (!fs.existsSync(file)) return `(no ${file})`;
  const lines = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => KEY_LINES.test(l));
  return [`--- ${file}: leadership and restarts`, ...lines].join('\n');
}
