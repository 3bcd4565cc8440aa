import type { V1Deployment } from '@kubernetes/client-node';
import { adminClients, kc } from '../harness.js';
import { forEachLimit, progress } from './measure.js';

/** A cluster's unrelated objects: what neither controller acts on, but either may cache. */
export interface ClusterFill {
  namespaces: number;
  deployments: number;
  secrets: number;
  configMaps: number;
  /** Size of each Secret's and ConfigMap's one value. */
  bytesEach: number;
}

/** The fill's namespaces carry this label, so a later run in the same environment finds them. */
const LABEL = 'bench.secretsrotation.io/fill';
const nsName = (i: number): string => `fill-${String(i).padStart(3, '0')}`;

/** Names `prefix-0…n-1` not yet in `have`. */
const missing = (prefix: string, n: number, have: Set<string>): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}-${i}`).filter((name) => !have.has(name));

/**
 * Spreads `fill` over `fill.namespaces` namespaces: Deployments of 0 replicas (no pods: the cost is the
 * objects, not kwok's fake pods), Secrets and ConfigMaps of `bytesEach`. Idempotent: what an earlier run
 * in the same environment created is listed and kept, only the rest is created (many at once; 40,000
 * objects one by one take far longer than the measurement).
 */
export async function fillCluster(fill: ClusterFill, concurrency = 24): Promise<void> {
  const { core, apps } = await adminClients();
  const per = (total: number): number => Math.ceil(total / fill.namespaces);
  const payload = 'x'.repeat(fill.bytesEach);
  const started = Date.now();
  let created = 0;
  const count = (): void => {
    if (++created % 2000 === 0)
      progress(`cluster fill: ${created} objects created (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  };
  const existing = new Set(
    (await kc(['get', 'namespaces', '-l', LABEL, '-o', 'name']))
      .split('\n')
      .map((l) => l.replace(/^namespace\//, '')),
  );
  const jobs: (() => Promise<unknown>)[] = [];
  for (let n = 0; n < fill.namespaces; n++) {
    const namespace = nsName(n);
    if (!existing.has(namespace)) {
      await core.createNamespace({ body: { metadata: { name: namespace, labels: { [LABEL]: 'true' } } } });
    }
    const names = async (
      list: () => Promise<{ items: { metadata?: { name?: string } }[] }>,
    ): Promise<Set<string>> =>
      existing.has(namespace) ? new Set((await list()).items.map((o) => o.metadata?.name ?? '')) : new Set();
    const deployments = await names(() => apps.listNamespacedDeployment({ namespace }));
    const secrets = await names(() => core.listNamespacedSecret({ namespace }));
    const configMaps = await names(() => core.listNamespacedConfigMap({ namespace }));
    for (const name of missing('d', per(fill.deployments), deployments)) {
      jobs.push(() => apps.createNamespacedDeployment({ namespace, body: deployment(name) }));
    }
    for (const name of missing('s', per(fill.secrets), secrets)) {
      jobs.push(() =>
        core.createNamespacedSecret({
          namespace,
          body: { metadata: { name }, stringData: { data: payload } },
        }),
      );
    }
    for (const name of missing('c', per(fill.configMaps), configMaps)) {
      jobs.push(() =>
        core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { data: payload } } }),
      );
    }
  }
  progress(`cluster fill: ${jobs.length} objects to create in ${fill.namespaces} namespaces`);
  await forEachLimit(jobs, concurrency, async (job) => {
    await job();
    count();
  });
  if (jobs.length) progress(`cluster fill: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** A Deployment nothing maps or annotates: what a large cluster mostly holds. */
function deployment(name: string): V1Deployment {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] },
      },
    },
  };
}

/** How many objects of a kind the cluster holds, from one list of one item (remainingItemCount + 1). */
export async function clusterCount(path: string): Promise<number> {
  const out = JSON.parse(await kc(['get', '--raw', `${path}?limit=1`])) as {
    items: unknown[];
    metadata: { remainingItemCount?: number };
  };
  return out.items.length + (out.metadata.remainingItemCount ?? 0);
}
