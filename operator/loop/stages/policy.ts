import type { SecretVersion } from '../../aws/secret-versions.js';
import type { Verdict } from '../../tenancy/policy-decision.js';
import { EventReason, Reason, type PassContext, type ReconcileResult } from '../pass.js';

/** How soon to decide again when the namespace's labels are not known yet. */
const UNDECIDED_RETRY_MS = 1000;

/**
 * Stage 2, tenancy: the SecretsRotationPolicies of the mapping's namespace must allow its secret.
 * Decided from names alone, before any AWS call, so a missing secret and an existing one get the
 * same answer. A mapping not allowed is Ready=False NotAllowed and keeps nothing of its secret in
 * status (ARN, versions, dates); it restarts nothing and routes nothing until a policy allows it.
 */
export async function checkPolicy(ctx: PassContext): Promise<ReconcileResult | undefined> {
  const tenancy = ctx.deps.tenancy;
  if (!tenancy) return undefined;
  const verdict = tenancy.decide(ctx.namespace, ctx.m.spec.secretId);
  if (!verdict)
    return { requeueAfterMs: UNDECIDED_RETRY_MS, route: { secretId: ctx.m.spec.secretId, arn: null } };
  return verdict.allowed ? undefined : refuse(ctx, verdict, null);
}

/**
 * Stage 3b, tenancy again, on the secret DescribeSecret resolved: the names checked before it are
 * all the id may stand for (a full ARN `…:secret:app-AbCdEf` may be the secret `app-AbCdEf` or the
 * secret `app`), and a policy allows a secret, not a name. Refused exactly as before any AWS call —
 * same reason, message and Event, nothing of the secret in status. Only an id shaped like a full ARN
 * can pass the first check and be refused here (any other id gets one answer from both), so telling
 * an existing secret from a missing one takes its exact full ARN, random suffix included. The route carries the ARN for the router alone, which authorises it the same way
 * and then routes nothing to this mapping (no event for that secret costs a DescribeSecret for it).
 */
export async function checkResolvedPolicy(
  ctx: PassContext,
  secret: SecretVersion,
): Promise<ReconcileResult | undefined> {
  const verdict = ctx.deps.tenancy?.decide(ctx.namespace, ctx.m.spec.secretId, secret);
  // Undefined: the caches lost the namespace since the first check; that check's answer stands.
  if (!verdict || verdict.allowed) return undefined;
  return refuse(ctx, verdict, secret.arn);
}

async function refuse(
  ctx: PassContext,
  verdict: Extract<Verdict, { allowed: false }>,
  arn: string | null,
): Promise<ReconcileResult> {
  ctx.releaseSlots();
  await ctx.fail(Reason.NotAllowed, verdict.message, EventReason.NotAllowed, { forgetSecret: true });
  return { observedAt: Date.now(), route: { secretId: ctx.m.spec.secretId, arn } };
}
