import type { Cached, Informer } from './informer.js';

/**
 * Informers per namespace and per resource kind, started for the kinds the allowed mappings of a
 * namespace need and stopped when the last mapping needing one goes (retain): what the operator
 * caches follows what its mappings can reach,
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

  /**
   * Resolves once the started informers of `kinds` in `namespace` have listed (or were dropped);
   * with `orFailed`, once each has answered its first LIST either way. Undefined when one of them is
   * not started: nothing would wake the waiter (starts nothing).
   */
  whenListed(namespace: string, kinds: readonly K[], orFailed = false): Promise<void> | undefined {
    const started: Informer<T>[] = [];
    for (const k of kinds) {
      const i = this.get(namespace, k);
      if (!i) return undefined;
      started.push(i);
    }
    return Promise.all(started.map((i) => (orFailed ? i.waitSettled() : i.waitSynced()))).then(
      () => undefined,
    );
  }

  /** Why one of `kinds` in `namespace` has not listed: its last LIST's failure, if it failed. */
  listFailure(namespace: string, kinds: readonly K[]): { kind: K; error: string } | undefined {
    for (const kind of kinds) {
      const i = this.get(namespace, kind);
      if (i && !i.hasSynced && i.listFailure !== undefined) return { kind, error: i.listFailure };
    }
    return undefined;
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

  /** Whether every informer started so far has answered its first LIST, listed or failed. */
  get settled(): boolean {
    for (const kinds of this.byNamespace.values())
      for (const i of kinds.values()) if (!i.settled) return false;
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

  /**
   * Keeps only the informers of `kinds` in `namespace`: the others stop and are forgotten (the last
   * mapping needing them went), the namespace with them when none is left. Returns those stopped.
   */
  retain(namespace: string, kinds: readonly K[]): Informer<T>[] {
    const started = this.byNamespace.get(namespace);
    if (!started) return [];
    const dropped: Informer<T>[] = [];
    for (const [kind, i] of [...started])
      if (!kinds.includes(kind)) {
        i.stop();
        started.delete(kind);
        dropped.push(i);
      }
    if (started.size === 0) this.byNamespace.delete(namespace);
    return dropped;
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
