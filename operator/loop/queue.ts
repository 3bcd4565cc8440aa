import { MAX_TIMER_MS } from '../runtime/duration.js';

/** Per-key exponential backoff: base · 2^failures, capped. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 1000, maxMs: 300_000 };

/**
 * A work queue of keys with client-go workqueue semantics:
 * - a key already waiting is not added twice (a burst collapses into one pass);
 * - a key added while it is being processed is re-queued after done(), never handed out twice at once;
 * - addRateLimited() re-adds with per-key exponential backoff, forget() resets it;
 * - delayed adds of one key keep the earliest time.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  /** Keys re-added with addFirst() while processing: they go first after done(). */
  private readonly urgent = new Set<string>();
  private readonly waiting = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private readonly getters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;

  constructor(private readonly backoff: Backoff = DEFAULT_BACKOFF) {}

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (!this.processing.has(key)) this.hand(key);
  }

  /**
   * Adds the key ahead of every waiting key, or moves it there if it already waits: a rotation signal
   * must not wait behind thousands of keys a new leader or a resync queued.
   */
  addFirst(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) this.urgent.add(key);
    if (!this.dirty.has(key)) {
      this.dirty.add(key);
      if (!this.processing.has(key)) this.hand(key, true);
      return;
    }
    const at = this.queue.indexOf(key);
    if (at > 0) {
      this.queue.splice(at, 1);
      this.queue.unshift(key);
    }
  }

  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    // Longer than a timer can wait would fire after 1 ms (a busy loop): wait the longest it can.
    delayMs = Math.min(delayMs, MAX_TIMER_MS);
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const existing = this.waiting.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.waiting.set(key, { at, timer });
  }

  /** Re-adds after the key's backoff and counts a failure. Returns the delay used. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.min(this.backoff.baseMs * 2 ** n, this.backoff.maxMs);
    this.addAfter(key, delay);
    return delay;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Drops every trace of a key that no longer exists (backoff, delayed add). */
  remove(key: string): void {
    this.forget(key);
    const w = this.waiting.get(key);
    if (w) clearTimeout(w.timer);
    this.waiting.delete(key);
  }

  /**
   * The next key to process, or undefined once shut down — keys still queued then are discarded: a
   * term that ended must not run thousands of passes the next leader runs anyway. Call done(key).
   */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) return Promise.resolve(this.take(key));
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    const urgent = this.urgent.delete(key);
    if (this.dirty.has(key)) this.hand(key, urgent);
  }

  /** Keys waiting to be processed now (not the delayed ones). */
  get length(): number {
    return this.queue.length;
  }

  get delayed(): number {
    return this.waiting.size;
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    this.waiting.clear();
    this.queue.length = 0;
    this.dirty.clear();
    this.urgent.clear();
    for (const g of this.getters.splice(0)) g(undefined);
  }

  private hand(key: string, first = false): void {
    const getter = this.getters.shift();
    if (getter) getter(this.take(key));
    else if (first) this.queue.unshift(key);
    else this.queue.push(key);
  }

  private take(key: string): string {
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }
}
