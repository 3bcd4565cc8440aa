import type { MappingSpec } from '../../resources/types.js';
import type { PodTemplateUses } from './consumption.js';
import { isEmptySelector } from './label-selector.js';
import type { WorkloadInfo } from './workload-cache.js';

/** Index terms: a label (key=value), a Secret the pod template uses, a SecretProviderClass it mounts. */
const labelTerm = (k: string, v: string): string => `L:${k}=${v}`;
const secretTerm = (name: string): string => `S:${name}`;
const providerClassTerm = (name: string): string => `P:${name}`;

const termsOf = (w: WorkloadInfo): string[] => [
  ...Object.entries(w.labels).map(([k, v]) => labelTerm(k, v)),
  ...w.uses.secrets.map(secretTerm),
  ...w.uses.providerClasses.map(providerClassTerm),
];

/** One namespace's workloads, by key and by term (label, Secret used, SecretProviderClass mounted). */
export class NamespaceIndex {
  private readonly all = new Map<string, WorkloadInfo>();
  private readonly byTerm = new Map<string, Set<WorkloadInfo>>();

  get size(): number {
    return this.all.size;
  }

  add(w: WorkloadInfo): void {
    this.all.set(`${w.kind}/${w.name}`, w);
    for (const term of termsOf(w)) {
      let set = this.byTerm.get(term);
      if (!set) this.byTerm.set(term, (set = new Set()));
      set.add(w);
    }
  }

  remove(w: WorkloadInfo): void {
    const id = `${w.kind}/${w.name}`;
    const current = this.all.get(id);
    if (!current) return;
    this.all.delete(id);
    for (const term of termsOf(current)) {
      const set = this.byTerm.get(term);
      set?.delete(current);
      if (set?.size === 0) this.byTerm.delete(term);
    }
  }

  get(kind: string, name: string): WorkloadInfo | undefined {
    return this.all.get(`${kind}/${name}`);
  }

  candidates(spec: MappingSpec): WorkloadInfo[] {
    const explicit = (spec.workloads ?? []).flatMap((r) => this.all.get(`${r.kind}/${r.name}`) ?? []);
    if (!spec.selector || isEmptySelector(spec.selector)) return explicit;
    const first = Object.entries(spec.selector.matchLabels ?? {})[0];
    if (!first) return [...this.all.values()];
    return [...explicit, ...(this.byTerm.get(labelTerm(...first)) ?? [])];
  }

  using(names: PodTemplateUses): WorkloadInfo[] {
    const found = new Set<WorkloadInfo>();
    const terms = [...names.secrets.map(secretTerm), ...names.providerClasses.map(providerClassTerm)];
    for (const term of terms) for (const w of this.byTerm.get(term) ?? []) found.add(w);
    return [...found];
  }
}
