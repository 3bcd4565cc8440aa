import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { Watch, type V1PodSpec } from '@kubernetes/client-node';
import { loadConfig } from '../../operator/runtime/config.js';
import type { Mapping } from '../../resources/types.js';
import {
  adminClients,
  awsClients,
  kc,
  operatorKubeconfig,
  testQueue,
  waitFor,
  type RunningOperator,
} from '../harness.js';
import {
  benchOperator,
  benchScope,
  createDeployments,
  createMappings,
  createSecrets,
  eventBody,
  stripAll,
  type BenchOperator,
  type BenchSecret,
} from './fixtures.js';
import { breakdown, type MemoryBreakdown } from './memory.js';
import { writeFloor, type WriteFloor } from './write-floor.js';
import {
  apiRequests,
  componentCpu,
  cpuSeconds,
  metric,
  now,
  progress,
  requestDelta,
  rss,
  stampWatch,
} from './measure.js';

export interface ScaleResult {
  /** Mappings discover their consumers (SecretProviderClass mounts) instead of selecting by label. */
  discover?: boolean;
  mappings: number;
  secrets: number;
  workloads: number;
  coldReadyMs: number;
  /** The writes of the cold start without the operator: coldReadyMs is compared with it. */
  floor: WriteFloor;
  coldRssMiB: number;
  /** The cold leader's cgroup: its limit (the chart's) and peak usage, page cache included. */
  coldCgroup?: { limitMiB: number; peakMiB: number };
  coldRequests: Record<string, number>;
  /** CPU seconds used during the cold start, by process: what bounds it. */
  coldCpu: Record<string, number>;
  /** SIGTERM of the leader → the follower has reconciled every mapping. */
  leaderChangeMs: number;
  leaderChangeRequests: Record<string, number>;
  /** DescribeSecret calls of the new leader until every mapping was reconciled. */
  leaderChangeDescribes: number;
  /** The follower taking the lease → SendMessage of a rotation → its patch seen on a watch. */
  rotationDuringSyncMs: number;
  followerRssMiB: number;
  idle: { seconds: number; rssMiB: number; heapUsedMiB: number; memory: MemoryBreakdown; cpuPercent: number };
}

const RESOURCES = /^(deployments|statefulsets|daemonsets|secretsrotationmappings|events|leases)/;

/** Counts mappings whose Ready condition is True for their current generation, from a watch. */
async function readyWatch(namespace: string): Promise<{ ready: () => number; stop(): void }> {
  const { config } = await adminClients();
  const ready = new Set<string>();
  const abort = await new Watch(config).watch(
    `/apis/secretsrotation.io/v1alpha1/namespaces/${namespace}/secretsrotationmappings`,
    {},
    (_phase: string, m: Mapping) => {
      const c = m.status?.conditions?.find((x) => x.type === 'Ready');
      const ok = c?.status === 'True' && m.status?.observedGeneration === m.metadata.generation;
      if (ok) ready.add(m.metadata.name);
      else ready.delete(m.metadata.name);
    },
    () => undefined,
  );
  return { ready: () => ready.size, stop: () => abort.abort() };
}

/** Throws once the kernel killed the operator for its cgroup's memory limit. */
function oomKilled(op: BenchOperator): false {
  if (op.cgroup?.oomKills()) throw new Error(`operator OOM-killed at its ${op.cgroup.limitMiB} MiB limit`);
  return false;
}

const describes = async (op: RunningOperator): Promise<number> =>
  metric(await op.metrics(), 'secrets_rotation_aws_calls_total', 'operation="DescribeSecret"');

const reconciles = async (op: RunningOperator): Promise<number> =>
  metric(await op.metrics(), 'secrets_rotation_reconcile_duration_seconds_count');

/**
 * `n` mappings over `n` Deployments (no pods) and `secrets` secrets: time to every mapping Ready from
 * cold; then a second replica takes over from the first and a rotation is sent the moment it leads.
 * With `discover`, Deployment i mounts the SecretProviderClass of secret i mod `secrets` and every
 * mapping discovers its consumers (n / secrets each) instead of selecting one Deployment by label.
 */
export async function scale(
  n: number,
  secretsCount: number,
  opts: { idleSeconds: number; discover: boolean },
): Promise<ScaleResult> {
  const { idleSeconds, discover } = opts;
  const sc = await benchScope('bench-scale');
  const ns = sc.namespace;
  const secrets = await createFixtures(ns, n, secretsCount, discover);
  // At the operator's default concurrency: the bench runs it with the defaults.
  const concurrency = loadConfig({ SQS_QUEUE_URL: 'http://127.0.0.1/1/q' }).maxConcurrentReconciles;
  const { floor, cleanup: floorCleanup } = await writeFloor(n, concurrency, Math.min(n, 1000));
  const q = await testQueue(sc);
  const watch = await readyWatch(ns);
  const env = { LEADER_ELECTION_NAMESPACE: ns, RESYNC_INTERVAL: '0s' };
  progress('scale: cold start');
  const before = await apiRequests();
  const components = componentCpu();
  const t0 = now();
  const kubeconfig = await operatorKubeconfig(sc);
  // 15 min held up to 5,000 mappings; beyond, the bound grows with the count (20,000: an hour).
  const bound = 900_000 * Math.max(1, n / 5000);
  const a = await benchOperator(sc, q.queueUrl, env, { waitReady: false, kubeconfig });
  await waitFor('every mapping Ready', () => Promise.resolve(watch.ready() === n || oomKilled(a)), bound);
  const coldReadyMs = now() - t0;
  const coldCpu = components.used(a.process.pid ?? 0);
  const coldRequests = requestDelta(before, await apiRequests(), RESOURCES);
  const coldRssMiB = rss(a.process.pid ?? 0).rss;
  const coldCgroup = a.cgroup && { limitMiB: a.cgroup.limitMiB, peakMiB: a.cgroup.peakMiB() };

  progress('scale: leader change');
  const b = await benchOperator(sc, q.queueUrl, env, { kubeconfig });
  const followerRssMiB = rss(b.process.pid ?? 0).rss;
  const target = secrets[(n - 1) % secretsCount];
  const { sm, sqs } = await awsClients();
  const stamps = await stampWatch(ns);
  const reconciledBefore = await reconciles(b);
  const describedBefore = await describes(b);
  const before2 = await apiRequests();
  const t1 = now();
  // Not awaited: the old leader releases the Lease at once, then waits for its last long poll.
  const aExited = a.kill('SIGTERM');
  await waitFor(
    'the follower leads',
    async () => metric(await b.metrics(), 'secrets_rotation_leader') === 1,
    60_000,
  );
  // The rotation happens now, while the new leader's first round over every mapping runs.
  const sent = now();
  const version = (await sm.send(new PutSecretValueCommand({ SecretId: target.name, SecretString: 'x' })))
    .VersionId;
  await sqs.send(
    new SendMessageCommand({ QueueUrl: q.queueUrl, MessageBody: eventBody(target, version ?? '') }),
  );
  const [seen, reconciledAt] = await Promise.all([
    waitFor('rotation applied', () => Promise.resolve(stamps.seen.get(`${target.name}@${version}`)), 120_000),
    waitFor(
      'the new leader reconciled every mapping',
      async () => (await reconciles(b)) - reconciledBefore >= n && now(),
      bound,
    ),
  ]);
  const leaderChangeMs = reconciledAt - t1;
  const leaderChangeRequests = requestDelta(before2, await apiRequests(), RESOURCES);
  const leaderChangeDescribes = (await describes(b)) - describedBefore;
  await aExited;
  stamps.stop();
  watch.stop();

  const idle = await idleLeader(b, idleSeconds);

  await b.kill('SIGTERM');
  await stripAll(ns);
  await floorCleanup();
  for (const c of sc.cleanups.reverse()) await c().catch(() => undefined);
  await kc(['delete', 'namespace', ns, '--wait=false']);
  return {
    discover,
    mappings: n,
    secrets: secretsCount,
    workloads: n,
    coldReadyMs,
    floor,
    coldRssMiB,
    coldCgroup,
    coldRequests,
    coldCpu,
    leaderChangeMs,
    leaderChangeRequests,
    leaderChangeDescribes,
    rotationDuringSyncMs: seen - sent,
    followerRssMiB,
    idle,
  };
}

/** The leader after `seconds` without events: memory and CPU. */
async function idleLeader(b: RunningOperator, seconds: number): Promise<ScaleResult['idle']> {
  progress(`scale: idle for ${seconds} s`);
  const cpu0 = cpuSeconds(b.process.pid ?? 0);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = cpuSeconds(b.process.pid ?? 0) - cpu0;
  const memory = breakdown(await b.metrics(), b.process.pid ?? 0);
  return {
    seconds,
    rssMiB: memory.rssMiB,
    heapUsedMiB: memory.heapUsedMiB,
    memory,
    cpuPercent: (100 * cpu) / seconds,
  };
}

/** The secrets, Deployments `d-<i>` and mappings of the scale phase (see scale()). */
async function createFixtures(
  ns: string,
  n: number,
  secretsCount: number,
  discover: boolean,
): Promise<BenchSecret[]> {
  const kind = discover ? 'discovering ' : '';
  progress(`scale: creating ${secretsCount} secrets, ${n} Deployments, ${n} ${kind}mappings`);
  const secrets = await createSecrets('scale', secretsCount);
  const names = Array.from({ length: n }, (_, i) => `d-${i}`);
  if (discover)
    await createProviderClasses(
      ns,
      secrets.map((s) => s.name),
    );
  await createDeployments(ns, names, () => ({}), {
    replicas: 0,
    podSpec: (i) => (discover ? mountsClass(i % secretsCount) : {}),
  });
  const secretOf = (i: number): string => secrets[i % secretsCount].name;
  await createMappings(
    ns,
    names.map((name, i) =>
      discover
        ? { secretId: secretOf(i), discover: true }
        : { secretId: secretOf(i), selector: { matchLabels: { w: name } } },
    ),
  );
  return secrets;
}

/** One SecretProviderClass (provider aws) per secret, named `spc-<index>`. */
async function createProviderClasses(namespace: string, secretNames: string[]): Promise<void> {
  const { custom } = await adminClients();
  for (const [i, name] of secretNames.entries()) {
    await custom.createNamespacedCustomObject({
      group: 'secrets-store.csi.x-k8s.io',
      version: 'v1',
      namespace,
      plural: 'secretproviderclasses',
      body: {
        apiVersion: 'secrets-store.csi.x-k8s.io/v1',
        kind: 'SecretProviderClass',
        metadata: { name: `spc-${i}` },
        spec: {
          provider: 'aws',
          parameters: { objects: `- objectName: ${name}\n  objectType: secretsmanager` },
        },
      },
    });
  }
}

const mountsClass = (i: number): Partial<V1PodSpec> => ({
  volumes: [
    {
      name: 'secrets',
      csi: {
        driver: 'secrets-store.csi.k8s.io',
        readOnly: true,
        volumeAttributes: { secretProviderClass: `spc-${i}` },
      },
    },
  ],
});
