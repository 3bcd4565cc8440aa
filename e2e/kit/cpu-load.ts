import { spawn } from 'node:child_process';
import type { Owner } from './operator-process.js';

/**
 * `n` busy-looping processes, as the builds beside a fresh machine's `npm ci && npm test` were: the
 * operators and the control plane compete for the CPUs. Each ends by itself after `maxMs` (a runner
 * that dies leaves no load behind); the owner's cleanups stop them earlier.
 */
export function cpuLoad(owner: Owner, n: number, maxMs: number): () => void {
  const spin = `const end = Date.now() + ${Math.round(maxMs)}; while (Date.now() < end) {}`;
  const children = Array.from({ length: n }, () =>
    spawn(process.execPath, ['-e', spin], { stdio: 'ignore' }),
  );
  const stop = (): void => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  owner.cleanups.push(() => Promise.resolve(stop()));
  return stop;
}
