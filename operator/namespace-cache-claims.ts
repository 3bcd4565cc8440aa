import type { Mapping, WorkloadKind } from '../resources/types.js';
import type { SecretRouter } from './aws/secret-router.js';
import { NamespaceClaims } from './kube/namespace-claims.js';
import { kindsOf } from './kube/target-selection.js';

/** What NamespaceCacheClaims asks and drives (the operator's tenancy cache, router and caches). */
export interface NamespaceCacheClaimsOptions {
  /** Whether the policies of `namespace` allow `secretId` by its names (undefined: not known yet). */
  allowed(namespace: string, secretId: string): boolean | undefined;
  router: Pick<SecretRouter, 'refuses' | 'follow' | 'forget'>;
  workloads: { fit(namespace: string, kinds: WorkloadKind[]): void };
  consumers?: { fit(namespace: string, needed: boolean): void };
  /** The cached mappings of these namespaces. */
  mappingsIn(namespaces: string[] | 'all'): Mapping[];
  /** The cached mapping `key`. */
  get(key: string): Mapping | undefined;
}

const keyOf = (m: Mapping): string => `${m.metadata.namespace}/${m.metadata.name}`;

/**
 * The caches of a namespace watch what its allowed mappings need, nothing more: a mapping its
 * policies refuse (by its id, or by the secret it resolved to) or being deleted opens no list+watch,
 * and a kind, or the whole namespace, whose last such mapping went or lost its permission stops.
 * Routing (the router's follow/forget) goes with it: only an allowed mapping is routed.
 */
export class NamespaceCacheClaims {
  private readonly claims = new NamespaceClaims<WorkloadKind>();

  constructor(private readonly opts: NamespaceCacheClaimsOptions) {}

  /** Whether mapping `key` may have its namespace's caches watch for it now. */
  mayWatch(key: string, mapping: Mapping | undefined): mapping is Mapping {
    const ns = key.slice(0, key.indexOf('/'));
    const id = mapping?.spec.secretId ?? '';
    return (
      mapping !== undefined &&
      !mapping.metadata.deletionTimestamp &&
      this.opts.allowed(ns, id) === true &&
      !this.opts.router.refuses(ns, id)
    );
  }

  /** Claims what mapping `key` needs now (undefined: it went), and fits the namespace's caches. */
  claim(key: string, mapping: Mapping | undefined): void {
    const ns = key.slice(0, key.indexOf('/'));
    const kinds = this.claims.set(key, ns, this.mayWatch(key, mapping) ? kindsOf(mapping.spec) : undefined);
    this.opts.workloads.fit(ns, kinds ?? []);
    this.opts.consumers?.fit(ns, kinds !== undefined);
  }

  /** Claims again for `key` when what it holds is not what it may hold now (a pass routed it). */
  reclaim(key: string): void {
    const m = this.opts.get(key);
    if (this.claims.holds(key) !== this.mayWatch(key, m)) this.claim(key, m);
  }

  /**
   * A refusal on a resolved secret came or went for a mapping of `namespace` naming `secretId`:
   * router.refuses answers for every mapping there naming it, so each is claimed again.
   */
  refusalChanged(namespace: string, secretId: string): void {
    for (const m of this.opts.mappingsIn([namespace]))
      if (m.spec.secretId === secretId) this.reclaim(keyOf(m));
  }

  /** Routes the mapping's secret if its policies allow it; else it routes nothing (no AWS call). */
  route(key: string, mapping: Mapping, notBefore?: number): void {
    if (this.opts.allowed(mapping.metadata.namespace ?? '', mapping.spec.secretId))
      this.opts.router.follow(key, mapping.spec.secretId, notBefore);
    else this.opts.router.forget(key);
  }

  /**
   * Policies or a namespace's labels changed: every mapping concerned is routed first, then claimed
   * — a claim asks router.refuses, which answers for every mapping of the namespace naming the same
   * id, so a claim made before the others were routed again would read their stale refusals.
   * Returns the mappings concerned.
   */
  tenancyChanged(namespaces: string[] | 'all', notBefore: (m: Mapping) => number | undefined): string[] {
    const mappings = this.opts.mappingsIn(namespaces);
    for (const m of mappings) this.route(keyOf(m), m, notBefore(m));
    for (const m of mappings) this.claim(keyOf(m), m);
    return mappings.map(keyOf);
  }

  /** How many namespaces hold a claim. */
  get namespaces(): number {
    return this.claims.namespaces;
  }
}
