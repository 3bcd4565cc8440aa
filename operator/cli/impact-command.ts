import { KINDS } from '../kube/workload-kinds.js';
import { OPTIONAL_APIS } from '../kube/optional-apis.js';
import { projectExternalSecret, projectProviderClass } from '../kube/consumption.js';
import { kindsOf } from '../kube/target-selection.js';
import { projectWorkload, type WorkloadInfo } from '../kube/workload-cache.js';
import type { Mapping, WorkloadKind } from '../../resources/types.js';
import type { Args } from './args.js';
import { Cluster, contextNamespace } from './cluster.js';
import { impactOf, policyVerdict, type Namespaced } from './impact.js';
import { impactText } from './impact-view.js';
import type { Io } from './io.js';
import { render } from './output.js';
import { byKey, readableMappings } from './scope.js';
import { watchersOf } from './secret-match.js';

type Raw = Parameters<typeof projectWorkload>[1];

/** The workloads of `kinds` in `namespace`; a kind not served (Argo Rollouts absent) has none. */
async function workloads(
  cluster: Cluster,
  namespace: string,
  kinds: WorkloadKind[],
): Promise<WorkloadInfo[]> {
  const out: WorkloadInfo[] = [];
  for (const kind of kinds) {
    const raw = await (kind === 'Rollout'
      ? cluster.listIfReadable<Raw>(KINDS[kind].resource, namespace)
      : cluster.list<Raw>(KINDS[kind].resource, namespace));
    for (const r of raw ?? []) out.push(projectWorkload(kind, r));
  }
  return out;
}

/** What decides the mappings' targets in `namespace`: workloads, consumers' carriers, labels. */
async function namespaced(
  cluster: Cluster,
  namespace: string,
  mappings: Mapping[],
  labels: Record<string, string> | undefined,
): Promise<Namespaced> {
  const kinds = [...new Set(mappings.flatMap((m) => kindsOf(m.spec)))];
  const spc = await cluster.listIfReadable<Parameters<typeof projectProviderClass>[0]>(
    OPTIONAL_APIS.providerClasses,
    namespace,
  );
  const es = await cluster.listIfReadable<Parameters<typeof projectExternalSecret>[0]>(
    OPTIONAL_APIS.externalSecrets,
    namespace,
  );
  return {
    workloads: await workloads(cluster, namespace, kinds),
    providerClasses: spc?.map((raw) => projectProviderClass(raw)),
    externalSecrets: es?.map((raw) => projectExternalSecret(raw)),
    labels,
  };
}

/** `impact SECRET`: what a rotation of SECRET now would restart, per mapping watching it. Always 0. */
export async function runImpact(args: Args, cluster: Cluster, now: number, io: Io): Promise<number> {
  const secret = args.operands[0];
  const { mappings, refused } = await readableMappings(cluster, {
    namespace: args.namespace,
    fallback: contextNamespace(cluster.kc),
  });
  const watchers = watchersOf(secret, mappings).sort((a, b) => byKey(a.mapping, b.mapping));
  const policies = watchers.length ? await cluster.policies() : undefined;
  const nsList = watchers.length ? await cluster.namespaces() : undefined;
  const labelsOf = (ns: string): Record<string, string> | undefined =>
    nsList && (nsList.find((n) => n.metadata?.name === ns)?.metadata?.labels ?? {});
  const byNamespace = new Map<string, Namespaced>();
  for (const ns of new Set(watchers.map((w) => w.mapping.metadata.namespace))) {
    const here = watchers.filter((w) => w.mapping.metadata.namespace === ns).map((w) => w.mapping);
    byNamespace.set(ns, await namespaced(cluster, ns, here, labelsOf(ns)));
  }
  const impacts = watchers.map((w) => {
    const ns = byNamespace.get(w.mapping.metadata.namespace) as Namespaced;
    return impactOf(w, ns, policyVerdict(w.mapping, ns.labels, policies, args.defaultPolicy), now);
  });
  const data = { apiVersion: 'v1', kind: 'List', secret, items: impacts, refusedNamespaces: refused };
  io.out(render(args.output, data, () => impactText(secret, impacts)));
  if (refused.length) io.err(`not allowed to list mappings in namespace(s) ${refused.join(', ')}\n`);
  return 0;
}
