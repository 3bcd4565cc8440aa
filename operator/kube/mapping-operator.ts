import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import operatorModule, { ResourceEventType, ResourceMetaImpl, type ResourceEvent } from '@dot-i/k8s-operator';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION, type Mapping } from '../../resources/types.js';
import { MappingIndex } from '../aws/mapping-index.js';
import type { SecretVersions } from '../aws/secret-versions.js';
import { Controller, type ControllerHooks } from '../loop/controller.js';
import { WorkQueue } from '../loop/queue.js';
import { baselineFloor, reconcile, type ReconcileDeps } from '../loop/reconcile.js';
import type { RotationSignal } from '../loop/signals.js';
import { AccessDeniedError, SecretNotFoundError, describe } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import { ConsumerCache } from './consumer-cache.js';
import { usesAny, type PodTemplateUses } from './consumption.js';
import { Informer, listPage, watchPath, type Cached } from './informer.js';
import { MappingClient } from './mappings.js';
import type { ServedApis } from './optional-apis.js';
import { kindsOf, targets, WorkloadCache, type WorkloadInfo } from './workload-cache.js';
import { DEFAULT_SELECTOR_KINDS, type WorkloadKind } from '../../resources/types.js';

const Operator = operatorModule.default;
type KubeObject = ResourceEvent['object'];

/** A cached mapping: the whole object (mappings are small), keyed `namespace/name`. */
interface CachedMapping extends Cached {
  mapping: Mapping;
}

/** What a pass needs besides the caches, which the operator owns. */
export type PassDeps = Omit<
  ReconcileDeps,
  'mappings' | 'mappingWriter' | 'workloadCache' | 'index' | 'consumers' | 'onCarriedNames'
>;

export interface MappingOperatorOptions {
  kubeConfig: KubeConfig;
  /** Plain-JSON access to any resource: mappings and apps/v1 workloads. */
  api: CustomObjectsApi;
  namespace: string | undefined;
  fieldManager: string;
  logger: Logger;
  versions: SecretVersions;
  /** Which optional APIs the cluster serves (see optional-apis.ts). */
  served: ServedApis;
  pass: PassDeps;
  concurrency: number;
  hooks?: ControllerHooks & { queueDepth?: (n: number) => void };
}

const keyOf = (m: { metadata?: { namespace?: string; name?: string } }): string =>
  `${m.metadata?.namespace ?? ''}/${m.metadata?.name ?? ''}`;

/**
 * Whether a mapping's update calls for a pass: a spec change (generation), a deletion starting, or
 * another object under the same name (deleted and recreated between two lists: same generation).
 * Our own status writes change neither, and a pass for them would only delay the pass a rotation
 * signal needs. Pure.
 */
export function needsPass(old: Mapping, m: Mapping): boolean {
  const a = old.metadata;
  const b = m.metadata;
  return (
    a.uid !== b.uid ||
    a.generation !== b.generation ||
    Boolean(a.deletionTimestamp) !== Boolean(b.deletionTimestamp)
  );
}

/**
 * The mapping as the cache keeps it: spec, status and the metadata passes read — not managedFields
 * or annotations such as kubectl's last-applied-configuration, which are larger than the rest.
 */
export function pruneMapping(m: Mapping): Mapping {
  const {
    name,
    namespace,
    uid,
    generation,
    resourceVersion,
    creationTimestamp,
    deletionTimestamp,
    finalizers,
  } = m.metadata;
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: {
      name,
      namespace,
      uid,
      generation,
      resourceVersion,
      creationTimestamp,
      deletionTimestamp,
      finalizers,
    },
    spec: m.spec,
    status: m.status,
  };
}

/**
 * Whether a workload's change concerns a mapping: it targets it by selector or list, or — with
 * discover — it uses a Secret or SecretProviderClass that carries the mapping's secret (`carried`, as
 * the mapping's last pass found them; before any pass, any Secret or class it uses). Pure.
 */
export function concerns(spec: Mapping['spec'], w: WorkloadInfo, carried?: PodTemplateUses): boolean {
  if (targets(spec, w)) return true;
  if (!spec.discover) return false;
  return carried ? usesAny(w.uses, carried) : w.uses.secrets.length > 0 || w.uses.providerClasses.length > 0;
}

/** Whether a mapping cares about SecretProviderClass and ExternalSecret changes. Pure. */
const followsConsumers = (m: Mapping): boolean =>
  Boolean(m.spec.discover) || (m.status?.workloads ?? []).some((w) => (w.via ?? []).length > 0);

/** How soon a secret that could not be resolved (transient AWS error) is tried again. */
const RESOLVE_RETRY_MS = 5000;

/**
 * The controller, as an @dot-i/k8s-operator `Operator`: it watches SecretsRotationMappings into a
 * cache, watches the workload kinds in use into pruned caches, keeps the secret → mappings index, and
 * — while this process leads — runs the ONE keyed reconcile queue and its workers. Watch events and
 * SQS signals only enqueue keys; reconcile (loop/reconcile.ts) adds and removes the finalizer,
 * restarts and writes status. No pass LISTs or GETs: reads come from the caches, which also take
 * the answers of our own writes.
 */
export class MappingOperator extends Operator {
  readonly index = new MappingIndex();
  /**
   * Mapping keys by namespace: a workload event (several per rollout, for every workload of the
   * cluster) looks only at the mappings of its own namespace, not at every cached mapping.
   */
  private readonly keysIn = new Map<string, Set<string>>();
  private readonly workloads: WorkloadCache;
  private readonly consumers: ConsumerCache | undefined;
  /** Per mapping key: the names that carry its secret (see concerns), from its last pass. */
  private readonly carried = new Map<string, PodTemplateUses>();
  private mappings: Informer<CachedMapping> | undefined;
  private loop: { queue: WorkQueue; controller: Controller } | undefined;
  private readonly deps: ReconcileDeps;

  constructor(private readonly opts: MappingOperatorOptions) {
    super({
      debug: (m) => opts.logger.debug(m),
      info: (m) => opts.logger.info(m),
      warn: (m) => opts.logger.warn(m),
      error: (m) => opts.logger.error(m),
    });
    const served = new Set<WorkloadKind>([
      ...DEFAULT_SELECTOR_KINDS,
      ...(opts.served.rollouts ? ['Rollout' as const] : []),
    ]);
    this.workloads = new WorkloadCache({
      kubeConfig: opts.kubeConfig,
      api: opts.api,
      namespace: opts.namespace,
      served,
      logger: opts.logger,
      onChange: (old, w) => this.onWorkloadChange(old, w),
    });
    if (opts.served.externalSecrets || opts.served.providerClasses) {
      this.consumers = new ConsumerCache({
        kubeConfig: opts.kubeConfig,
        api: opts.api,
        namespace: opts.namespace,
        served: opts.served,
        logger: opts.logger,
        onChange: (namespace) => this.onConsumerChange(namespace),
      });
    }
    this.deps = {
      ...opts.pass,
      mappings: {
        get: (key) => this.mappings?.get(key)?.mapping,
        observe: (written) => this.mappings?.observe(written),
      },
      mappingWriter: new MappingClient(opts.api, opts.fieldManager),
      workloadCache: this.workloads,
      consumers: this.consumers,
      onCarriedNames: (key, names) => this.carried.set(key, names),
      index: this.index,
    };
  }

  /** True once the mapping cache has listed (the /readyz signal). */
  get hasSynced(): boolean {
    return this.mappings?.hasSynced ?? false;
  }

  /** Every mapping key in the cache. */
  keys(): string[] {
    return this.mappings?.keys() ?? [];
  }

  protected async init(): Promise<void> {
    await Promise.all([
      this.watchResource(GROUP, VERSION, PLURAL, (e) => this.onMappingEvent(e), this.opts.namespace),
      this.consumers?.start(),
    ]);
  }

  override stop(): void {
    this.mappings?.stop();
    this.workloads.stop();
    this.consumers?.stop();
  }

  /** Starts the reconcile queue and its workers (this process leads); every cached mapping is visited. */
  startLoop(): void {
    const queue = new WorkQueue();
    const hooks = this.opts.hooks ?? {};
    const controller = new Controller(
      queue,
      (key, aborted) => reconcile(key, { ...this.deps, aborted }),
      this.opts.logger,
      {
        onResult: (result, seconds) => {
          hooks.onResult?.(result, seconds);
          hooks.queueDepth?.(queue.length);
        },
      },
    );
    controller.start(this.opts.concurrency);
    this.loop = { queue, controller };
    for (const key of this.keys()) controller.enqueue(key);
  }

  /** Ends the term's loop: passes in flight stop before their next write, pending signals are rejected. */
  async stopLoop(): Promise<void> {
    const loop = this.loop;
    this.loop = undefined;
    await loop?.controller.stop();
  }

  /** A mapping to look at (watch, resync, a freed rollout slot). Followers queue nothing. */
  enqueue(key: string): void {
    this.loop?.controller.enqueue(key);
  }

  /**
   * The SQS pipeline's entry point: resolves once a pass recorded `signal` for mapping `key` (the
   * message may then be deleted). Signals jump ahead of keys queued by a resync or a relist.
   */
  signal(key: string, signal: RotationSignal): Promise<void> {
    if (!this.loop) return Promise.reject(new Error('not leading: the message will be redelivered'));
    return this.loop.controller.signal(key, signal);
  }

  /** The informer replaces the framework's watch, which calls process.exit(1) on any error. */
  // eslint-disable-next-line max-params -- the framework's signature
  protected override watchResource(
    group: string,
    version: string,
    plural: string,
    onEvent: (event: ResourceEvent) => Promise<void>,
    namespace?: string,
  ): Promise<void> {
    const api = this.opts.api;
    const res = { group, version, plural, namespace };
    const emit = (type: ResourceEventType, m: CachedMapping): void => {
      const object = m.mapping as KubeObject;
      void onEvent({ type, object, meta: ResourceMetaImpl.createWithPlural(plural, object) });
    };
    this.mappings = new Informer<CachedMapping>({
      what: 'mapping',
      kubeConfig: this.opts.kubeConfig,
      watchPath: watchPath(res),
      list: (token) => listPage(api, res, token),
      project: (raw) => {
        const mapping = pruneMapping(raw as Mapping);
        return { key: keyOf(mapping), resourceVersion: mapping.metadata.resourceVersion, mapping };
      },
      logger: this.opts.logger,
      notServedHint:
        'the SecretsRotationMapping API is not served: install the CRD (kubectl apply --server-side -k manifests/base); will retry',
      onAdd: (m) => emit(ResourceEventType.Added, m),
      onUpdate: (old, m) => {
        if (needsPass(old.mapping, m.mapping)) emit(ResourceEventType.Modified, m);
      },
      onDelete: (m) => emit(ResourceEventType.Deleted, m),
    });
    return this.mappings.start();
  }

  /** A mapping appeared, changed or went: route its secret, and look at it. */
  private onMappingEvent(event: ResourceEvent): Promise<void> {
    const mapping = event.object as unknown as Mapping;
    const key = keyOf(mapping);
    const namespace = mapping.metadata.namespace;
    if (event.type === ResourceEventType.Deleted) {
      this.index.delete(key);
      this.carried.delete(key);
      this.keysIn.get(namespace)?.delete(key);
      if (this.keysIn.get(namespace)?.size === 0) this.keysIn.delete(namespace);
    } else {
      this.keysIn.set(namespace, (this.keysIn.get(namespace) ?? new Set()).add(key));
      this.resolveSecret(key, mapping.spec.secretId);
      // Followers too: a new leader's first passes then find the workload caches warm.
      void this.workloads.ensure(kindsOf(mapping.spec));
    }
    this.enqueue(key);
    return Promise.resolve();
  }

  /**
   * Resolves a mapping's secretId to an ARN as it enters the cache, so messages for that secret are
   * routed even before its first pass (a new leader, a mapping created a moment ago).
   */
  private resolveSecret(key: string, secretId: string): void {
    this.index.resolving(key);
    const mapping = this.mappings?.get(key)?.mapping;
    this.opts.versions.resolve(secretId, { notBefore: mapping && baselineFloor(mapping) }).then(
      (v) => {
        if (this.mappings?.get(key)?.mapping.spec.secretId === secretId) this.index.set(key, v.arn);
      },
      (err: unknown) => {
        if (this.mappings?.get(key)?.mapping.spec.secretId !== secretId) return;
        // A secret that cannot be described routes nothing; its mapping reports why.
        if (err instanceof SecretNotFoundError || err instanceof AccessDeniedError) {
          this.index.delete(key);
          return;
        }
        this.opts.logger.warn('could not resolve the secret of a mapping; will retry', {
          mapping: key,
          secret: secretId,
          error: describe(err),
          retryInMs: RESOLVE_RETRY_MS,
        });
        setTimeout(() => {
          if (this.mappings?.get(key)?.mapping.spec.secretId === secretId) this.resolveSecret(key, secretId);
        }, RESOLVE_RETRY_MS).unref();
      },
    );
  }

  /**
   * A workload changed in a way decisions see: enqueue the mappings it concerns, before or after the
   * change (a workload that stopped consuming the secret leaves the mapping's status too).
   */
  private onWorkloadChange(old: WorkloadInfo | undefined, w: WorkloadInfo | undefined): void {
    if (!this.loop || !this.mappings) return;
    const ref = (w ?? old) as WorkloadInfo;
    for (const key of this.keysIn.get(ref.namespace) ?? []) {
      const spec = this.mappings.get(key)?.mapping.spec;
      if (spec && [old, w].some((x) => x && concerns(spec, x, this.carried.get(key)))) this.enqueue(key);
    }
  }

  /**
   * A SecretProviderClass or ExternalSecret of `namespace` changed (an ExternalSecret's sync too):
   * enqueue the mappings there that discover, or whose targets consume the secret through one.
   */
  private onConsumerChange(namespace: string): void {
    if (!this.loop || !this.mappings) return;
    for (const key of this.keysIn.get(namespace) ?? []) {
      const m = this.mappings.get(key)?.mapping;
      if (m && followsConsumers(m)) this.enqueue(key);
    }
  }
}
