import { apiRequests, componentCpu, now, requestDelta, sum } from './measure.js';

/** What one side of a latency rate cost the machine, from its first SendMessage until it went quiet. */
export interface SideCost {
  /** CPU seconds by process: the environment's, the operator's (ours only) and the bench's own. */
  cpu: Record<string, number>;
  /** API writes by verb and resource (every writer: the deployment controller's too). */
  writes: Record<string, number>;
  /** Those writes per rotation sent. */
  writesPerRotation: number;
  /** How long after the last SendMessage the API writes stopped (ms). */
  settledMs: number;
}

// DELETE is not counted: nothing a rotation does deletes, and a namespace an earlier phase left being
// deleted would count its objects' deletions here.
const WRITE = /^(POST|PUT|PATCH|APPLY) /;
/** The objects a rotation touches: its workload (and what its controller makes), its mapping, Events. */
const TOUCHED = /^(deployments|replicasets|secretsrotationmappings|events)/;

const writesOf = (delta: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(delta).filter(([k]) => WRITE.test(k)));

/**
 * Starts counting: `done(rotations)` waits until the API server saw no write to the objects a
 * rotation touches for `quietMs` (the operator's Events, status and rollout-end writes trail its
 * patches), then returns the cost. The floor writes nothing after its patches; the wait is the same.
 * The window runs from this call to that quiet moment, so it also holds whatever the caller waited
 * before `done` (the latency phase waits up to 15 s for each stamp that never shows).
 */
export async function costMeter(
  operatorPid?: number,
): Promise<{ done(rotations: number, lastSentAt: number): Promise<SideCost> }> {
  const processes = componentCpu({ all: true, operatorPid });
  const bench0 = process.cpuUsage();
  const before = await apiRequests();
  return {
    async done(rotations, lastSentAt) {
      const quietMs = 2000;
      let last = writesOf(requestDelta(before, await apiRequests(), TOUCHED));
      let changedAt = now();
      // Bounded: a writer that never goes quiet (a hot loop) is reported as it stands after 60 s.
      while (now() - changedAt < quietMs && now() - lastSentAt < 60_000) {
        await new Promise((r) => setTimeout(r, 250));
        const next = writesOf(requestDelta(before, await apiRequests(), TOUCHED));
        if (sum(next) !== sum(last)) changedAt = now();
        last = next;
      }
      const cpu = Object.fromEntries(Object.entries(processes.used()).map(([k, v]) => [k, round(v)]));
      const b = process.cpuUsage(bench0);
      cpu.bench = round((b.user + b.system) / 1e6);
      return {
        cpu,
        writes: last,
        writesPerRotation: round(sum(last) / Math.max(1, rotations)),
        settledMs: Math.round(Math.max(0, changedAt - lastSentAt)),
      };
    },
  };
}

const round = (v: number): number => Math.round(v * 100) / 100;
