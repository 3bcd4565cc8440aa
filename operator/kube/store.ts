import type { Cached, InformerHandlers, RawObject } from './informer.js';

/** Equal apart from resourceVersion: a change no decision can see (e.g. a field the projection drops). */
export function sameProjection<T extends Cached>(a: T, b: T): boolean {
  return JSON.stringify({ ...a, resourceVersion: '' }) === JSON.stringify({ ...b, resourceVersion: '' });
}

/**
 * True when resourceVersion `a` is older than `b`. Resource versions are opaque by contract, but the
 * kube-apiserver's are etcd revisions (integers, increasing): comparing them is how a write's answer
 * is told apart from an older watch event still in flight. Anything else counts as "not older".
 */
export function olderThan(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) < BigInt(b);
}

/**
 * The informer's store: projections by key, with the handlers called on each change. Separate from
 * the list/watch I/O so its rules (relist replaces, stale events are skipped, our own writes are
 * seen at once) are testable on their own.
 */
export class Store<T extends Cached> {
  private readonly items = new Map<string, T>();

  constructor(
    private readonly project: (raw: RawObject) => T,
    private readonly handlers: InformerHandlers<T> = {},
  ) {}

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  values(): IterableIterator<T> {
    return this.items.values();
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  get size(): number {
    return this.items.size;
  }

  /** A watch event. Anything older than what the store holds is skipped. */
  apply(phase: 'ADDED' | 'MODIFIED' | 'DELETED', raw: RawObject): void {
    const obj = this.project(raw);
    if (phase === 'DELETED') {
      this.remove(obj.key);
      return;
    }
    const old = this.items.get(obj.key);
    if (old && olderThan(obj.resourceVersion, old.resourceVersion)) return;
    this.put(obj);
  }

  /**
   * The answer of a write of ours (read-your-writes: a pass that follows at once sees its own write,
   * without a GET). It only updates a key the store holds: the answer may land after the object's
   * DELETED event (the PATCH that removes our finalizer does), and must not bring it back as a ghost.
   */
  observe(raw: RawObject): void {
    const obj = this.project(raw);
    const old = this.items.get(obj.key);
    if (!old || olderThan(obj.resourceVersion, old.resourceVersion)) return;
    this.put(obj);
  }

  /** A complete list, projected: keys it lacks are deleted, the rest added or updated. */
  replace(objs: T[]): void {
    const seen = new Set<string>();
    for (const obj of objs) {
      seen.add(obj.key);
      this.put(obj);
    }
    for (const key of [...this.items.keys()]) if (!seen.has(key)) this.remove(key);
  }

  private put(obj: T): void {
    const old = this.items.get(obj.key);
    this.items.set(obj.key, obj);
    if (!old) this.handlers.onAdd?.(obj);
    else this.handlers.onUpdate?.(old, obj);
  }

  private remove(key: string): void {
    const old = this.items.get(key);
    if (!old) return;
    this.items.delete(key);
    this.handlers.onDelete?.(old);
  }
}
