import { adminClients } from '../harness.js';
import { forEachLimit, progress, rss } from './measure.js';

/** The leader's RSS before and after objects it never watches appear beside its workloads. */
export interface LargeCluster {
  secrets: number;
  configMaps: number;
  bytesEach: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
}

/**
 * `count` Secrets and `count` ConfigMaps of `bytes` each in `namespace` (beside the Deployments the
 * mappings select), then `settleSeconds` idle: the operator watches neither kind, so its RSS must not
 * follow them. (Neither is ever readable by its ServiceAccount: the RBAC grants no Secrets.)
 */
export async function largeCluster(
  namespace: string,
  operatorPid: number,
  { count, bytes, settleSeconds }: { count: number; bytes: number; settleSeconds: number },
): Promise<LargeCluster> {
  const { core } = await adminClients();
  const rssBeforeMiB = rss(operatorPid).rss;
  const payload = 'x'.repeat(bytes);
  progress(`large cluster: ${count} Secrets and ${count} ConfigMaps of ${bytes / 1024} KiB`);
  await forEachLimit(
    Array.from({ length: count }, (_, i) => i),
    8,
    async (i) => {
      await core.createNamespacedSecret({
        namespace,
        body: { metadata: { name: `big-${i}` }, stringData: { data: payload } },
      });
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: `big-${i}` }, data: { data: payload } },
      });
    },
  );
  await new Promise((r) => setTimeout(r, settleSeconds * 1000));
  return {
    secrets: count,
    configMaps: count,
    bytesEach: bytes,
    rssBeforeMiB,
    rssAfterMiB: rss(operatorPid).rss,
  };
}
