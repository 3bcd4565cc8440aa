import type { Mapping } from '../../../resources/types.js';
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
    return await ctx.deps.versions.resolve(ctx.m.spec.secretId, { notBefore: baselineFloor(ctx.m) });
  } catch (err) {
    return unavailable(ctx, err);
  }
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
