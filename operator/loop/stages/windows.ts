import { MAX_TIMER_MS } from '../../runtime/duration.js';
import type { PassContext } from '../pass.js';
import type { Planned } from '../restart-plan.js';
import { windowVerdict } from '../windows.js';

/**
 * Stage: restart windows. Outside every window of spec.restartWindows, a restart due now waits
 * (Pending, naming when the next window opens) and the mapping wakes when it opens (a timer, not
 * polling; a window weeks away is looked at again within the longest timer). Windows are read only
 * when the plan has a restart to defer.
 */
export function withinWindows(ctx: PassContext, plan: Planned[]): Planned[] {
  // Most passes (a workload's status changed, a resync) have no restart to defer: no window is read.
  if (!plan.some((p) => p.action === 'restart')) return plan;
  const now = ctx.now.getTime();
  const verdict = windowVerdict(ctx.m.spec.restartWindows, now);
  if (verdict.open) return plan;
  const opensAt = verdict.opensAt;
  const why = opensAt
    ? `waits for the next restart window, opening at ${new Date(opensAt).toISOString()}`
    : 'waits for a restart window (none opens within four years)';
  const waitMs = opensAt ? Math.min(opensAt - now, MAX_TIMER_MS) : MAX_TIMER_MS;
  return plan.map((p) => (p.action === 'restart' ? { ...p, action: 'pending' as const, waitMs, why } : p));
}
