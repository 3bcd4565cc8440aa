import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, KIND, type Mapping } from '../../resources/types.js';
import type { Logger } from '../runtime/logger.js';
import { Informer, listPage, watchPath, type Cached, type ResourceRef } from './informer.js';
import { RESUME_ANNOTATION } from './restart-patches.js';

/** A cached mapping: the whole object (mappings are small), keyed `namespace/name`. */
interface CachedMapping extends Cached {
  mapping: Mapping;
}

const keyOf = (m: { metadata?: { namespace?: string; name?: string } }): string =>
  `${m.metadata?.namespace ?? ''}/${m.metadata?.name ?? ''}`;

/**
 * Whether a mapping's update calls for a pass: a spec change (generation), a deletion starting,
 * another object under the same name (deleted and recreated between two lists: same generation), or
 * a new value of the resume annotation (a halted staged rotation continues).
 * Our own status writes change none of these, and a pass for them would only delay the pass a
 * rotation signal needs. Pure.
 */
export function needsPass(old: Mapping, m: Mapping): boolean {
  const a = old.metadata;
  const b = m.metadata;
  return (
    a.uid !== b.uid ||
    a.generation !== b.generation ||
    Boolean(a.deletionTimestamp) !== Boolean(b.deletionTimestamp) ||
    a.annotations?.[RESUME_ANNOTATION] !== b.annotations?.[RESUME_ANNOTATION]
  );
}

const KEPT_METADATA = [
  'name',
  'namespace',
  'uid',
  'generation',
  'resourceVersion',
  'creationTimestamp',
  'deletionTimestamp',
  'finalizers',
] as const;

/**
 * The mapping as the cache keeps it: spec, status and the metadata passes read — not managedFields
 * or annotations such as kubectl's last-applied-configuration, which are larger than the rest (of
 * the annotations, only the resume annotation is kept).
 */
export function pruneMapping(m: Mapping): Mapping {
  const metadata: Record<string, unknown> = Object.fromEntries(KEPT_METADATA.map((k) => [k, m.metadata[k]]));
  const resume = m.metadata.annotations?.[RESUME_ANNOTATION];
  if (resume !== undefined) metadata.annotations = { [RESUME_ANNOTATION]: resume };
  return { apiVersion: API_VERSION, kind: KIND, metadata, spec: m.spec, status: m.status } as Mapping;
}

export interface MappingCacheOptions {
  kubeConfig: KubeConfig;
  api: CustomObjectsApi;
  resource: ResourceRef;
  logger: Logger;
  /** A mapping appeared, changed in a way that calls for a pass, or went (its last state). */
  onChange(key: string, mapping: Mapping, change: 'added' | 'modified' | 'deleted'): void;
}

/**
 * The owner of mapping objects: list+watch into pruned copies, with an index by namespace (a
 * workload event looks only at the mappings of its own namespace). Our write answers go through
 * the store's own rules: they update a mapping it holds, never re-add a deleted one.
 */
export class MappingCache {
  private readonly informer: Informer<CachedMapping>;
  private readonly keysIn = new Map<string, Set<string>>();

  constructor(opts: MappingCacheOptions) {
    this.informer = new Informer<CachedMapping>({
      what: 'mapping',
      kubeConfig: opts.kubeConfig,
      watchPath: watchPath(opts.resource),
      list: (token) => listPage(opts.api, opts.resource, token),
      project: (raw) => {
        const mapping = pruneMapping(raw as Mapping);
        return { key: keyOf(mapping), resourceVersion: mapping.metadata.resourceVersion, mapping };
      },
      logger: opts.logger,
      notServedHint:
        'the SecretsRotationMapping API is not served: install the CRD (kubectl apply --server-side -k manifests/base); will retry',
      onAdd: (m) => {
        this.index(m.mapping, true);
        opts.onChange(m.key, m.mapping, 'added');
      },
      onUpdate: (old, m) => {
        if (needsPass(old.mapping, m.mapping)) opts.onChange(m.key, m.mapping, 'modified');
      },
      onDelete: (m) => {
        this.index(m.mapping, false);
        opts.onChange(m.key, m.mapping, 'deleted');
      },
    });
  }

  start(): Promise<void> {
    return this.informer.start();
  }

  stop(): void {
    this.informer.stop();
  }

  get hasSynced(): boolean {
    return this.informer.hasSynced;
  }

  get(key: string): Mapping | undefined {
    return this.informer.get(key)?.mapping;
  }

  keys(): string[] {
    return this.informer.keys();
  }

  *mappings(): Iterable<Mapping> {
    for (const m of this.informer.values()) yield m.mapping;
  }

  /** The keys of the mappings in `namespace`. */
  keysInNamespace(namespace: string): Iterable<string> {
    return this.keysIn.get(namespace) ?? [];
  }

  /** The mappings of these namespaces (all: every one). */
  mappingsIn(namespaces: string[] | 'all'): Mapping[] {
    const keys =
      namespaces === 'all' ? this.keys() : namespaces.flatMap((ns) => [...this.keysInNamespace(ns)]);
    return keys.flatMap((k) => this.get(k) ?? []);
  }

  /** Read-your-writes for a write of ours (see Store.observe). */
  observe(written: Mapping): void {
    this.informer.observe(written);
  }

  private index(m: Mapping, present: boolean): void {
    const ns = m.metadata.namespace;
    const keys = this.keysIn.get(ns) ?? new Set<string>();
    if (present) this.keysIn.set(ns, keys.add(keyOf(m)));
    else {
      keys.delete(keyOf(m));
      if (keys.size === 0) this.keysIn.delete(ns);
    }
  }
}
