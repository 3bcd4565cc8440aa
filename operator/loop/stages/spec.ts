import type { Mapping } from '../../../resources/types.js';
import { isEmptySelector, selectorProblems } from '../../kube/label-selector.js';
import { MAX_RESTART_INTERVAL_MS, parseDuration } from '../../runtime/duration.js';
import { DEFAULT_SYNC_TIMEOUT } from '../external-secret-sync.js';
import { EventReason, Reason, type PassContext, type ReconcileResult } from '../pass.js';
import { windowProblems } from '../windows.js';

const MAX_SYNC_TIMEOUT_MS = 24 * 3_600_000;

/** Spec problems the CRD schema cannot catch; empty when the spec is usable. Pure. */
export function specProblems(m: Mapping): string[] {
  const { spec } = m;
  const problems = selectorProblems(spec.selector);
  if (spec.selector && isEmptySelector(spec.selector))
    problems.push('spec.selector is empty: it would select every workload');
  if (isEmptySelector(spec.selector) && !(spec.workloads ?? []).length && !spec.discover)
    problems.push('no target: set spec.selector, spec.workloads or spec.discover');
  problems.push(
    ...durationProblem(
      'spec.minRestartInterval',
      spec.minRestartInterval ?? '0s',
      MAX_RESTART_INTERVAL_MS,
      '168h',
    ),
    ...durationProblem(
      'spec.externalSecretSync.timeout',
      spec.externalSecretSync?.timeout ?? DEFAULT_SYNC_TIMEOUT,
      MAX_SYNC_TIMEOUT_MS,
      '24h',
    ),
  );
  problems.push(...windowProblems(spec.restartWindows));
  return problems;
}

/** A duration field that does not parse or exceeds its bound (the CRD's rule, for servers without CEL). */
function durationProblem(field: string, value: string, maxMs: number, max: string): string[] {
  try {
    return parseDuration(value) > maxMs ? [`${field} may be at most ${max}`] : [];
  } catch (err) {
    return [`${field}: ${(err as Error).message}`];
  }
}

/**
 * Stage 1, spec checks: a spec the schema let through but that cannot be acted on stops the pass
 * with InvalidSpec. Nothing more will happen until the spec changes, so signals waiting for this
 * mapping are settled, and the mapping routes nothing and follows no rollout.
 */
export async function checkSpec(ctx: PassContext): Promise<ReconcileResult | undefined> {
  const problems = specProblems(ctx.m);
  if (!problems.length) return undefined;
  ctx.releaseSlots();
  await ctx.fail(Reason.InvalidSpec, problems.join('; '), EventReason.InvalidSpec);
  return { observedAt: Date.now(), route: { secretId: ctx.m.spec.secretId, arn: null } };
}
