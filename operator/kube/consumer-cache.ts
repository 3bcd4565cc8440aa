import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../runtime/logger.js';
import {
  projectExternalSecret,
  projectProviderClass,
  type ExternalSecretInfo,
  type ProviderClassInfo,
} from './consumption.js';
import { Informer, listPage, sameProjection, watchPath, type Cached, type RawObject } from './informer.js';
import { OPTIONAL_APIS, type ServedApis } from './optional-apis.js';

export interface ConsumerCacheOptions {
  kubeConfig: KubeConfig;
  api: CustomObjectsApi;
  namespace: string | undefined;
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
}

/**
 * Watch caches of the SecretProviderClasses and ExternalSecrets of the cluster (those whose API is
 * served), pruned to what consumption matching and the sync wait read.
 */
export class ConsumerCache {
  private readonly providerClasses = new ByNamespace<ProviderClassInfo>();
  private readonly externalSecrets = new ByNamespace<ExternalSecretInfo>();
  private readonly informers: Informer<Cached>[] = [];
  private readonly esInformer: Informer<ExternalSecretInfo> | undefined;

  constructor(private readonly opts: ConsumerCacheOptions) {
    if (opts.served.providerClasses) {
      this.informers.push(
        this.informer({
          what: 'SecretProviderClasses',
          ref: OPTIONAL_APIS.providerClasses,
          project: projectProviderClass,
          index: this.providerClasses,
          problemOf: (p) => p.problem,
        }),
      );
    }
    if (opts.served.externalSecrets) {
      this.esInformer = this.informer({
        what: 'ExternalSecrets',
        ref: OPTIONAL_APIS.externalSecrets,
        project: projectExternalSecret,
        index: this.externalSecrets,
      });
      this.informers.push(this.esInformer);
    }
  }

  /** Starts the informers; resolves once each has listed. */
  async start(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
  }

  get hasSynced(): boolean {
    return this.informers.every((i) => i.hasSynced);
  }

  waitSynced(): Promise<void> {
    return Promise.all(this.informers.map((i) => i.waitSynced())).then(() => undefined);
  }

  stop(): void {
    for (const i of this.informers) i.stop();
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
    this.esInformer?.observe(raw);
  }

  /**
   * An informer into `index` that tells the operator of each change. An object the projection could
   * not read (`problemOf`) is skipped by discovery: said once per new problem, so a user can tell why.
   */
  private informer<T extends Cached & { namespace: string; name: string }>({
    what,
    ref,
    project,
    index,
    problemOf,
  }: {
    what: string;
    ref: { group: string; version: string; plural: string; kind: string };
    project: (raw: RawObject) => T;
    index: ByNamespace<T>;
    problemOf?: (obj: T) => string | undefined;
  }): Informer<T> {
    const res = { ...ref, namespace: this.opts.namespace };
    const changed = (old: T | undefined, obj: T): void => {
      const problem = problemOf?.(obj);
      if (problem && problem !== (old && problemOf?.(old)))
        this.opts.logger.warn(`${ref.kind} could not be read; its mounts are not discovered`, {
          [ref.kind]: obj.key,
          problem,
        });
      this.opts.onChange(obj.namespace);
    };
    return new Informer<T>({
      what,
      kubeConfig: this.opts.kubeConfig,
      watchPath: watchPath(res),
      list: (token) => listPage(this.opts.api, res, token),
      project,
      logger: this.opts.logger,
      onAdd: (obj) => {
        index.put(obj);
        changed(undefined, obj);
      },
      onUpdate: (old, obj) => {
        index.put(obj);
        if (!sameProjection(old, obj)) changed(old, obj);
      },
      onDelete: (old) => {
        index.remove(old);
        this.opts.onChange(old.namespace);
      },
    });
  }
}
