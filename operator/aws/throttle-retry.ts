import { isThrottled } from '../runtime/errors.js';

export interface ThrottleRetry {
  /** Attempts after the first (the SDK's own retries come on top of each). */
  retries: number;
  baseMs: number;
  /** Stop retrying when this says so (the poller stopped). */
  keepGoing(): boolean;
}

export const DEFAULT_THROTTLE_RETRY = { retries: 5, baseMs: 250 };

/**
 * Runs `call`, retrying while AWS answers that we call too often: after baseMs, 2·baseMs, … A
 * throttled call is not a failure of the message, and leaving it to SQS's redelivery would only spend
 * its receive count toward the dead-letter queue. Any other error, or throttling past the retries, is
 * the caller's.
 */
export async function retryThrottled<T>(call: () => Promise<T>, opts: ThrottleRetry): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!isThrottled(err) || attempt >= opts.retries || !opts.keepGoing()) throw err;
      await new Promise((r) => setTimeout(r, opts.baseMs * 2 ** attempt));
    }
  }
}
