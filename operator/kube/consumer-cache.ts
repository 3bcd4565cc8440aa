import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../runtime/logger.js';
import {
  projectExternalSecret,
  projectProviderClass,
  type ExternalSecretInfo,
  type ProviderClassInfo,
} from './consumption.js';
import { Informer, listPage, sameProjection, watchPath, type Cached, type RawObject } from './informer.js';
import { NamespaceInformers } from './namespace-informers.js';
import { OPTIONAL_APIS, type ServedApis } from './optional-apis.js';

export interface ConsumerCacheOptions {
  kubeConfig: KubeConfig;
  api: CustomObjectsApi;
  served: ServedApis;
  logger: Logger;
  /** A SecretProviderClass or ExternalSecret of `namespace` appeared, changed or went. */
  onChange(namespace: string): void;
}

/** One kind's objects by namespace, then by name. */
class ByNamespace<T extends Cached & { namespace: string; name: string }> {
  private readonly items = new Map<string, Map<string, T>>();

  put(obj: T): void {
    const ns = this.items.get(obj.namespace) ?? new Map<string, T>();
    this.items.set(obj.namespace, ns.set(obj.name, obj));
  }

  remove(obj: T): void {
    const ns = this.items.get(obj.namespace);
    ns?.delete(obj.name);
    if (ns?.size === 0) this.items.delete(obj.namespace);
  }

  in(namespace: string): Iterable<T> {
    return this.items.get(namespace)?.values() ?? [];
  }

  get(namespace: string, name: string): T | undefined {
    return this.items.get(namespace)?.get(name);
  }

  clear(namespace: string): void {
    this.items.delete(namespace);
  }

  get size(): number {
    let n = 0;
    for (const ns of this.items.values()) n += ns.size;
    return n;
  }
}

type ConsumerKind = 'providerClasses' | 'externalSecrets';

/** For logs and status messages. */
const PLURAL_NAMES: Record<ConsumerKind, string> = {
  providerClasses: 'SecretProviderClasses',
  externalSecrets: 'ExternalSecrets',
};

/**
 * Watch caches of the SecretProviderClasses and ExternalSecrets (those whose API is served), per
 * namespace with mappings (as the workload cache: see NamespaceInformers), pruned to what consumption
 * matching and the sync wait read.
 */
export class ConsumerCache {
  private readonly providerClasses = new ByNamespace<ProviderClassInfo>();
  private readonly externalSecrets = new ByNamespace<ExternalSecretInfo>();
  private readonly informers: NamespaceInformers<ConsumerKind, Cached>;
  private readonly kinds: ConsumerKind[];

  constructor(private readonly opts: ConsumerCacheOptions) {
    this.kinds = (['providerClasses', 'externalSecrets'] as const).filter((k) => opts.served[k]);
    this.informers = new NamespaceInformers<ConsumerKind, Cached>((ns, kind) =>
      kind === 'providerClasses'
        ? this.informer(ns, {
            kind,
            what: PLURAL_NAMES.providerClasses,
            project: projectProviderClass,
            index: this.providerClasses,
            problemOf: (p) => p.problem,
          })
        : this.informer(ns, {
            kind,
            what: PLURAL_NAMES.externalSecrets,
            project: projectExternalSecret,
            index: this.externalSecrets,
          }),
    );
  }

  /** Starts the namespace's informers if not started; never waits. */
  begin(namespace: string): void {
    this.informers.begin(namespace, this.kinds);
  }

  /** Starts the namespace's informers if not started; resolves once each has listed. */
  ensure(namespace: string): Promise<void> {
    return this.informers.ensure(namespace, this.kinds);
  }

  /** Started while `needed` (an allowed mapping is in the namespace), released otherwise. */
  fit(namespace: string, needed: boolean): void {
    if (needed) this.begin(namespace);
    else this.release(namespace);
  }

  /** See NamespaceInformers.whenListed: starts nothing. */
  whenListed(namespace: string, orFailed = false): Promise<void> | undefined {
    return this.informers.whenListed(namespace, this.kinds, orFailed);
  }

  /** Why a kind has not listed in `namespace`: its last LIST's failure, if it failed. */
  listFailure(namespace: string): { kind: string; error: string } | undefined {
    const f = this.informers.listFailure(namespace, this.kinds);
    return f && { kind: PLURAL_NAMES[f.kind], error: f.error };
  }

  /** Whether every informer started has answered its first LIST, listed or failed. */
  get settled(): boolean {
    return this.informers.settled;
  }

  /** Whether the namespace's informers have all listed once. */
  listed(namespace: string): boolean {
    return this.informers.listed(namespace, this.kinds);
  }

  /** Whether every informer started so far has listed once. */
  get hasSynced(): boolean {
    return this.informers.hasSynced;
  }

  /** The namespace has no mapping any more: its watches stop and its projections are freed. */
  release(namespace: string): void {
    if (!this.informers.drop(namespace)) return;
    this.providerClasses.clear(namespace);
    this.externalSecrets.clear(namespace);
  }

  /** Objects cached and watches open (metrics, the bench). */
  sizes(): { objects: number; watches: number } {
    return {
      objects: this.providerClasses.size + this.externalSecrets.size,
      watches: this.informers.watches,
    };
  }

  stop(): void {
    this.informers.stop();
  }

  providerClassesIn(namespace: string): Iterable<ProviderClassInfo> {
    return this.providerClasses.in(namespace);
  }

  externalSecretsIn(namespace: string): Iterable<ExternalSecretInfo> {
    return this.externalSecrets.in(namespace);
  }

  externalSecret(namespace: string, name: string): ExternalSecretInfo | undefined {
    return this.externalSecrets.get(namespace, name);
  }

  /** Read-your-writes: the ExternalSecret our force-sync patch returned. */
  observeExternalSecret(raw: object): void {
    const ns = (raw as RawObject).metadata?.namespace;
    if (ns) this.informers.get(ns, 'externalSecrets')?.observe(raw);
  }

  /**
   * An informer of one namespace into `index` that tells the operator of each change. An object the
   * projection could not read (`problemOf`) is skipped by discovery: said once per new problem, so a
   * user can tell why. Events of an informer dropped with its namespace are ignored.
   */
  private informer<T extends Cached & { namespace: string; name: string }>(
    namespace: string,
    {
      kind,
      what,
      project,
      index,
      problemOf,
    }: {
      kind: ConsumerKind;
      what: string;
      project: (raw: RawObject) => T;
      index: ByNamespace<T>;
      problemOf?: (obj: T) => string | undefined;
    },
  ): Informer<T> {
    const ref = OPTIONAL_APIS[kind];
    const res = { ...ref, namespace };
    const live = (): boolean => this.informers.current(namespace, kind, informer);
    const changed = (old: T | undefined, obj: T): void => {
      const problem = problemOf?.(obj);
      if (problem && problem !== (old && problemOf?.(old)))
        this.opts.logger.warn(`${ref.kind} could not be read; its mounts are not discovered`, {
          [ref.kind]: obj.key,
          problem,
        });
      this.opts.onChange(obj.namespace);
    };
    const informer: Informer<T> = new Informer<T>({
      what,
      kubeConfig: this.opts.kubeConfig,
      watchPath: watchPath(res),
      list: (token, signal) => listPage(this.opts.api, res, token, signal),
      project,
      logger: this.opts.logger,
      onAdd: (obj) => {
        if (!live()) return;
        index.put(obj);
        changed(undefined, obj);
      },
      onUpdate: (old, obj) => {
        if (!live()) return;
        index.put(obj);
        if (!sameProjection(old, obj)) changed(old, obj);
      },
      onDelete: (old) => {
        if (!live()) return;
        index.remove(old);
        this.opts.onChange(old.namespace);
      },
    });
    return informer;
  }
}
