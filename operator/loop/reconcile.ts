import type { Mapping, WorkloadStatus } from '../../resources/types.js';
import type { SecretVersion } from '../aws/secret-versions.js';
import type { Target } from '../kube/target.js';
import { FINALIZER } from '../kube/mappings.js';
import { parseDuration } from '../runtime/duration.js';
import { ExternalSecretSync } from './external-secret-sync.js';
import { PassContext, type PassDeps, type ReconcileResult } from './pass.js';
import { planRestarts, type Planned } from './restart-plan.js';
import { checkPolicy, checkResolvedPolicy } from './stages/policy.js';
import { checkSpec } from './stages/spec.js';
import { isSecret, resolveSecret } from './stages/secret.js';
import { findTargets, tooManyTargets, withConsumption } from './stages/targets.js';
import { restartPlanned } from './stages/restart.js';
import { announceHalt, stagePlan } from './stages/staging.js';
import { moveCurrentBack, withRevert } from './stages/revert.js';
import { withinWindows } from './stages/windows.js';
import { rolloutWaits, trackRollouts } from './stages/rollouts.js';
import { desiredStatus } from './status.js';

export type { ReconcileDeps, ReconcileResult, MappingReader, PassDeps } from './pass.js';

/**
 * Converges one mapping (level-based: it re-reads the mapping, the secret's AWSCURRENT version and the
 * workloads, and never trusts the event that woke it). A replay of the same state restarts nothing.
 */
export async function reconcile(key: string, deps: PassDeps): Promise<ReconcileResult> {
  const cached = deps.mappings.get(key);
  if (!cached || cached.metadata.deletionTimestamp) return forget(key, cached, deps);
  const mapping = await withFinalizer(cached, deps, true);
  const ctx = new PassContext(
    mapping,
    deps,
    deps.logger.child({ mapping: key, secret: mapping.spec.secretId }),
  );
  try {
    return await runStages(ctx);
  } finally {
    await ctx.flushEvents();
  }
}

/**
 * The pipeline, in order: spec checks → tenancy policy → secret → policy on the resolved secret →
 * targets → plan (pure) → staging → revert decision → restart windows → gates and valves → restart →
 * the restarts' Events → rollout tracking → status (after its Events) → the revert's AWS call (after
 * the status that records it). A stage that ends the pass returns its result; a new feature is a new stage
 * here, not a branch inside another.
 */
async function runStages(ctx: PassContext): Promise<ReconcileResult> {
  const invalid = await checkSpec(ctx);
  if (invalid) return invalid;
  const notAllowed = await checkPolicy(ctx);
  if (notAllowed) return notAllowed;
  const secret = await resolveSecret(ctx);
  if (!isSecret(secret)) return secret;
  const refused = await checkResolvedPolicy(ctx, secret);
  if (refused) return refused;
  const route = { secretId: ctx.m.spec.secretId, arn: secret.arn };
  const targets = await findTargets(ctx, secret);
  // Nothing observed yet: the signals stay pending, the mapping is visited again once the cache lists.
  if (!targets) return { route, requeueAfterMs: ctx.wakeInMs };
  const tooMany = await tooManyTargets(ctx, targets, secret.arn);
  if (tooMany) return tooMany;
  const planned = stagePlan(ctx, planFor(ctx, secret, targets), secret);
  const staged = await announceHalt(ctx, await withRevert(ctx, planned, secret), secret);
  const plan = withinWindows(ctx, staged.plan);
  const sync = new ExternalSecretSync({
    mapping: ctx.m,
    deps: ctx.deps,
    log: ctx.log,
    event: (type, reason, message, details) => ctx.event(type, reason, message, details),
    wakeIn: (ms) => ctx.wakeIn(ms),
  });
  const restarted = await restartPlanned(ctx, plan, secret, sync);
  // The Events of the restarts go first (never delaying a patch), and their rollouts are followed
  // from the cache as it is after them: one that ended meanwhile costs no second status write.
  if (plan.some((p, i) => p.action === 'restart' && restarted[i].state === 'Restarted'))
    await ctx.flushEvents();
  const entries = (await trackRollouts(ctx, plan, restarted, secret.name)).map((e, i) =>
    withConsumption(ctx, sync, e, plan[i]),
  );
  const status = desiredStatus({
    mapping: ctx.m,
    secretArn: secret.arn,
    currentVersionId: secret.currentVersionId,
    restarted: plan.map((p) => p.action === 'restart'),
    entries,
    rollout: staged.status,
    now: ctx.nowIso,
  });
  await ctx.write(status);
  return (
    (await moveCurrentBack(ctx, status, secret)) ?? {
      observedAt: secret.fetchedAt,
      route,
      failed: failures(entries),
      requeueAfterMs: nextLook(ctx, plan, entries),
    }
  );
}

/** The pure plan: what each target needs for the secret's current version. */
function planFor(ctx: PassContext, secret: SecretVersion, targets: Target[]): Planned[] {
  return planRestarts({
    secretName: secret.name,
    currentVersionId: secret.currentVersionId,
    baselineVersionId: ctx.prev.currentVersionId,
    previous: ctx.prev.workloads ?? [],
    targets,
    now: ctx.now.getTime(),
    minRestartIntervalMs: parseDuration(ctx.m.spec.minRestartInterval ?? '0s'),
    suspend: ctx.m.spec.suspend ?? false,
  });
}

/** The failed restarts, for the controller's backoff; undefined when none failed. */
function failures(entries: WorkloadStatus[]): string | undefined {
  const failed = entries.filter((e) => e.state === 'Failed');
  if (!failed.length) return undefined;
  return `restart failed for ${failed.map((e) => `${e.kind}/${e.name}: ${e.message}`).join('; ')}`;
}

/** The earliest moment something waits for: a deferred restart, a valve, a sync, a rollout. */
function nextLook(ctx: PassContext, plan: Planned[], entries: WorkloadStatus[]): number | undefined {
  const waits = plan.flatMap((p) => (p.action === 'pending' && p.waitMs ? [p.waitMs] : []));
  if (ctx.wakeInMs !== undefined) waits.push(ctx.wakeInMs);
  waits.push(...rolloutWaits(ctx, entries));
  return waits.length ? Math.min(...waits) : undefined;
}

/** A mapping gone or being deleted: forget it, never touch its workloads (that would roll them again). */
async function forget(key: string, mapping: Mapping | undefined, deps: PassDeps): Promise<ReconcileResult> {
  deps.rolloutSlots?.releaseMapping(key);
  if (mapping) await withFinalizer(mapping, deps, false);
  return { gone: true };
}

/** Adds or removes our finalizer if needed; returns the mapping as it now is (the cache sees it too). */
async function withFinalizer(mapping: Mapping, deps: PassDeps, present: boolean): Promise<Mapping> {
  if ((mapping.metadata.finalizers ?? []).includes(FINALIZER) === present) return mapping;
  deps.aborted?.throwIfAborted();
  const written = await deps.mappingWriter.setFinalizer(mapping, present);
  if (!written) return mapping;
  deps.mappings.observe(written);
  return written;
}
