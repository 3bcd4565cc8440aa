import { describe } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import type { SecretRouter } from './secret-router.js';
import type { SecretVersions } from './secret-versions.js';

export interface ResyncDeps {
  intervalMs: number;
  versions: SecretVersions;
  router: Pick<SecretRouter, 'watched'>;
  /** Every mapping key the watch knows. */
  keys: () => string[];
  enqueue: (key: string) => void;
  logger: Logger;
}

/**
 * The safety net: every interval, asks DescribeSecret once per mapped secret (fresh, not cached) and
 * enqueues every mapping, so a change whose event was lost (operator down past the queue's retention,
 * rule misconfigured, message purged) is still applied. Costs one DescribeSecret per secret per
 * interval: it asks by the id the mappings use and enqueues them as soon as their secret is fresh,
 * so their passes find the answer in the cache (answers expire long before the next resync).
 */
export class Resync {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly deps: ResyncDeps) {}

  start(): void {
    if (this.deps.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      this.running ??= this.run().finally(() => (this.running = undefined));
    }, this.deps.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async run(): Promise<void> {
    const started = Date.now();
    const watched = this.deps.router.watched();
    for (const [arn, { keys, secretIds }] of watched) {
      try {
        for (const id of secretIds) await this.deps.versions.resolve(id, { notBefore: started });
      } catch (err) {
        this.deps.logger.warn('resync could not describe secret; its mappings will report why', {
          secret: arn,
          error: describe(err),
        });
      }
      for (const key of keys) this.deps.enqueue(key);
    }
    // Mappings that route nothing (secret missing, denied, spec invalid) are looked at too.
    const keys = this.deps.keys();
    for (const key of keys) this.deps.enqueue(key);
    this.deps.logger.debug('resync enqueued mappings', {
      mappings: keys.length,
      secrets: watched.size,
      ms: Date.now() - started,
    });
  }
}
