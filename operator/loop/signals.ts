import type { RotationSignal } from '../aws/rotation-signal.js';

export type { RotationSignal };

interface Waiter {
  signal: RotationSignal;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Signals waiting for the reconcile loop to record them. A signal is settled once a reconcile pass
 * of its mapping succeeded with secret information at least as recent as the signal; only then may
 * the SQS message behind it be deleted.
 */
export class PendingSignals {
  private readonly byKey = new Map<string, Waiter[]>();

  add(key: string, signal: RotationSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.withdrawn?.aborted) return;
      const waiter = { signal, resolve, reject };
      const list = this.byKey.get(key) ?? [];
      list.push(waiter);
      this.byKey.set(key, list);
      signal.withdrawn?.addEventListener('abort', () => this.drop(key, waiter), { once: true });
    });
  }

  /** A waiter nobody awaits any more (its message was released): dropped, never settled. */
  private drop(key: string, waiter: Waiter): void {
    const keep = (this.byKey.get(key) ?? []).filter((w) => w !== waiter);
    if (keep.length) this.byKey.set(key, keep);
    else this.byKey.delete(key);
  }

  /** Settles the key's signals observed at or before `observedUpTo`. */
  settle(key: string, observedUpTo: number): number {
    const list = this.byKey.get(key);
    if (!list) return 0;
    const keep = list.filter((w) => w.signal.observedAt > observedUpTo);
    for (const w of list) if (w.signal.observedAt <= observedUpTo) w.resolve();
    if (keep.length) this.byKey.set(key, keep);
    else this.byKey.delete(key);
    return list.length - keep.length;
  }

  /** The mapping is gone: nothing is left to do for its signals. */
  forget(key: string): void {
    this.settle(key, Number.POSITIVE_INFINITY);
  }

  /** The loop ends (leadership term over): no pass will record these; their messages go back to SQS. */
  rejectAll(err: Error): void {
    for (const list of this.byKey.values()) for (const w of list) w.reject(err);
    this.byKey.clear();
  }

  get size(): number {
    let n = 0;
    for (const l of this.byKey.values()) n += l.length;
    return n;
  }
}
