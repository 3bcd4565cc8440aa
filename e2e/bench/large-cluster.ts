import { kc, operatorKubeconfig, readyz, testQueue, waitFor } from '../harness.js';
import { waitReason } from '../mapping-helpers.js';
import { benchOperator, benchScope, stripAll, createMappedSecrets } from './fixtures.js';
import { fillCluster } from './cluster-fill.js';
import { apiRequests, metric, now, progress, requestDelta, rss } from './measure.js';

/** One cold start of the operator (cluster-wide) beside the phase's mappings, then idle. */
export interface ColdStart {
  /** Process start → /readyz 200 (the mapping cache and the caches its mappings started have listed). */
  readyzMs: number;
  /** Process start → every mapping reconciled once by the leader. */
  reconciledMs: number;
  idleRssMiB: number;
  peakRssMiB: number;
  /** Requests to kube-apiserver for workloads during the start (LIST and WATCH by resource). */
  requests: Record<string, number>;
  /** What the caches held, from the operator's gauges. */
  cachedWorkloads: number;
  cachedNamespaces: number;
  cacheWatches: number;
}

export interface LargeCluster {
  mappings: number;
  /** Unrelated objects beside them: Deployments (in `namespaces` other namespaces), Secrets, ConfigMaps. */
  deployments: number;
  namespaces: number;
  secrets: number;
  configMaps: number;
  bytesEach: number;
  idleSeconds: number;
  without: ColdStart;
  with: ColdStart;
}

export interface LargeClusterSizes {
  mappings: number;
  deployments: number;
  namespaces: number;
  secretsAndConfigMaps: number;
  bytes: number;
  idleSeconds: number;
}

const WORKLOADS = /^(deployments|statefulsets|daemonsets|secretproviderclasses|externalsecrets)$/;

/**
 * `mappings` mappings in one namespace (one Deployment each), and a cold start of a cluster-wide
 * operator (WATCH_NAMESPACE empty, as the chart's default) before and after the cluster gains
 * `deployments` Deployments in `namespaces` other namespaces and `secretsAndConfigMaps` Secrets and
 * as many ConfigMaps of `bytes` each, none of which a mapping can reach: RSS, readiness and API
 * requests must not follow them. The unrelated objects are cluster-fill.ts's, kept for a later run
 * in the same environment (creating 40,000 objects takes minutes).
 */
export async function largeCluster(s: LargeClusterSizes): Promise<LargeCluster> {
  const sc = await benchScope('bench-large');
  await createMappedSecrets(sc.namespace, 'large', s.mappings);
  const q = await testQueue(sc);
  const kubeconfig = await operatorKubeconfig(sc);
  const start = (): Promise<ColdStart> => coldStart(sc, q.queueUrl, kubeconfig, s);
  progress(`large cluster: cold start beside ${s.mappings} mappings only`);
  const without = await start();
  await fillCluster({
    namespaces: s.namespaces,
    deployments: s.deployments,
    secrets: s.secretsAndConfigMaps,
    configMaps: s.secretsAndConfigMaps,
    bytesEach: s.bytes,
  });
  progress('large cluster: cold start with the unrelated objects');
  const withThem = await start();
  await stripAll(sc.namespace);
  for (const c of sc.cleanups.reverse()) await c().catch(() => undefined);
  await kc(['delete', 'namespace', sc.namespace, '--wait=false']);
  return {
    mappings: s.mappings,
    deployments: s.deployments,
    namespaces: s.namespaces,
    secrets: s.secretsAndConfigMaps,
    configMaps: s.secretsAndConfigMaps,
    bytesEach: s.bytes,
    idleSeconds: s.idleSeconds,
    without,
    with: withThem,
  };
}

async function coldStart(
  sc: Awaited<ReturnType<typeof benchScope>>,
  queueUrl: string,
  kubeconfig: string,
  s: LargeClusterSizes,
): Promise<ColdStart> {
  const before = await apiRequests();
  const t0 = now();
  const op = await benchOperator(
    sc,
    queueUrl,
    { LEADER_ELECTION_NAMESPACE: sc.namespace, RESYNC_INTERVAL: '0s' },
    { waitReady: false, kubeconfig, watchNamespace: '' },
  );
  const readyzMs = await waitFor(
    '/readyz',
    async () => (await readyz(op.metricsPort)) === 200 && now() - t0,
    120_000,
  );
  const reconciledMs = await waitFor(
    'every mapping reconciled',
    async () =>
      metric(await op.metrics(), 'secrets_rotation_reconcile_duration_seconds_count') >= s.mappings &&
      now() - t0,
    300_000,
  );
  await waitReason(sc.namespace, 'm-0', 'WatchingSecret');
  const requests = requestDelta(before, await apiRequests(), WORKLOADS);
  progress(`large cluster: ready in ${readyzMs.toFixed(0)} ms; idle for ${s.idleSeconds} s`);
  await new Promise((r) => setTimeout(r, s.idleSeconds * 1000));
  const text = await op.metrics();
  const mem = rss(op.process.pid ?? 0);
  await op.kill('SIGTERM');
  return {
    readyzMs,
    reconciledMs,
    idleRssMiB: mem.rss,
    peakRssMiB: mem.peak,
    requests,
    cachedWorkloads: metric(text, 'secrets_rotation_cached_workloads'),
    cachedNamespaces: metric(text, 'secrets_rotation_cached_namespaces'),
    cacheWatches: metric(text, 'secrets_rotation_cache_watches'),
  };
}
