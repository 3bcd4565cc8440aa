import assert from 'node:assert/strict';
import os from 'node:os';
import { Rng } from './chaos/rng.js';
import { delay } from './env/processes.js';
import {
  createSecret,
  e2eTest,
  FAST_LEASE,
  installCrd,
  operatorKubeconfig,
  rotate,
  testQueue,
  uniqueName,
  waitFor,
} from './harness.js';
import { cpuLoad } from './kit/cpu-load.js';
import { OperatorFleet } from './kit/operator-fleet.js';
import { keyLines } from './kit/pod-logs.js';
import { SpecChanges, writersReport } from './kit/workload-writers.js';
import { applyMapping, getMapping, waitReason } from './mapping-helpers.js';
import { createWorkload, templateState } from './workloads-fixtures.js';

/**
 * Cycles of operator upgrades and leader failures under CPU load (UPGRADE_STRESS_CYCLES, default 4
 * in `npm test`; `npm run stress:upgrade` runs 32), each with or without a rotation, counting every
 * spec change of every mapped workload. One restart per workload per version, whatever happens to
 * the replicas: a change that does not move a workload to a newer version is an extra restart.
 */
const CYCLES = Number(process.env.UPGRADE_STRESS_CYCLES ?? 4);
const SEED = Number(process.env.UPGRADE_STRESS_SEED ?? Date.now() % 100_000);
const WORKLOADS = [
  ['Deployment', 'web'],
  ['Deployment', 'api'],
  ['StatefulSet', 'db'],
] as const;
const LEASE_MS = 6000;
/** UPGRADE_STRESS_NICE: the replicas' nice value (e.g. 10: starved beside the busy processes). */
const NICE = Number(process.env.UPGRADE_STRESS_NICE ?? 0);

type Fault =
  'handover' | 'upgrade' | 'upgrade-rotating' | 'leader-kill' | 'leader-pause' | 'leader-pause-rotating';
const FAULTS: Fault[] = [
  'handover',
  'leader-kill',
  'leader-pause',
  'upgrade-rotating',
  'upgrade',
  'leader-pause-rotating',
];

/** Template changes that did not move a workload to a newer version than it had, per workload. */
export function extraChanges(
  changes: { workload: string; stamp?: string }[],
  versions: string[],
  secret: string,
): Map<string, number> {
  const extra = new Map<string, number>();
  const reached = new Map<string, number>();
  for (const c of changes) {
    const at = c.stamp?.startsWith(`${secret}@`) ? versions.indexOf(c.stamp.slice(secret.length + 1)) : -1;
    if (at > (reached.get(c.workload) ?? 0)) reached.set(c.workload, at);
    else extra.set(c.workload, (extra.get(c.workload) ?? 0) + 1);
  }
  return extra;
}

/** One cycle's fault; rotations happen where the fault's name says (mid-pass: `midPass` ms before it). */
async function inject(
  fault: Fault,
  c: {
    fleet: OperatorFleet;
    rotateNow: () => Promise<void>;
    /** Resolves once the mapping's status records the last rotation. */
    recorded: () => Promise<unknown>;
    midPass: number;
    pauseMs: number;
  },
): Promise<void> {
  switch (fault) {
    case 'handover': {
      // A new replica describes the secret as a follower; the rotation comes, the leader applies and
      // records it; then the old replicas go (the leader first) and the new one leads at once.
      const fresh = await c.fleet.add();
      await c.rotateNow();
      await c.recorded();
      return c.fleet.handOverTo(fresh);
    }
    case 'upgrade':
      return c.fleet.rollingUpgrade();
    case 'upgrade-rotating':
      return c.fleet.rollingUpgrade(c.rotateNow);
    case 'leader-kill':
      await c.rotateNow();
      await delay(c.midPass);
      return c.fleet.killLeader();
    case 'leader-pause':
      // Frozen past the lease; the rotation comes while it sleeps: its successor restarts.
      await delay(c.midPass);
      return c.fleet.pauseLeader(c.pauseMs, c.rotateNow);
    case 'leader-pause-rotating':
      // Frozen mid-pass, past the lease: it wakes up with the views of before.
      await c.rotateNow();
      await delay(c.midPass);
      return c.fleet.pauseLeader(c.pauseMs);
  }
}

e2eTest(
  `upgrades, leader kills and a leader frozen past its lease, under CPU load (${CYCLES} cycles): each mapped workload restarts once per version`,
  async (scope) => {
    const ns = scope.namespace;
    const rng = new Rng(SEED);
    await installCrd();
    const secret = uniqueName('stress');
    const created = await createSecret(secret);
    const versions = [created.versionId];
    for (const [kind, name] of WORKLOADS)
      await createWorkload({ kind, namespace: ns, name }, { tier: 'stress' }, { replicas: 1 });
    await applyMapping(ns, 'm', { secretId: secret, selector: { matchLabels: { tier: 'stress' } } });
    const queue = await testQueue(scope, { withRules: true, visibilityTimeout: 5, maxReceiveCount: 20 });
    const kubeconfig = await operatorKubeconfig(scope);
    const fleet = new OperatorFleet(scope, {
      kubeconfig,
      queueUrl: queue.queueUrl,
      // A TTL as a user may set it: what a follower described stays usable for 30 s after it leads.
      env: { ...FAST_LEASE, LEASE_DURATION: `${LEASE_MS / 1000}s`, SECRET_CACHE_TTL: '30s' },
      nice: NICE,
    });
    await fleet.add();
    await fleet.add();
    await waitReason(ns, 'm', 'WatchingSecret');
    const changes = new SpecChanges(ns);
    await changes.start();
    scope.cleanups.push(() => Promise.resolve(changes.stop()));
    cpuLoad(scope, os.availableParallelism(), CYCLES * 60_000 + 60_000);

    const rotateNow = async (): Promise<void> => {
      versions.push(await rotate(secret, created.arn));
    };
    const log: string[] = [];
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const fault = FAULTS[cycle % FAULTS.length];
        const midPass = rng.int(0, 400);
        log.push(`${new Date().toISOString()} cycle ${cycle}: ${fault} (${midPass} ms)`);
        const recorded = (): Promise<unknown> =>
          waitFor(
            'the rotation recorded',
            async () => (await getMapping(ns, 'm')).status?.currentVersionId === versions.at(-1),
            60_000,
          );
        const pauseMs = LEASE_MS + rng.int(1000, 4000);
        await inject(fault, { fleet, rotateNow, recorded, midPass, pauseMs });
        const want = `${secret}@${versions.at(-1) ?? ''}`;
        await waitFor(
          `every workload stamped for ${want}`,
          async () =>
            (await Promise.all(WORKLOADS.map(([k, n]) => templateState(k, ns, n)))).every(
              (s) => s.stamp === want,
            ),
          90_000,
        );
        // Time for a replica that woke up, or one that just lost its term, to do what it would do.
        await delay(2000);
      }
      await fleet.leader();
      await delay(3000);
      const extra = extraChanges(changes.changes, versions, secret);
      const counted = WORKLOADS.map(([k, n]) => `${k}/${n}: ${changes.count(`${k}/${n}`)}`).join(', ');
      const total = [...extra.values()].reduce((a, b) => a + b, 0);
      console.log(
        `[upgrade-stress] seed ${SEED}, ${CYCLES} cycles, load ${os.availableParallelism()} busy processes, replicas at nice ${NICE}; ` +
          `replicas started ${fleet.tally.started}, upgrades ${fleet.tally.upgrades}, leader kills ${fleet.tally.kills}, ` +
          `leader pauses ${fleet.tally.pauses}; ${versions.length - 1} rotations; template changes ${counted}; ` +
          `extra restarts ${total}`,
      );
      assert.equal(total, 0, `extra restarts: ${JSON.stringify([...extra])}`);
      for (const [k, n] of WORKLOADS)
        assert.equal(changes.count(`${k}/${n}`), versions.length - 1, `${k}/${n}`);
    } catch (err) {
      console.error([...log, ...scope.logs.map(keyLines)].join('\n'));
      console.error(await writersReport(ns, { mapping: 'm', changes }));
      throw err;
    } finally {
      await fleet.stop();
    }
  },
  { timeout: 180_000 + CYCLES * 90_000 },
);
