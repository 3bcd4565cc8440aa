/**
 * What each namespace's caches must watch: the union of the kinds its allowed mappings need, kept
 * as counts so that a mapping appearing, changing or going costs O(its kinds), not a look at every
 * mapping of its namespace (5,000 mappings in one namespace, deleted one by one, would otherwise cost
 * 12.5 million looks). Pure: the operator applies what `set` answers to the caches.
 */
export class NamespaceClaims<K extends string> {
  private readonly byKey = new Map<string, { namespace: string; kinds: readonly K[] }>();
  private readonly counts = new Map<string, Map<K, number>>();
  /** Mappings with a claim, per namespace (a mapping needing no kind still needs the consumers). */
  private readonly holders = new Map<string, number>();

  /**
   * Mapping `key` of `namespace` now needs `kinds` (undefined: nothing — gone, or not allowed).
   * Returns what the namespace's caches must hold now: its kinds, or undefined when no mapping
   * there holds a claim (release it).
   */
  set(key: string, namespace: string, kinds: readonly K[] | undefined): K[] | undefined {
    const before = this.byKey.get(key);
    if (before) {
      this.byKey.delete(key);
      this.count(before.namespace, before.kinds, -1);
    }
    if (kinds) {
      this.byKey.set(key, { namespace, kinds: [...new Set(kinds)] });
      this.count(namespace, [...new Set(kinds)], 1);
    }
    return this.kindsOf(namespace);
  }

  /** The kinds `namespace` must watch; undefined when no mapping there holds a claim. */
  kindsOf(namespace: string): K[] | undefined {
    if (!this.holders.has(namespace)) return undefined;
    return [...(this.counts.get(namespace)?.keys() ?? [])];
  }

  /** Whether mapping `key` holds a claim. */
  holds(key: string): boolean {
    return this.byKey.has(key);
  }

  /** How many namespaces hold a claim. */
  get namespaces(): number {
    return this.holders.size;
  }

  private count(namespace: string, kinds: readonly K[], delta: 1 | -1): void {
    const holders = (this.holders.get(namespace) ?? 0) + delta;
    if (holders > 0) this.holders.set(namespace, holders);
    else this.holders.delete(namespace);
    const counts = this.counts.get(namespace) ?? new Map<K, number>();
    for (const k of kinds) {
      const n = (counts.get(k) ?? 0) + delta;
      if (n > 0) counts.set(k, n);
      else counts.delete(k);
    }
    if (counts.size > 0) this.counts.set(namespace, counts);
    else this.counts.delete(namespace);
  }
}
