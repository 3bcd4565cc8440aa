import { statusCode } from '../runtime/errors.js';

/**
 * Restarts whose PATCH got no answer — a reset, a timeout, a 5xx — which the API server may have
 * applied all the same. Each is remembered with the exact restartedAt it wrote, so the next pass can
 * tell from the template whether it landed: a stamp carrying that restartedAt is this restart, and is
 * reported then (Event, metric) as if its answer had come; any other template means it did not land.
 * Owned by the leadership term: a new leader never saw the attempt, and takes what its predecessor
 * wrote as a template already stamped.
 */
export class UnansweredRestarts {
  /** workload key → `stamp restartedAt` of its last unanswered patch. */
  private readonly attempts = new Map<string, string>();

  record(workload: string, stamp: string, restartedAt: string): void {
    this.attempts.set(workload, `${stamp} ${restartedAt}`);
  }

  /**
   * True, once, when the template of `workload` (stamped `stamp` at `stampedAt`) is what its
   * unanswered patch wrote. Forgets the attempt either way: one look settles it.
   */
  landed(workload: string, stamp: string, stampedAt: string | undefined): boolean {
    const attempt = this.attempts.get(workload);
    if (attempt === undefined) return false;
    this.attempts.delete(workload);
    return attempt === `${stamp} ${stampedAt}`;
  }

  /** A later patch of the workload got its answer: the earlier attempt no longer matters. */
  forget(workload: string): void {
    this.attempts.delete(workload);
  }
}

/**
 * A write whose outcome the client cannot know: no HTTP answer at all (reset, timeout, abort), or a
 * 5xx, which the API server also gives when etcd committed but the answer did not come back in time.
 * A 4xx is a refusal: nothing was written.
 */
export const outcomeUnknown = (err: unknown): boolean => {
  const code = statusCode(err);
  return code === undefined || code >= 500;
};
