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
  const unrouted = { secretId: ctx.m.spec.secretId, arn: null };
  const verdict = tenancy.decide(ctx.namespace, ctx.m.spec.secretId);
  if (!verdict) return { requeueAfterMs: UNDECIDED_RETRY_MS, route: unrouted };
  if (verdict.allowed) return undefined;
  ctx.releaseSlots();
  await ctx.fail(Reason.NotAllowed, verdict.message, EventReason.NotAllowed, { forgetSecret: true });
  return { observedAt: Date.now(), route: unrouted };
}
