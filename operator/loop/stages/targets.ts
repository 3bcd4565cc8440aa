import type { WorkloadStatus } from '../../../resources/types.js';
import type { SecretVersion } from '../../aws/secret-versions.js';
import { carriedNames, carriersOf, consumersOf } from '../../kube/consumption.js';
import { kindsOf, selectTargets } from '../../kube/target-selection.js';
import type { Target } from '../../kube/target.js';
import type { Planned } from '../restart-plan.js';
import { EventReason, Reason, type PassContext, type ReconcileResult } from '../pass.js';
import type { ExternalSecretSync } from '../external-secret-sync.js';

/** How soon a pass ended by a cache not listed yet looks again, when nothing told it the cache listed. */
export const CACHE_RECHECK_MS = 30_000;

/** A cache of the mapping's namespace that has not listed: what it lacks, and why when its LIST failed. */
interface Unlisted {
  /**
   * Resolves once it has listed — or, while no LIST failed, once its first LIST answered either way
   * (a failure is then said at once); undefined when it is not started (the operator starts it).
   */
  ready: Promise<unknown> | undefined;
  failure?: { reason: Reason; what: string; error: string };
}

/**
 * The caches a pass reads have not listed: the pass ends here, and the mapping is visited again once
 * they have (or after CACHE_RECHECK_MS). Waiting in the worker would let a cache that never lists
 * (its LIST refused by RBAC, answered 500) hold a worker per mapping, and four such mappings the whole
 * queue. A LIST that failed is said on the mapping (Ready=False, with the server's answer) while the
 * informer retries it with backoff; the other mappings go on. The pass never starts a cache: the
 * operator does, for the mappings their policies allow, so a pass still running after its mapping
 * went cannot start its namespace's informers again.
 */
async function notListed(ctx: PassContext, u: Unlisted): Promise<undefined> {
  const ready = u.ready;
  if (ready) ctx.deps.lookAgainWhen?.(ctx.key, () => ready);
  // Not started: the operator did not claim this mapping's kinds (it starts them for the mappings
  // the policies allow), so nothing will wake it but the recheck — a claim that was missed.
  else
    ctx.log.warn('a cache this pass needs is not started; looking again later', {
      recheckMs: CACHE_RECHECK_MS,
    });
  ctx.wakeIn(CACHE_RECHECK_MS);
  if (!u.failure) {
    ctx.log.debug('waiting for a workload or consumer cache to list');
    return undefined;
  }
  const { reason, what, error } = u.failure;
  const message = `the operator cannot list ${what} in namespace ${ctx.namespace} (${error}); retrying with backoff`;
  const eventReason =
    reason === Reason.WorkloadsNotListed ? EventReason.WorkloadsNotListed : EventReason.ConsumersNotListed;
  await ctx.fail(reason, message, eventReason);
  return undefined;
}

/**
 * Stage 4, targets: what the selector and list name and, with discover, the workloads using the
 * SecretProviderClasses and ExternalSecrets that carry the secret (found through the cache's index,
 * not by scanning the namespace); every target says how it consumes the secret. Undefined while a
 * cache it needs has not listed (see notListed).
 */
export async function findTargets(ctx: PassContext, secret: SecretVersion): Promise<Target[] | undefined> {
  const { deps, m } = ctx;
  const kinds = kindsOf(m.spec);
  const ns = ctx.namespace;
  const cache = deps.consumers;
  const workloads = deps.workloadCache;
  if (!workloads.listed(ns, kinds)) {
    const f = workloads.listFailure(ns, kinds);
    const failure = f && { reason: Reason.WorkloadsNotListed, what: `${f.kind}s`, error: f.error };
    return notListed(ctx, { ready: workloads.whenListed(ns, kinds, !failure), failure });
  }
  const candidates = [...workloads.candidates(ns, m.spec)];
  if (!cache) return selectTargets(m.spec, candidates);
  if (!cache.listed(ns)) {
    const f = cache.listFailure(ns);
    const failure = f && { reason: Reason.ConsumersNotListed, what: f.kind, error: f.error };
    return notListed(ctx, { ready: cache.whenListed(ns, !failure), failure });
  }
  const carriers = carriersOf(
    secret,
    cache.providerClassesIn(ctx.namespace),
    cache.externalSecretsIn(ctx.namespace),
  );
  const names = carriedNames(carriers);
  deps.onCarriedNames?.(ctx.key, names);
  const users = workloads.using(ctx.namespace, names);
  const pool = m.spec.discover ? [...candidates, ...users] : candidates;
  return selectTargets(m.spec, pool, consumersOf(carriers, users));
}

/**
 * The entry with how the workload consumes the secret, and the force-sync its restart went by (kept
 * from the previous status while it still reads an ExternalSecret); a Rollout target in a cluster
 * without Argo Rollouts says so.
 */
export function withConsumption(
  ctx: PassContext,
  sync: ExternalSecretSync,
  e: WorkloadStatus,
  p: Planned,
): WorkloadStatus {
  const id = `${p.target.kind}/${p.target.name}`;
  const request = sync.requests.get(id) ?? (p.target.externalSecrets?.length ? p.previous?.sync : undefined);
  const out = { ...e, ...(p.target.via ? { via: p.target.via } : {}), ...(request ? { sync: request } : {}) };
  if (e.state === 'Missing' && !ctx.deps.workloadCache.serves(p.target.kind))
    out.message = `${id}: the ${p.target.kind} API (Argo Rollouts) is not served in this cluster`;
  return out;
}

/** The most workloads one mapping may target: the CRD's bound on status.workloads. */
export const MAX_TARGETS = 1000;

/**
 * A selector or discovery that reaches more workloads than a status can list stops the pass before
 * any restart (a rotation would otherwise restart workloads it could not report), with a reason
 * that says how many and how to narrow it. Looked at again when workloads change.
 */
export async function tooManyTargets(
  ctx: PassContext,
  targets: Target[],
  arn: string,
): Promise<ReconcileResult | undefined> {
  if (targets.length <= MAX_TARGETS) return undefined;
  ctx.releaseSlots();
  const message = `the mapping targets ${targets.length} workloads, more than the ${MAX_TARGETS} one mapping may: narrow spec.selector or split the mapping`;
  await ctx.fail(Reason.TooManyWorkloads, message, EventReason.TooManyWorkloads);
  return { observedAt: Date.now(), route: { secretId: ctx.m.spec.secretId, arn } };
}
