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
  /**
   * mapping key | workload key → `stamp restartedAt` of its last unanswered patch. Per mapping: two
   * mappings of one workload each settle their own patch (another's pass must not take the report).
   */
  private readonly attempts = new Map<string, string>();

  record(key: string, stamp: string, restartedAt: string): void {
    this.attempts.set(key, `${stamp} ${restartedAt}`);
  }

  /**
   * Settles the unanswered patch of `key` (mapping | workload), if there is one, from the template
   * now (stamped `stamp` at `stampedAt`): 'landed' when it is what that patch wrote, 'lost' when it
   * is not (the patch never applied), undefined when nothing was unanswered. Forgets the attempt
   * either way: one look settles it.
   */
  settle(
    key: string,
    stamp: string | undefined,
    stampedAt: string | undefined,
  ): 'landed' | 'lost' | undefined {
    const attempt = this.attempts.get(key);
    if (attempt === undefined) return undefined;
    this.attempts.delete(key);
    return attempt === `${stamp} ${stampedAt}` ? 'landed' : 'lost';
  }

  /** A later patch of the workload got its answer: the earlier attempt no longer matters. */
  forget(key: string): void {
    this.attempts.delete(key);
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
