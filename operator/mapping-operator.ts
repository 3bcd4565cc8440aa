import operatorModule, { ResourceEventType, ResourceMetaImpl, type ResourceEvent } from '@dot-i/k8s-operator';
import {
  DEFAULT_SELECTOR_KINDS,
  GROUP,
  PLURAL,
  VERSION,
  type Mapping,
  type WorkloadKind,
} from '../resources/types.js';
import type { RotationSignal } from './aws/rotation-signal.js';
import { SecretRouter } from './aws/secret-router.js';
import { ConsumerCache } from './kube/consumer-cache.js';
import { MappingCache } from './kube/mapping-cache.js';
import { MappingClient } from './kube/mappings.js';
import { PolicyClient } from './kube/policies.js';
import { TenancyCache } from './kube/tenancy-cache.js';
import { WorkloadCache } from './kube/workload-cache.js';
import { PolicyStatusWriter } from './loop/policy-status.js';
import { reconcile, type ReconcileDeps } from './loop/reconcile.js';
import { baselineFloor } from './loop/stages/secret.js';
import { TermLoop } from './loop/term.js';
import type { CacheSizes } from './runtime/metrics.js';
import type { MappingOperatorOptions } from './mapping-operator-options.js';
import { MappingWakeups } from './mapping-wakeups.js';
import { NamespaceCacheClaims } from './namespace-cache-claims.js';

const Operator = operatorModule.default;
type KubeObject = ResourceEvent['object'];

/**
 * The composition root, as an @dot-i/k8s-operator `Operator`: it registers the reconciler for the
 * SecretsRotationMapping CRD and wires who owns what — the mapping cache, the workload and consumer
 * caches, the tenancy cache (policies, namespace labels), the secret router (all process-long,
 * followers included) and, while this process leads, the loop of the leadership term (queue,
 * workers, signals, rollout slots) and the policies' status writer. The workload and consumer caches
 * hold only what the allowed mappings of each namespace need (NamespaceCacheClaims). A mapping its policies do not
 * allow (by its id, or by the secret it resolved to) is never routed: no AWS call for its events.
 * Watch events and SQS signals only enqueue keys; reconcile (loop/reconcile.ts) adds and removes the
 * finalizer, restarts and writes status. No pass LISTs or GETs: reads come from the caches.
 */
export class MappingOperator extends Operator {
  readonly router: SecretRouter;
  private readonly workloads: WorkloadCache;
  private readonly consumers: ConsumerCache | undefined;
  private readonly tenancy: TenancyCache;
  private policyStatus: PolicyStatusWriter | undefined;
  /** Which mappings a workload or consumer change wakes (the index from workloads to mappings). */
  private readonly wakeups: MappingWakeups;
  /** The kinds each namespace's caches watch, from its allowed mappings; routing with them. */
  private readonly claims: NamespaceCacheClaims;
  /** Readiness latched once (see hasSynced). */
  private warm = false;
  private cache: MappingCache | undefined;
  private loop: TermLoop | undefined;
  private readonly deps: ReconcileDeps;

  constructor(private readonly opts: MappingOperatorOptions) {
    super({
      debug: (m) => opts.logger.debug(m),
      info: (m) => opts.logger.info(m),
      warn: (m) => opts.logger.warn(m),
      error: (m) => opts.logger.error(m),
    });
    this.wakeups = new MappingWakeups({
      mappingsIn: (ns) => this.cache?.mappingsIn([ns]) ?? [],
      leading: () => this.loop !== undefined && this.cache !== undefined,
      enqueue: (key) => this.enqueue(key),
    });
    this.router = new SecretRouter({
      resolve: (id, o) => opts.versions.resolve(id, o),
      logger: opts.logger,
      // As a pass does after DescribeSecret: on the secret, not on the id's names.
      authorise: (key, id, secret) => this.tenancy.decide(key.split('/')[0], id, secret)?.allowed !== false,
      // Followers too: a refusal a background resolution found releases what only it needed.
      onRefusalChange: (key, id) => this.claims.refusalChanged(key.split('/')[0], id),
    });
    const served = new Set<WorkloadKind>([
      ...DEFAULT_SELECTOR_KINDS,
      ...(opts.served.rollouts ? ['Rollout' as const] : []),
    ]);
    const common = {
      kubeConfig: opts.kubeConfig,
      api: opts.api,
      namespace: opts.namespace,
      logger: opts.logger,
    };
    this.tenancy = new TenancyCache({
      ...common,
      core: opts.core,
      defaultPolicy: opts.defaultSecretPolicy,
      onChange: (namespaces) => this.onTenancyChange(namespaces),
    });
    this.workloads = new WorkloadCache({
      ...common,
      served,
      onChange: (old, w) => this.wakeups.workloadChanged(old, w),
    });
    if (opts.served.externalSecrets || opts.served.providerClasses) {
      this.consumers = new ConsumerCache({
        ...common,
        served: opts.served,
        onChange: (namespace) => this.wakeups.consumerChanged(namespace),
      });
    }
    this.claims = new NamespaceCacheClaims({
      allowed: (ns, id) => this.tenancy.decide(ns, id)?.allowed,
      router: this.router,
      workloads: this.workloads,
      consumers: this.consumers,
      mappingsIn: (namespaces) => this.cache?.mappingsIn(namespaces) ?? [],
      get: (key) => this.cache?.get(key),
    });
    this.deps = {
      ...opts.pass,
      mappings: { get: (key) => this.cache?.get(key), observe: (written) => this.cache?.observe(written) },
      mappingWriter: new MappingClient(opts.api, opts.fieldManager),
      workloadCache: this.workloads,
      consumers: this.consumers,
      onCarriedNames: (key, names) => this.wakeups.carriedNames(key, names),
      tenancy: this.tenancy,
      // Our own move of AWSCURRENT: the mappings of that secret look again now, not when its event comes.
      onCurrentMoved: (arn) =>
        this.router
          .watched()
          .get(arn)
          ?.keys.forEach((k) => this.enqueue(k)),
    };
  }

  /**
   * The /readyz signal, on every replica: the cluster-level caches have listed (policies and
   * namespaces before the mappings: see init), and the namespace caches their mappings started have
   * each answered a first LIST — listed, or failed (those mappings then say why on their status while
   * their informers retry). A rolling update replaces the leader only once its successor is Ready, so
   * the successor is warm by then; and one namespace whose LIST keeps failing cannot hold every
   * replica unready. Latched: a namespace gaining its first mapping later does not make it flap.
   */
  get hasSynced(): boolean {
    if (!(this.cache?.hasSynced ?? false)) return false;
    this.warm ||= this.workloads.settled && (this.consumers?.settled ?? true);
    return this.warm;
  }

  /** What the workload and consumer caches hold now (the cache metrics). */
  cacheSizes(): CacheSizes {
    const w = this.workloads.sizes();
    const c = this.consumers?.sizes() ?? { objects: 0, watches: 0 };
    return { ...w, consumers: c.objects, watches: w.watches + c.watches };
  }

  /** Every mapping key in the cache. */
  keys(): string[] {
    return this.cache?.keys() ?? [];
  }

  protected async init(): Promise<void> {
    // Policies first: a mapping is routed (its secret described) only once it is known to be allowed.
    await this.tenancy.start();
    // The workload and consumer caches start per namespace as its mappings appear (onMappingEvent).
    await this.watchResource(GROUP, VERSION, PLURAL, (e) => this.onMappingEvent(e), this.opts.namespace);
  }

  override stop(): void {
    this.cache?.stop();
    this.workloads.stop();
    this.consumers?.stop();
    this.tenancy.stop();
    this.router.stop();
  }

  /** Starts the loop of a leadership term; every cached mapping is visited. */
  startLoop(): void {
    const hooks = this.opts.hooks ?? {};
    this.loop = new TermLoop({
      ...this.opts.term,
      reconcile: (key, term) => reconcile(key, { ...this.deps, ...term }),
      mappings: () => this.cache?.mappings() ?? [],
      warm: (secretIds) => this.router.warm(secretIds),
      logger: this.opts.logger,
      hooks: {
        ...hooks,
        onRoute: (key, r) => {
          this.router.confirm(key, r.secretId, r.arn);
          // What the pass learnt of the resolved secret claims or releases what this mapping needs.
          this.claims.reclaim(key);
        },
      },
    });
    this.loop.start();
    const policies = new PolicyClient(this.opts.api, this.opts.fieldManager);
    this.policyStatus = new PolicyStatusWriter({
      governance: () => this.tenancy.governance(),
      secretIdsIn: (ns) => (this.cache?.mappingsIn([ns]) ?? []).map((m) => m.spec.secretId),
      allowed: (ns, id) => this.tenancy.decide(ns, id)?.allowed && !this.router.refuses(ns, id),
      write: async (name, status) => this.tenancy.observePolicy(await policies.applyStatus(name, status)),
      logger: this.opts.logger,
    });
    this.policyStatus.schedule();
  }

  /** Ends the term's loop: passes in flight stop before their next write, pending signals are rejected. */
  async stopLoop(): Promise<void> {
    const loop = this.loop;
    this.loop = undefined;
    this.policyStatus?.stop();
    this.policyStatus = undefined;
    await loop?.stop();
  }

  /** A mapping to look at (watch, resync). Followers queue nothing. */
  enqueue(key: string): void {
    this.loop?.enqueue(key);
  }

  /**
   * The SQS pipeline's entry point: resolves once a pass recorded `signal` for mapping `key` (the
   * message may then be deleted). Signals jump ahead of keys queued by a resync or a relist.
   */
  signal(key: string, signal: RotationSignal): Promise<void> {
    if (!this.loop) return Promise.reject(new Error('not leading: the message will be redelivered'));
    return this.loop.signal(key, signal);
  }

  /** The mapping cache replaces the framework's watch, which calls process.exit(1) on any error. */
  // eslint-disable-next-line max-params -- the framework's signature
  protected override watchResource(
    group: string,
    version: string,
    plural: string,
    onEvent: (event: ResourceEvent) => Promise<void>,
    namespace?: string,
  ): Promise<void> {
    const types = {
      added: ResourceEventType.Added,
      modified: ResourceEventType.Modified,
      deleted: ResourceEventType.Deleted,
    };
    this.cache = new MappingCache({
      kubeConfig: this.opts.kubeConfig,
      api: this.opts.api,
      resource: { group, version, plural, namespace },
      logger: this.opts.logger,
      onChange: (_key, mapping, change) => {
        const object = mapping as unknown as KubeObject;
        void onEvent({
          type: types[change],
          object,
          meta: ResourceMetaImpl.createWithPlural(plural, object),
        });
      },
    });
    return this.cache.start();
  }

  /** A mapping appeared, changed or went: route its secret, and look at it. */
  private onMappingEvent(event: ResourceEvent): Promise<void> {
    const mapping = event.object as unknown as Mapping;
    const key = `${mapping.metadata.namespace}/${mapping.metadata.name}`;
    if (event.type === ResourceEventType.Deleted) {
      this.router.forget(key);
      this.wakeups.mappingGone(key);
      this.claims.claim(key, undefined);
    } else {
      this.claims.route(key, mapping, baselineFloor(mapping));
      this.wakeups.mappingChanged(key, mapping);
      // Followers too: a new leader's first passes then find the namespace's caches warm.
      this.claims.claim(key, mapping);
    }
    this.enqueue(key);
    this.policyStatus?.schedule();
    return Promise.resolve();
  }

  /** Policies or a namespace's labels changed: route again and look at the mappings concerned. */
  private onTenancyChange(namespaces: string[] | 'all'): void {
    for (const key of this.claims.tenancyChanged(namespaces, baselineFloor)) this.enqueue(key);
    this.policyStatus?.schedule();
  }
}
