import type { Cached, Informer } from './informer.js';

/**
 * Informers per namespace and per resource kind, started for the namespaces that have mappings and
 * stopped when their last mapping goes: what the operator caches follows what its mappings can reach,
 * not the size of the cluster (20,000 workloads elsewhere cost nothing). The callers own the
 * projections; `drop` tells them which informers went, so they free what those held.
 *
 * Per-namespace list+watch rather than one cluster-wide watch filtered at ingestion: a filtered watch
 * still receives, parses and throws away every object of the cluster on each list and event, and a
 * namespace that gains its first mapping would need a list of its own anyway (docs/performance.md,
 * "Caches follow the mappings", has the measurements).
 */
export class NamespaceInformers<K extends string, T extends Cached> {
  private readonly byNamespace = new Map<string, Map<K, Informer<T>>>();

  /** `make` builds (does not start) the informer of one kind in one namespace. */
  constructor(private readonly make: (namespace: string, kind: K) => Informer<T>) {}

  /** Starts the informers of `kinds` in `namespace` not started yet; never waits. */
  begin(namespace: string, kinds: readonly K[]): void {
    for (const kind of kinds) this.informer(namespace, kind);
  }

  /** Starts what `begin` would and resolves once each of them has listed once. */
  async ensure(namespace: string, kinds: readonly K[]): Promise<void> {
    await Promise.all(kinds.map((k) => this.informer(namespace, k).waitSynced()));
  }

  /** Whether `kinds` in `namespace` have all been listed once (starts nothing). */
  listed(namespace: string, kinds: readonly K[]): boolean {
    const started = this.byNamespace.get(namespace);
    return kinds.every((k) => started?.get(k)?.hasSynced === true);
  }

  /** The informer of `kind` in `namespace`, if started. */
  get(namespace: string, kind: K): Informer<T> | undefined {
    return this.byNamespace.get(namespace)?.get(kind);
  }

  /** Whether this informer is the current one of its namespace and kind (not dropped, not replaced). */
  current(namespace: string, kind: K, informer: Informer<T>): boolean {
    return this.byNamespace.get(namespace)?.get(kind) === informer;
  }

  /** Whether every informer started so far has listed once. */
  get hasSynced(): boolean {
    for (const kinds of this.byNamespace.values())
      for (const i of kinds.values()) if (!i.hasSynced) return false;
    return true;
  }

  /** The namespaces watched now. */
  namespaces(): string[] {
    return [...this.byNamespace.keys()];
  }

  /** How many watches are open (one per namespace and kind). */
  get watches(): number {
    let n = 0;
    for (const kinds of this.byNamespace.values()) n += kinds.size;
    return n;
  }

  /** Stops the namespace's informers and forgets them; false when it had none. */
  drop(namespace: string): boolean {
    const kinds = this.byNamespace.get(namespace);
    if (!kinds) return false;
    for (const i of kinds.values()) i.stop();
    this.byNamespace.delete(namespace);
    return true;
  }

  stop(): void {
    for (const ns of [...this.byNamespace.keys()]) this.drop(ns);
  }

  private informer(namespace: string, kind: K): Informer<T> {
    const kinds = this.byNamespace.get(namespace) ?? new Map<K, Informer<T>>();
    this.byNamespace.set(namespace, kinds);
    let informer = kinds.get(kind);
    if (!informer) {
      informer = this.make(namespace, kind);
      kinds.set(kind, informer);
      void informer.start();
    }
    return informer;
  }
}
