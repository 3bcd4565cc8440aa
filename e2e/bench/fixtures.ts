import type { V1Deployment, V1PodSpec } from '@kubernetes/client-node';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../env/paths.js';
import type { Mapping, MappingSpec } from '../../resources/types.js';
import {
  adminClients,
  createSecret,
  kc,
  operatorKubeconfig,
  putSecretValueEvent,
  releaseMappings,
  startOperator,
  uniqueName,
  type RunningOperator,
  type Owner,
} from '../harness.js';
import { chartMemoryLimit, memoryCgroup, quantityBytes, type MemoryCgroup } from './cgroup.js';
import { forEachLimit, progress } from './measure.js';

export interface BenchSecret {
  name: string;
  arn: string;
}

/** The event EventBridge delivers for a PutSecretValue, with its `time` (second precision, as AWS's). */
export const eventBody = (s: BenchSecret, version: string, at = new Date()): string =>
  JSON.stringify({
    source: 'aws.secretsmanager',
    'detail-type': 'AWS API Call via CloudTrail',
    time: `${at.toISOString().slice(0, 19)}Z`,
    detail: putSecretValueEvent(s.name, s.arn, version),
  });

/** A namespace of its own for one benchmark phase, owning what the phase starts. */
export async function benchScope(prefix: string): Promise<Owner> {
  const namespace = uniqueName(prefix);
  await kc(['create', 'namespace', namespace]);
  return { namespace, cleanups: [], logs: [] };
}

export async function createSecrets(prefix: string, n: number): Promise<BenchSecret[]> {
  const out: BenchSecret[] = [];
  const names = Array.from({ length: n }, (_, i) => uniqueName(`${prefix}-${i}`));
  // One at a time: moto 5.2.5's CreateSecret scans every secret, and concurrent ones raced there
  // ("dictionary changed size during iteration", an HTML 500) once it held a few thousand.
  await forEachLimit(names, 1, async (name, i) => {
    out[i] = { name, arn: (await createSecret(name)).arn };
  });
  return out;
}

/** Deployments named `names[i]`, labelled `{w: names[i]}` plus `labels(i)`, `replicas` pods each. */
export async function createDeployments(
  namespace: string,
  names: string[],
  labels: (i: number) => Record<string, string>,
  { replicas, podSpec = () => ({}) }: { replicas: number; podSpec?: (i: number) => Partial<V1PodSpec> },
): Promise<void> {
  const { apps } = await adminClients();
  await forEachLimit(names, 8, (name, i) => {
    const body: V1Deployment = {
      metadata: { name, namespace, labels: { w: name, ...labels(i) } },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'c', image: 'nginx:1.27' }], ...podSpec(i) },
        },
      },
    };
    return apps.createNamespacedDeployment({ namespace, body });
  });
}

export async function createMappings(namespace: string, specs: MappingSpec[]): Promise<void> {
  const { custom } = await adminClients();
  await forEachLimit(specs, 8, (spec, i) =>
    custom.createNamespacedCustomObject({
      group: 'secretsrotation.io',
      version: 'v1alpha1',
      namespace,
      plural: 'secretsrotationmappings',
      body: {
        apiVersion: 'secretsrotation.io/v1alpha1',
        kind: 'SecretsRotationMapping',
        metadata: { name: `m-${i}`, namespace },
        spec,
      },
    }),
  );
}

/** `n` secrets, each with a Deployment `d-<secret>` of no pods in `namespace`. */
export async function createSecretsWithDeployments(
  namespace: string,
  prefix: string,
  n: number,
): Promise<BenchSecret[]> {
  const secrets = await createSecrets(prefix, n);
  await createDeployments(
    namespace,
    secrets.map((s) => `d-${s.name}`),
    () => ({}),
    { replicas: 0 },
  );
  return secrets;
}

/** As createSecretsWithDeployments, each secret mapped to its Deployment (mappings m-0, m-1, …). */
export async function createMappedSecrets(
  namespace: string,
  prefix: string,
  n: number,
): Promise<BenchSecret[]> {
  const secrets = await createSecretsWithDeployments(namespace, prefix, n);
  await createMappings(
    namespace,
    secrets.map((s) => ({ secretId: s.name, workloads: [{ kind: 'Deployment', name: `d-${s.name}` }] })),
  );
  return secrets;
}

/** The node flags of the image's ENTRYPOINT (`node <flags> operator.mjs`): the bench runs the same. */
export function imageNodeFlags(): string[] {
  const dockerfile = fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
  const entry = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
  if (!entry) throw new Error('Dockerfile: no ENTRYPOINT in exec form');
  const argv = JSON.parse(entry) as string[];
  return argv.slice(1, -1);
}

/** The image's node flags, then BENCH_NODE_OPTIONS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"). */
export const operatorNodeFlags = (): string[] => [
  ...imageNodeFlags(),
  ...(process.env.BENCH_NODE_OPTIONS?.split(' ').filter(Boolean) ?? []),
];

/**
 * The memory limit (bytes) the bench runs each operator under: the chart's container limit, or
 * BENCH_MEMORY_LIMIT (a quantity; `none`: unlimited, as before 2026-12-02).
 */
function benchMemoryLimit(): number | undefined {
  const asked = process.env.BENCH_MEMORY_LIMIT;
  if (asked === 'none') return undefined;
  return asked ? quantityBytes(asked) : chartMemoryLimit();
}

export interface BenchOperator extends RunningOperator {
  /** The operator's own memory cgroup, limited as its container is (absent: it runs unlimited). */
  cgroup?: MemoryCgroup;
}

/** Its own cgroup at the bench's limit, removed once the operator exited; none (with why) if not made. */
function operatorCgroup(sc: Owner): MemoryCgroup | undefined {
  const limit = benchMemoryLimit();
  if (limit === undefined) return undefined;
  const cg = memoryCgroup(`sro-bench-${process.pid}-${uniqueName('op')}`, limit);
  if (typeof cg === 'string') {
    progress(`operator runs without a memory limit: ${cg}`);
    return undefined;
  }
  sc.cleanups.push(() => Promise.resolve(cg.remove()));
  return cg;
}

/**
 * The operator as the tests run it (its ServiceAccount), quieter, with the production long-poll wait,
 * on the image's node flags, in a cgroup with the chart's memory limit (node sizes its heap from it).
 */
export async function benchOperator(
  sc: Owner,
  queueUrl: string,
  env: Record<string, string> = {},
  opts: { waitReady?: boolean; kubeconfig?: string; watchNamespace?: string } = {},
): Promise<BenchOperator> {
  const cgroup = operatorCgroup(sc);
  const op = await startOperator(sc, {
    kubeconfig: opts.kubeconfig ?? (await operatorKubeconfig(sc)),
    queueUrl,
    waitReady: opts.waitReady,
    watchNamespace: opts.watchNamespace,
    nodeArgs: operatorNodeFlags(),
    cgroupProcs: cgroup?.procs,
    env: {
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      SQS_WAIT_TIME_SECONDS: '20',
      ...env,
      ...studyEnv(),
    },
  });
  return { ...op, cgroup };
}

/**
 * `BENCH_OPERATOR_ENV="A=1 B=2"`: settings for every operator the bench starts, over the phase's own,
 * to study one (the run's results record them and are named `-study`).
 */
export function studyEnv(): Record<string, string> {
  const pairs = (process.env.BENCH_OPERATOR_ENV ?? '').split(' ').filter(Boolean);
  return Object.fromEntries(
    pairs.map((p) => {
      const at = p.indexOf('=');
      if (!/^[A-Z_][A-Z0-9_]*$/.test(p.slice(0, Math.max(at, 0))))
        throw new Error(`BENCH_OPERATOR_ENV: "${p}" is not NAME=value`);
      return [p.slice(0, at), p.slice(at + 1)];
    }),
  );
}

/** Mappings released while an operator still runs, then everything the phase created removed. */
export async function teardown(sc: Owner, operators: RunningOperator[]): Promise<void> {
  await releaseMappings(sc.namespace);
  for (const op of operators) await op.kill();
  for (const c of sc.cleanups.reverse()) await c().catch(() => undefined);
  await kc(['delete', 'namespace', sc.namespace, '--wait=false']);
}

/** Removes the finalizer of every mapping of the namespace (no operator runs any more). */
export async function stripAll(namespace: string): Promise<void> {
  const { custom } = await adminClients();
  const res = {
    group: 'secretsrotation.io',
    version: 'v1alpha1',
    namespace,
    plural: 'secretsrotationmappings',
  };
  const list = (await custom.listNamespacedCustomObject(res)) as { items: Mapping[] };
  await forEachLimit(list.items, 16, (m) =>
    custom
      .patchNamespacedCustomObject({
        ...res,
        name: m.metadata.name,
        body: [{ op: 'remove', path: '/metadata/finalizers' }],
      })
      .catch(() => undefined),
  );
}
