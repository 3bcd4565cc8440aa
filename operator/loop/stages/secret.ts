import type { Mapping, MappingStatus } from '../../../resources/types.js';
import type { SecretVersion } from '../../aws/secret-versions.js';
import { AccessDeniedError, SecretNotFoundError, describe, isThrottled } from '../../runtime/errors.js';
import { EventReason, Reason, type PassContext, type ReconcileResult } from '../pass.js';

/**
 * For a mapping without a baseline yet: secret answers must be newer than the mapping itself (its
 * creation second, ended), or a recreated mapping would adopt what a cache knew before it existed.
 * Undefined once the mapping has a baseline (any answer within the TTL will do).
 */
export function baselineFloor(m: Mapping): number | undefined {
  if (m.status?.currentVersionId !== undefined || !m.metadata.creationTimestamp) return undefined;
  return new Date(m.metadata.creationTimestamp).getTime() + 1000;
}

/**
 * Stage 3, the secret: its ARN and AWSCURRENT version (DescribeSecret, through the shared cache). A
 * secret that is missing or denied stops the pass with a precise reason (looked at again later); a
 * transient failure is reported and thrown, for the queue's backoff.
 */
export async function resolveSecret(ctx: PassContext): Promise<SecretVersion | ReconcileResult> {
  try {
    const v = await ctx.deps.versions.resolve(ctx.m.spec.secretId, { notBefore: baselineFloor(ctx.m) });
    return await notBehindStatus(ctx, v);
  } catch (err) {
    return unavailable(ctx, err);
  }
}

/**
 * Since when an answer may contradict the status: the last restart it records (each made after the
 * answer it acted on) and the start of this leadership term. Undefined when neither is known. Pure.
 */
export function statusFloor(status: MappingStatus, termStartedAt?: number): number | undefined {
  const times = [status.lastRotationTime, ...(status.workloads ?? []).map((w) => w.restartedAt)]
    .map((t) => Date.parse(t ?? ''))
    .filter((t) => !Number.isNaN(t));
  if (termStartedAt !== undefined) times.push(termStartedAt);
  return times.length ? Math.max(...times) : undefined;
}

/**
 * An answer that names another version than the status, fetched before the status's last restart
 * or before this term, may be older than what the status records: a replica that described the
 * secret as a follower leads, within the cache's TTL, after its predecessor applied a rotation that
 * answer predates. Acting on it restarts every workload back to the previous version, and forward
 * again once the cache expires (issue 29: two extra restarts per workload). Such an answer is asked
 * of AWS again, once (a floor in the future — another replica's clock — is taken as now). An answer
 * that agrees with the status, or is newer than what it records, is used as it is: no extra call.
 */
async function notBehindStatus(ctx: PassContext, v: SecretVersion): Promise<SecretVersion> {
  const recorded = ctx.prev.currentVersionId;
  if (recorded === undefined || v.currentVersionId === recorded) return v;
  const floor = statusFloor(ctx.prev, ctx.deps.termStartedAt);
  if (floor === undefined || v.fetchedAt >= floor) return v;
  ctx.log.debug('secret answer older than the status; asking AWS again', {
    answer: v.currentVersionId,
    recorded,
  });
  return ctx.deps.versions.resolve(ctx.m.spec.secretId, { notBefore: Math.min(floor, Date.now()) });
}

async function unavailable(ctx: PassContext, err: unknown): Promise<ReconcileResult> {
  const observedAt = Date.now();
  const unrouted = { secretId: ctx.m.spec.secretId, arn: null };
  if (err instanceof SecretNotFoundError) {
    ctx.releaseSlots();
    await ctx.fail(Reason.SecretNotFound, err.message, EventReason.SecretNotFound);
    return { requeueAfterMs: ctx.deps.secretRetryMs, observedAt, route: unrouted };
  }
  if (err instanceof AccessDeniedError) {
    ctx.releaseSlots();
    await ctx.fail(
      Reason.AccessDenied,
      `${err.message}: grant secretsmanager:DescribeSecret`,
      EventReason.AccessDenied,
    );
    return { requeueAfterMs: ctx.deps.secretRetryMs, observedAt, route: unrouted };
  }
  // Throttled: AWS asks us to slow down, nothing is wrong with the mapping — Ready stays as it was
  // (flipping every mapping to False and back would only add status writes and Events).
  if (!isThrottled(err)) await ctx.fail(Reason.AwsError, describe(err));
  // Transient (throttling, network, endpoint down): the queue backs off and retries.
  throw err;
}

export const isSecret = (v: SecretVersion | ReconcileResult): v is SecretVersion =>
  (v as SecretVersion).arn !== undefined && (v as SecretVersion).currentVersionId !== undefined;
