import { CustomObjectsApi, Watch, type KubeConfig } from '@kubernetes/client-node';
import operatorModule, { ResourceMetaImpl, ResourceEventType, type ResourceEvent } from '@dot-i/k8s-operator';
import { GROUP, PLURAL, VERSION, type Mapping } from '../../resources/types.js';
import { describe, statusCode } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';

const Operator = operatorModule.default;
type KubeObject = ResourceEvent['object'];

export interface MappingOperatorOptions {
  kubeConfig: KubeConfig;
  namespace: string | undefined;
  logger: Logger;
  /** Called with `namespace/name` for every watch event: the only thing a watch event does. */
  enqueue: (key: string) => void;
  /** Backoff between watch attempts after an error. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

const keyOf = (m: { metadata?: { namespace?: string; name?: string } }): string =>
  `${m.metadata?.namespace ?? ''}/${m.metadata?.name ?? ''}`;

/**
 * Watches SecretsRotationMappings and turns every event into a queue key. Built on the
 * @dot-i/k8s-operator `Operator`, whose own watch calls process.exit(1) on any error: this subclass
 * replaces watchResource with a list-then-watch loop that survives an unreachable API server (backoff,
 * relist, resume), and remembers the keys it has seen so the resync can visit every mapping.
 */
export class MappingOperator extends Operator {
  /** Mapping key → the metadata.generation last enqueued for it. */
  private readonly known = new Map<string, number | undefined>();
  private abort: AbortController | undefined;
  private stopped = false;
  private synced = false;

  constructor(private readonly opts: MappingOperatorOptions) {
    super({
      debug: (m) => opts.logger.debug(m),
      info: (m) => opts.logger.info(m),
      warn: (m) => opts.logger.warn(m),
      error: (m) => opts.logger.error(m),
    });
  }

  /** True once the first list succeeded (the /readyz signal). */
  get hasSynced(): boolean {
    return this.synced;
  }

  /** Every mapping key the watch knows of now. */
  keys(): string[] {
    return [...this.known.keys()];
  }

  protected async init(): Promise<void> {
    await this.watchResource(GROUP, VERSION, PLURAL, (e) => this.onEvent(e), this.opts.namespace);
  }

  override stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  /**
   * Enqueues the key, except for a MODIFIED event that changed neither the spec (generation) nor the
   * deletion state: those are the operator's own status writes, and a pass for them would only delay
   * the pass a rotation signal needs.
   */
  private onEvent(event: ResourceEvent): Promise<void> {
    const key = keyOf(event.object);
    const { generation, deletionTimestamp } = event.object.metadata ?? {};
    if (event.type === ResourceEventType.Deleted) {
      this.known.delete(key);
    } else {
      const statusOnly =
        event.type === ResourceEventType.Modified && !deletionTimestamp && this.known.get(key) === generation;
      this.known.set(key, generation);
      if (statusOnly) return Promise.resolve();
    }
    this.opts.enqueue(key);
    return Promise.resolve();
  }

  /** Resolves after the first successful list; then keeps watching in the background until stop(). */
  protected override watchResource(
    group: string,
    version: string,
    plural: string,
    onEvent: (event: ResourceEvent) => Promise<void>,
    namespace?: string,
  ): Promise<void> {
    return new Promise((firstSync) => {
      void this.loop({ group, version, plural, namespace }, onEvent, firstSync);
    });
  }

  private async loop(
    res: { group: string; version: string; plural: string; namespace?: string },
    onEvent: (event: ResourceEvent) => Promise<void>,
    firstSync: () => void,
  ): Promise<void> {
    const api = this.opts.kubeConfig.makeApiClient(CustomObjectsApi);
    const path = `/apis/${res.group}/${res.version}/${res.namespace ? `namespaces/${res.namespace}/` : ''}${res.plural}`;
    const emit = (type: ResourceEventType, obj: Mapping): Promise<void> =>
      onEvent({
        type,
        object: obj as KubeObject,
        meta: ResourceMetaImpl.createWithPlural(res.plural, obj as KubeObject),
      });
    let backoff = this.opts.minBackoffMs ?? 1000;
    let resourceVersion: string | undefined;
    while (!this.stopped) {
      try {
        if (resourceVersion === undefined) {
          const list = (
            res.namespace
              ? await api.listNamespacedCustomObject({ ...res, namespace: res.namespace })
              : await api.listClusterCustomObject(res)
          ) as { items: Mapping[]; metadata: { resourceVersion: string } };
          resourceVersion = list.metadata.resourceVersion;
          const listed = new Set(list.items.map(keyOf));
          for (const gone of [...this.known.keys()].filter((k) => !listed.has(k))) {
            this.known.delete(gone);
            this.opts.enqueue(gone);
          }
          // A relist replays every mapping as ADDED; reconcile is level-based, so this restarts nothing.
          for (const item of list.items)
            await emit(ResourceEventType.Added, {
              ...item,
              apiVersion: `${res.group}/${res.version}`,
              kind: 'SecretsRotationMapping',
            });
          this.synced = true;
          firstSync();
        }
        resourceVersion = await this.watchOnce(path, resourceVersion, emit);
        backoff = this.opts.minBackoffMs ?? 1000;
      } catch (err) {
        if (this.stopped) break;
        resourceVersion = undefined;
        const message =
          statusCode(err) === 404
            ? 'the SecretsRotationMapping API is not served: install the CRD (kubectl apply --server-side -k manifests/base); will retry'
            : 'mapping watch failed; will relist';
        this.opts.logger.warn(message, { error: describe(err), retryInMs: backoff });
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, this.opts.maxBackoffMs ?? 30_000);
      }
    }
  }

  /** One watch request; returns the last resourceVersion seen when the server closes it normally. */
  private async watchOnce(
    path: string,
    from: string,
    emit: (type: ResourceEventType, obj: Mapping) => Promise<void>,
  ): Promise<string | undefined> {
    let last: string | undefined = from;
    let failure: Error | undefined;
    await new Promise<void>((resolve, reject) => {
      new Watch(this.opts.kubeConfig)
        .watch(
          path,
          { resourceVersion: from, allowWatchBookmarks: true },
          (phase: string, obj: Mapping & { code?: number; message?: string }) => {
            if (phase === 'ERROR') {
              failure = new Error(`watch error: ${obj.message ?? ''}`, { cause: { code: obj.code } });
              return;
            }
            last = obj.metadata?.resourceVersion ?? last;
            if (phase === 'BOOKMARK') return;
            void emit(phase as ResourceEventType, obj);
          },
          (err: unknown) => {
            if (err && !this.stopped)
              failure = failure ?? (err instanceof Error ? err : new Error(describe(err)));
            resolve();
          },
        )
        .then((abort) => (this.abort = abort), reject);
    });
    if (failure) {
      if (statusCode(failure.cause) === 410) return undefined;
      throw failure;
    }
    return last;
  }
}
