import type { MappingSpec } from '../../resources/types.js';
import type { PodTemplateUses } from './consumption.js';
import { isEmptySelector } from './label-selector.js';
import { concerns } from './wakeups.js';
import type { WorkloadInfo } from './workload-cache.js';

/**
 * Which mappings a workload's change concerns, without looking at every mapping of its namespace:
 * a workload event used to test `concerns` against each one, which made a namespace holding 20,000
 * mappings and 20,000 workloads quadratic to start (every workload listed or updated × every mapping).
 *
 * Each mapping is filed under terms a workload must have for `concerns` to hold:
 * - `T:kind/name` for every workload it lists;
 * - with a selector, one label pair it requires — its first matchLabels entry, else every value of
 *   its first `In` expression (the workload's label must be one of them); a selector requiring no
 *   pair (only NotIn, Exists, DoesNotExist) is filed as `scan`, tested for every workload;
 * - with discover, every Secret and SecretProviderClass that carries its secret (`carried`, from its
 *   last pass), or before any pass `any-use`: any workload that uses a Secret or a class.
 * A workload's candidates are the mappings under its own terms; `concerns` then decides each, so the
 * answer is exactly the scan's (the terms only leave out mappings `concerns` would refuse). Pure
 * data structure, no I/O.
 */
export class ConcernIndex {
  private readonly entries = new Map<string, Entry>();
  private readonly byTerm = new Map<string, Set<string>>();

  /** The mapping `key` (`namespace/name`) appeared or its spec changed; what it carried is kept. */
  set(key: string, namespace: string, spec: MappingSpec): void {
    const old = this.entries.get(key);
    this.update(key, { namespace, spec, carried: old?.carried });
  }

  /** The mapping went. */
  delete(key: string): void {
    this.update(key, undefined);
  }

  /** What carries the mapping's secret, as its last pass found (a mapping not indexed is ignored). */
  setCarried(key: string, carried: PodTemplateUses): void {
    const e = this.entries.get(key);
    if (e) this.update(key, { ...e, carried });
  }

  carried(key: string): PodTemplateUses | undefined {
    return this.entries.get(key)?.carried;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The keys of the mappings `w` concerns (see concerns), in no particular order. */
  concerned(w: WorkloadInfo): string[] {
    const out: string[] = [];
    for (const key of this.candidates(w)) {
      const e = this.entries.get(key);
      if (e && concerns(e.spec, w, e.carried)) out.push(key);
    }
    return out;
  }

  private candidates(w: WorkloadInfo): Set<string> {
    const found = new Set<string>();
    const add = (term: string): void => {
      for (const k of this.byTerm.get(`${w.namespace}\n${term}`) ?? []) found.add(k);
    };
    add(targetTerm(w.kind, w.name));
    for (const [k, v] of Object.entries(w.labels)) add(labelTerm(k, v));
    add(SCAN);
    for (const s of w.uses.secrets) add(secretTerm(s));
    for (const p of w.uses.providerClasses) add(classTerm(p));
    if (w.uses.secrets.length || w.uses.providerClasses.length) add(ANY_USE);
    return found;
  }

  private update(key: string, next: Entry | undefined): void {
    const old = this.entries.get(key);
    if (old) for (const t of termsOf(old)) this.unlink(`${old.namespace}\n${t}`, key);
    if (!next) {
      this.entries.delete(key);
      return;
    }
    this.entries.set(key, next);
    for (const t of termsOf(next)) this.link(`${next.namespace}\n${t}`, key);
  }

  private link(term: string, key: string): void {
    let keys = this.byTerm.get(term);
    if (!keys) this.byTerm.set(term, (keys = new Set()));
    keys.add(key);
  }

  private unlink(term: string, key: string): void {
    const keys = this.byTerm.get(term);
    keys?.delete(key);
    if (keys?.size === 0) this.byTerm.delete(term);
  }
}

interface Entry {
  namespace: string;
  spec: MappingSpec;
  carried?: PodTemplateUses;
}

const SCAN = 'scan';
const ANY_USE = 'any-use';
const targetTerm = (kind: string, name: string): string => `T:${kind}/${name}`;
// Label keys and values cannot hold '=' in a key or a newline anywhere: the terms do not collide.
const labelTerm = (k: string, v: string): string => `L:${k}=${v}`;
const secretTerm = (name: string): string => `S:${name}`;
const classTerm = (name: string): string => `P:${name}`;

/**
 * The label terms a non-empty selector requires one of, or 'scan' when it requires no label pair
 * (only NotIn, Exists, DoesNotExist). Its first `In` without values selects nothing: no term. Pure.
 */
export function selectorTerms(selector: NonNullable<MappingSpec['selector']>): string[] | 'scan' {
  const [first] = Object.entries(selector.matchLabels ?? {});
  if (first) return [labelTerm(first[0], first[1])];
  const In = (selector.matchExpressions ?? []).find((r) => r.operator === 'In');
  return In ? (In.values ?? []).map((v) => labelTerm(In.key, v)) : 'scan';
}

/** The terms a mapping is filed under (see ConcernIndex). Pure. */
function termsOf(e: Entry): string[] {
  const terms = (e.spec.workloads ?? []).map((r) => targetTerm(r.kind, r.name));
  if (e.spec.selector && !isEmptySelector(e.spec.selector)) {
    const required = selectorTerms(e.spec.selector);
    if (required === 'scan') terms.push(SCAN);
    else terms.push(...required);
  }
  if (e.spec.discover) {
    if (!e.carried) terms.push(ANY_USE);
    else terms.push(...e.carried.secrets.map(secretTerm), ...e.carried.providerClasses.map(classTerm));
  }
  return terms;
}
