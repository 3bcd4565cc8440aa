import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import os from 'node:os';
import { waitReason } from '../mapping-helpers.js';
import { adminClients, rotate, testQueue, type Owner } from '../harness.js';
import { clusterCount, fillCluster, type ClusterFill } from './cluster-fill.js';
import { benchOperator, benchScope, operatorNodeFlags, teardown, createMappedSecrets } from './fixtures.js';
import { cpuSeconds, now, progress, rss, STAMP } from './measure.js';
import { received, startReloader } from './reloader-process.js';

/** One controller's cost on the filled cluster: start-up, one rotation, then idle. */
export interface ControllerCost {
  /** Process start → ready to act (ours: every mapping WatchingSecret; Reloader: its informers listed). */
  readyMs: number;
  /** The rotation → its target's pod template patched. */
  restartMs: number;
  /** RSS at the end of the idle period, and the highest RSS seen during it (both from /proc). */
  idleRssMiB: number;
  idleMaxRssMiB: number;
  /** The process's highest RSS since it started (VmHWM): the start-up list included. */
  peakRssMiB: number;
  /** CPU seconds (user + system, /proc/<pid>/stat): start-up, then rotation + idle, then all. */
  cpuSeconds: { startup: number; rotationAndIdle: number; total: number };
}

export interface SideBySideResult {
  date: string;
  machine: { cpus: number; model: string; memoryGiB: number; node: string };
  /** 1-minute load average at the start, when both were ready, at the end (the machine is shared). */
  loadAverage: { start: number; ready: number; end: number };
  fill: ClusterFill;
  /** What the cluster held when both started (the fill, the phase's own objects, the system's). */
  cluster: { deployments: number; secrets: number; configMaps: number };
  idleSeconds: number;
  ours: ControllerCost & {
    mappings: number;
    nodeFlags: string[];
    memoryLimitMiB?: number;
    watch: 'all namespaces';
  };
  reloader: ControllerCost & { version: string; annotated: number; watch: 'all namespaces' };
  /** Our idle RSS over Reloader's (the target: ≤ 0.5). */
  rssRatio: number;
}

const machine = (): SideBySideResult['machine'] => ({
  cpus: os.cpus().length,
  model: os.cpus()[0]?.model ?? '',
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
});

const load = (): number => os.loadavg()[0];

/** The pod template of a Deployment, as the API server holds it now. */
async function template(namespace: string, name: string): Promise<{ generation: number; text: string }> {
  const { apps } = await adminClients();
  const d = await apps.readNamespacedDeployment({ namespace, name });
  return { generation: d.metadata?.generation ?? 0, text: JSON.stringify(d.spec?.template ?? {}) };
}

/** Polls (50 ms) until `check` holds; the elapsed time since `since`. */
async function until(
  what: string,
  since: number,
  check: () => Promise<boolean>,
  timeoutMs = 120_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return now() - since;
}

/** A process's cost from what the phase timed and /proc now. */
function cost(
  pid: number,
  t: { readyMs: number; restartMs: number; cpuAtReady: number; idleMax: number },
): ControllerCost {
  const total = cpuSeconds(pid);
  const mem = rss(pid);
  return {
    readyMs: t.readyMs,
    restartMs: t.restartMs,
    idleRssMiB: mem.rss,
    idleMaxRssMiB: t.idleMax,
    peakRssMiB: mem.peak,
    cpuSeconds: { startup: t.cpuAtReady, rotationAndIdle: total - t.cpuAtReady, total },
  };
}

/** Deployments Reloader restarts when their Secret changes (its annotation, by Secret name). */
async function reloaderTargets(sc: Owner, n: number): Promise<string[]> {
  const { core, apps } = await adminClients();
  const names = Array.from({ length: n }, (_, i) => `rl-${i}`);
  for (const name of names) {
    await core.createNamespacedSecret({
      namespace: sc.namespace,
      body: { metadata: { name }, stringData: { password: 'initial' } },
    });
    await apps.createNamespacedDeployment({
      namespace: sc.namespace,
      body: {
        metadata: { name, annotations: { 'secret.reloader.stakater.com/reload': name } },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: {
              containers: [{ name: 'c', image: 'nginx:1.27', envFrom: [{ secretRef: { name } }] }],
            },
          },
        },
      },
    });
  }
  return names;
}

/**
 * Our operator (the bundle on the image's node flags, in a cgroup at the chart's memory limit, watching
 * all namespaces) and Reloader (its chart's defaults, all namespaces) on one cluster filled with `fill`,
 * started together; then one rotation each (ours: PutSecretValue + its EventBridge event into the
 * queue; Reloader: an update of the Kubernetes Secret), each target's template patch awaited, then
 * `idleSeconds` idle, sampling both RSS every second.
 */
export async function sideBySide(
  fill: ClusterFill,
  { targets, idleSeconds }: { targets: number; idleSeconds: number },
): Promise<SideBySideResult> {
  const loadStart = load();
  await fillCluster(fill);
  const ours = await benchScope('sbs-ours');
  const theirs = await benchScope('sbs-reloader');
  try {
    const secrets = await createMappedSecrets(ours.namespace, 'sbs', targets);
    const q = await testQueue(ours, { withRules: true });
    const annotated = await reloaderTargets(theirs, targets);
    const cluster = {
      deployments: await clusterCount('/apis/apps/v1/deployments'),
      secrets: await clusterCount('/api/v1/secrets'),
      configMaps: await clusterCount('/api/v1/configmaps'),
    };
    progress(
      `side by side: ${cluster.deployments} Deployments, ${cluster.secrets} Secrets, ${cluster.configMaps} ConfigMaps; starting both`,
    );
    // Started together, so both start-ups meet the same machine.
    const t0 = now();
    const [op, rl] = await Promise.all([
      (async () => {
        const op = await benchOperator(ours, q.queueUrl, {
          WATCH_NAMESPACE: '',
          LEADER_ELECTION_NAMESPACE: ours.namespace,
        });
        for (let i = 0; i < targets; i++)
          await waitReason(ours.namespace, `m-${i}`, 'WatchingSecret', 300_000);
        return { op, readyMs: now() - t0 };
      })(),
      (async () => {
        const rl = await startReloader(theirs, { secrets: cluster.secrets, configMaps: cluster.configMaps });
        return { rl, readyMs: now() - t0 };
      })(),
    ]);
    const opPid = op.op.process.pid ?? 0;
    const rlPid = rl.rl.process.pid ?? 0;
    const cpuReady = { ours: cpuSeconds(opPid), reloader: cpuSeconds(rlPid) };
    const loadReady = load();
    progress(
      `ours ready in ${(op.readyMs / 1000).toFixed(1)} s, Reloader in ${(rl.readyMs / 1000).toFixed(1)} s`,
    );

    // Ours: the AWS rotation, as EventBridge delivers it to the queue.
    const target = `d-${secrets[0].name}`;
    const oursBefore = await template(ours.namespace, target);
    const tOurs = now();
    const version = await rotate(secrets[0].name, secrets[0].arn);
    const oursRestartMs = await until('our restart', tOurs, async () => {
      const t = await template(ours.namespace, target);
      return t.generation > oursBefore.generation && t.text.includes(`${STAMP}`) && t.text.includes(version);
    });
    // Reloader: the Kubernetes Secret its Deployment names changes.
    const { core } = await adminClients();
    const rlBefore = await template(theirs.namespace, annotated[0]);
    const tRl = now();
    await core.patchNamespacedSecret(
      { namespace: theirs.namespace, name: annotated[0], body: { stringData: { password: 'rotated' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const rlRestartMs = await until('Reloader restart', tRl, async () => {
      const t = await template(theirs.namespace, annotated[0]);
      return t.generation > rlBefore.generation && t.text.includes('STAKATER_');
    });
    progress(
      `restarts: ours ${oursRestartMs.toFixed(0)} ms, Reloader ${rlRestartMs.toFixed(0)} ms; idle ${idleSeconds} s`,
    );
    const metrics = await rl.rl.metrics();
    if (received(metrics, 'secrets', 'update') < 1) throw new Error('Reloader saw no Secret update');

    const max = { ours: 0, reloader: 0 };
    for (let s = 0; s < idleSeconds; s++) {
      await new Promise((r) => setTimeout(r, 1000));
      max.ours = Math.max(max.ours, rss(opPid).rss);
      max.reloader = Math.max(max.reloader, rss(rlPid).rss);
    }
    const oursCost = cost(opPid, {
      readyMs: op.readyMs,
      restartMs: oursRestartMs,
      cpuAtReady: cpuReady.ours,
      idleMax: max.ours,
    });
    const rlCost = cost(rlPid, {
      readyMs: rl.readyMs,
      restartMs: rlRestartMs,
      cpuAtReady: cpuReady.reloader,
      idleMax: max.reloader,
    });
    const result: SideBySideResult = {
      date: new Date().toISOString(),
      machine: machine(),
      loadAverage: { start: loadStart, ready: loadReady, end: load() },
      fill,
      cluster,
      idleSeconds,
      ours: {
        ...oursCost,
        mappings: targets,
        nodeFlags: operatorNodeFlags(),
        memoryLimitMiB: op.op.cgroup?.limitMiB,
        watch: 'all namespaces',
      },
      reloader: { ...rlCost, version: rl.rl.version, annotated: annotated.length, watch: 'all namespaces' },
      rssRatio: oursCost.idleRssMiB / rlCost.idleRssMiB,
    };
    await teardown(ours, [op.op]);
    await rl.rl.kill();
    await teardown(theirs, []);
    return result;
  } catch (err) {
    await teardown(ours, []).catch(() => undefined);
    await teardown(theirs, []).catch(() => undefined);
    throw err;
  }
}
