/**
 * Which mappings watch which secret, by resolved ARN: events and mappings may name a secret by name,
 * full ARN or partial ARN, so matching is only ever done on the ARN DescribeSecret returned.
 *
 * Maintained from the mapping cache (a mapping is resolved when it enters it) and confirmed by every
 * reconcile pass. While some mapping's secret is still being resolved, a message for an unknown ARN
 * may concern it: `unresolved` tells the SQS poller to wait (or leave the message) instead of
 * acknowledging it as irrelevant.
 */
export class MappingIndex {
  private readonly arnByKey = new Map<string, string>();
  private readonly keysByArn = new Map<string, Set<string>>();
  private readonly pending = new Set<string>();
  private waiters: (() => void)[] = [];

  /** The mapping's secret is being resolved: no ARN is known for it yet. */
  resolving(key: string): void {
    this.unlink(key);
    this.pending.add(key);
  }

  set(key: string, arn: string): void {
    this.unlink(key);
    this.arnByKey.set(key, arn);
    let keys = this.keysByArn.get(arn);
    if (!keys) this.keysByArn.set(arn, (keys = new Set()));
    keys.add(key);
    this.settle(key);
  }

  /** The mapping is gone, or its secret cannot be described (missing, denied): it routes nothing. */
  delete(key: string): void {
    this.unlink(key);
    this.settle(key);
  }

  keysFor(arn: string): string[] {
    return [...(this.keysByArn.get(arn) ?? [])];
  }

  arns(): Set<string> {
    return new Set(this.keysByArn.keys());
  }

  /** How many mappings wait for their secret to be resolved. */
  get unresolved(): number {
    return this.pending.size;
  }

  /** Resolves when no mapping waits for resolution, or after `timeoutMs`; true when none waits. */
  async resolved(timeoutMs: number): Promise<boolean> {
    if (this.pending.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    let done: () => void = () => {};
    await Promise.race([
      new Promise<void>((r) => {
        done = r;
        this.waiters.push(r);
      }),
      new Promise<void>((r) => (timer = setTimeout(r, timeoutMs))),
    ]);
    clearTimeout(timer);
    this.waiters = this.waiters.filter((w) => w !== done);
    return this.pending.size === 0;
  }

  private unlink(key: string): void {
    const arn = this.arnByKey.get(key);
    if (arn === undefined) return;
    this.arnByKey.delete(key);
    const keys = this.keysByArn.get(arn);
    keys?.delete(key);
    if (keys?.size === 0) this.keysByArn.delete(arn);
  }

  private settle(key: string): void {
    if (!this.pending.delete(key) || this.pending.size > 0) return;
    for (const w of this.waiters.splice(0)) w();
  }
}
