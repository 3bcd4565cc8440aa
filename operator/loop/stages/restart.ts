import type { WorkloadStatus } from '../../../resources/types.js';
import type { SecretVersion } from '../../aws/secret-versions.js';
import { describe, isConflict, isNotFound, isTestFailed } from '../../runtime/errors.js';
import { outcomeUnknown } from '../unanswered-restarts.js';
import type { ExternalSecretSync } from '../external-secret-sync.js';
import { EventReason, type PassContext } from '../pass.js';
import { entryFor, keptEntry, versionStamp, type Planned } from '../restart-plan.js';
import { detectedOnce, restartedOnce } from '../event-once.js';
import { throughValves } from './valves.js';

/**
 * Entry states of a restart whose RotationDetected Event was sent already: waiting for an
 * ExternalSecret, or held by a staged rotation (its next stage is the same rotation).
 */
const ANNOUNCED: WorkloadStatus['state'][] = ['WaitingForSync', 'SyncTimedOut', 'Held'];

/** A restart whose rotation was announced already: waiting as above, or Pending for this same version. */
const announced = (p: Planned, version: string): boolean =>
  ANNOUNCED.includes(p.previous?.state) ||
  (p.previous?.state === 'Pending' && (p.previous.message ?? '').includes(`version ${version} `));

/** How soon a pass whose patch lost its compare-and-swap looks again, if no watch event woke it first. */
const CONFLICT_RETRY_MS = 1000;

/**
 * Stage: restarts, one workload at a time, in plan order; each goes through the gate (ESO sync) and
 * the valves (slots, rate limit) first. Returns every target's status entry.
 */
export async function restartPlanned(
  ctx: PassContext,
  plan: Planned[],
  secret: SecretVersion,
  sync: ExternalSecretSync,
): Promise<WorkloadStatus[]> {
  await announceRotation(ctx, plan, secret);
  const stamp = versionStamp(secret.name, secret.currentVersionId);
  const entries: WorkloadStatus[] = [];
  for (const p of plan) {
    await announce(ctx, p);
    await settleUnanswered(ctx, p);
    if (p.action !== 'restart') entries.push(entryFor(p, secret.currentVersionId, ctx.nowIso));
    else if (ctx.deps.dryRun) entries.push(await wouldRestart(ctx, p, secret));
    else {
      ctx.checkTerm();
      entries.push(
        (await sync.beforeRestart(p, secret)) ??
          throughValves(ctx, p, secret) ??
          (await restartOne(ctx, p, secret, stamp)),
      );
    }
  }
  return entries;
}

/** One RotationDetected Event when the plan newly restarts, defers or suspends something. */
async function announceRotation(ctx: PassContext, plan: Planned[], secret: SecretVersion): Promise<void> {
  const detected = plan.some(
    (p) =>
      (p.action === 'restart' && !announced(p, secret.currentVersionId)) ||
      ((p.action === 'pending' || p.action === 'suspended') &&
        !ANNOUNCED.includes(p.previous?.state) &&
        p.previous?.state !== (p.action === 'pending' ? 'Pending' : 'Suspended')),
  );
  if (!detected) return;
  const was = versionBefore(ctx.prev.currentVersionId, plan, secret.currentVersionId);
  ctx.log.info('rotation detected', { version: secret.currentVersionId, previous: was });
  await ctx.event(
    'Normal',
    EventReason.RotationDetected,
    `secret ${secret.name}: AWSCURRENT is now ${secret.currentVersionId} (was ${was})`,
    {
      version: secret.currentVersionId,
      once: detectedOnce(was, secret.currentVersionId, ctx.m.metadata.resourceVersion),
    },
  );
}

/**
 * The version AWSCURRENT moved from, as the workloads knew it: the mapping's baseline, or — when that
 * is the current version already (AWSCURRENT moved back by a revert while a staged rotation had not
 * moved the baseline on) — the versions the workloads restarted now ran. Pure.
 */
export function versionBefore(baseline: string | undefined, plan: Planned[], current: string): string {
  if (baseline !== undefined && baseline !== current) return baseline;
  const ran = new Set<string>();
  for (const p of plan) {
    const v = p.previous?.versionId;
    if (p.action === 'restart' && v !== undefined && v !== current) ran.add(v);
  }
  return ran.size ? [...ran].join(', ') : (baseline ?? 'unknown');
}

/** Events for targets that newly went missing or newly wait for minRestartInterval. */
async function announce(ctx: PassContext, p: Planned): Promise<void> {
  const workload = `${p.target.kind}/${p.target.name}`;
  if (p.action === 'missing' && p.previous?.state !== 'Missing') {
    await ctx.event(
      'Warning',
      EventReason.WorkloadMissing,
      `${workload} not found in namespace ${ctx.namespace}`,
      { workload },
    );
  }
  if (p.action === 'pending' && p.previous?.state !== 'Pending') {
    ctx.log.info('restart deferred', { workload, waitMs: p.waitMs });
    const seconds = Math.ceil((p.waitMs ?? 0) / 1000);
    await ctx.event(
      'Normal',
      EventReason.RestartDeferred,
      `${workload}: restart ${p.why ?? `waits ${seconds}s for minRestartInterval`}`,
      { workload },
    );
  }
}

async function restartOne(
  ctx: PassContext,
  p: Planned,
  secret: SecretVersion,
  stamp: string,
): Promise<WorkloadStatus> {
  const { kind, name } = p.target;
  // restartedAt is the time of the patch itself, not of the pass (a pass may wait on the rate limit).
  const at = new Date().toISOString();
  try {
    const written = await ctx.deps.workloads.restart(ctx.namespace, p.target, at, stamp);
    ctx.deps.workloadCache.observe(kind, written);
  } catch (err) {
    return notRestarted(ctx, p, secret, { stamp, at, err });
  }
  ctx.deps.unansweredRestarts?.forget(attemptKey(ctx, p));
  await restarted(ctx, p, { stamp, at }, '');
  const entry = entryFor(p, secret.currentVersionId, at);
  if (p.target.blocked)
    await ctx.event('Warning', EventReason.WorkloadBlocked, `${kind}/${name}: ${entry.message ?? ''}`, {
      workload: `${kind}/${name}`,
    });
  return entry;
}

/** The entry of a restart whose PATCH failed, and its record. */
async function notRestarted(
  ctx: PassContext,
  p: Planned,
  secret: SecretVersion,
  attempt: { stamp: string; at: string; err: unknown },
): Promise<WorkloadStatus> {
  const { err } = attempt;
  if (isNotFound(err)) return entryFor({ ...p, action: 'missing' }, secret.currentVersionId, ctx.nowIso);
  if (isConflict(err) || isTestFailed(err)) return changedMeanwhile(ctx, p, secret);
  // Refused (403/422 from admission or RBAC, with the server's message) or failed otherwise: the
  // slot it took is freed, the entry says why, the queue retries the mapping with backoff. With no
  // answer, the patch may have landed: the next pass tells from the template (settleUnanswered).
  const workload = `${p.target.kind}/${p.target.name}`;
  const unknown = outcomeUnknown(err);
  // An unanswered patch counts as a success or a failure once the next look settles it.
  if (unknown) ctx.deps.unansweredRestarts?.record(attemptKey(ctx, p), attempt.stamp, attempt.at);
  else ctx.deps.onRestart?.(p.target.kind, 'failure');
  ctx.deps.rolloutSlots?.release(ctx.workloadKey(p.target));
  const why = unknown ? `no answer, the patch may have been applied: ${describe(err)}` : describe(err);
  ctx.log.error('restart failed', { workload, version: secret.currentVersionId, error: why });
  await ctx.event('Warning', EventReason.RestartFailed, `${workload}: ${why}`, { workload });
  return { ...keptEntry(p), state: 'Failed', message: why };
}

/** A restart's record (`stamp` is secret@version): the success metric, the log line, WorkloadRestarted. */
async function restarted(
  ctx: PassContext,
  p: Planned,
  { stamp, at }: { stamp: string; at: string | undefined },
  note: string,
): Promise<void> {
  const workload = `${p.target.kind}/${p.target.name}`;
  const version = stamp.slice(stamp.lastIndexOf('@') + 1);
  ctx.deps.onRestart?.(p.target.kind, 'success');
  ctx.log.info('workload restarted', { workload, version });
  await ctx.event('Normal', EventReason.WorkloadRestarted, `${workload} restarted for ${stamp}${note}`, {
    version,
    workload,
    once: restartedOnce(workload, stamp, at),
  });
}

/** This mapping's restart of this workload (another mapping's pass never settles it). */
const attemptKey = (ctx: PassContext, p: Planned): string => `${ctx.key}|${ctx.workloadKey(p.target)}`;

/**
 * Settles this term's unanswered patch of a workload from its template now: stamped with exactly what
 * that patch wrote (its version and restartedAt), it landed — its answer was lost — and is recorded
 * now, as it would have been had the answer come (for the version it wrote, even if a newer one is
 * current by now); otherwise it never applied, a failure.
 */
async function settleUnanswered(ctx: PassContext, p: Planned): Promise<void> {
  const { templateVersion, stampedAt } = p.target;
  const outcome = ctx.deps.unansweredRestarts?.settle(attemptKey(ctx, p), templateVersion, stampedAt);
  if (outcome === 'landed' && templateVersion)
    await restarted(ctx, p, { stamp: templateVersion, at: stampedAt }, ' (its answer had been lost)');
  if (outcome === 'lost') ctx.deps.onRestart?.(p.target.kind, 'failure');
}

/**
 * The workload changed between the cache read and the patch (409, or a failed JSON-patch `test`):
 * another mapping may have stamped it for this very version. Look again once the watch delivered
 * the change — no GET; the workload's watch event enqueues this mapping, the requeue is the fallback.
 */
function changedMeanwhile(ctx: PassContext, p: Planned, secret: SecretVersion): WorkloadStatus {
  ctx.wakeIn(CONFLICT_RETRY_MS);
  ctx.deps.rolloutSlots?.release(ctx.workloadKey(p.target));
  return {
    ...entryFor({ ...p, action: 'pending' }, secret.currentVersionId, ctx.nowIso),
    message: `restart for version ${secret.currentVersionId}: the workload changed meanwhile; looking again`,
  };
}

async function wouldRestart(ctx: PassContext, p: Planned, secret: SecretVersion): Promise<WorkloadStatus> {
  const workload = `${p.target.kind}/${p.target.name}`;
  if (p.previous?.state !== 'DryRun') {
    ctx.log.info('dry run: would restart workload', { workload, version: secret.currentVersionId });
    await ctx.event(
      'Normal',
      EventReason.WouldRestart,
      `dry run: ${workload} would restart for version ${secret.currentVersionId}`,
      { workload },
    );
  }
  return {
    ...keptEntry(p),
    state: 'DryRun',
    message: `dry run: would restart for version ${secret.currentVersionId}`,
  };
}
