import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { MappingSpec, WorkloadKind } from '../../resources/types.js';
import { RESTARTED_AT_ANNOTATION, SECRET_VERSION_ANNOTATION, STAGE_ANNOTATION } from './restart-patches.js';
import { projectRollout, type RawRollout, type RolloutObject } from './rollout-progress.js';
import { KINDS } from './workload-kinds.js';
import type { Logger } from '../runtime/logger.js';
import { podTemplateUses, type PodTemplateUses, type RawPodTemplate } from './consumption.js';
import { Informer, listPage, sameProjection, watchPath, type Cached, type RawObject } from './informer.js';
import { NamespaceIndex } from './workload-index.js';
import { NamespaceInformers } from './namespace-informers.js';

/**
 * What the operator keeps of a workload: only what its decisions read (labels, our version stamp,
 * rollout fields, paused, update strategy, the Secrets and SecretProviderClasses its pods use) —
 * never the pod template itself.
 */
export interface WorkloadInfo extends Cached {
  kind: WorkloadKind;
  namespace: string;
  name: string;
  labels: Record<string, string>;
  stamp?: string;
  /** When the stamp was written (our restartedAt annotation beside it). */
  stampedAt?: string;
  /** The secretsrotation.io/stage annotation, when an integer (a staged rotation's order). */
  stage?: number;
  blocked?: 'Paused' | 'OnDelete';
  rollout: RolloutObject;
  uses: PodTemplateUses;
}

interface RawWorkload extends RawObject, RawRollout {
  metadata?: RawObject['metadata'] & {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    generation?: number;
  };
  spec?: RawRollout['spec'] & {
    paused?: boolean;
    template?: RawPodTemplate & { metadata?: { annotations?: Record<string, string> } };
  };
}

export const workloadKey = (namespace: string, kind: string, name: string): string =>
  `${namespace}/${kind}/${name}`;

/** The pruned projection of a raw workload object. Pure. */
export function projectWorkload(kind: WorkloadKind, raw: RawWorkload): WorkloadInfo {
  const m = raw.metadata ?? {};
  const namespace = m.namespace ?? '';
  const name = m.name ?? '';
  return {
    key: workloadKey(namespace, kind, name),
    resourceVersion: m.resourceVersion,
    kind,
    namespace,
    name,
    labels: m.labels ?? {},
    ...stampOf(kind, raw),
    stage: stageOf(m.annotations?.[STAGE_ANNOTATION]),
    blocked: blockedBy(raw.spec),
    rollout: projectRollout(raw),
    uses: podTemplateUses(raw.spec?.template),
  };
}

/**
 * Our version stamp. A Rollout restarts through spec.restartAt, not its template (a template change
 * would start a canary or blue-green release): its stamp lives on its own metadata.
 */
function stampOf(kind: WorkloadKind, raw: RawWorkload): Pick<WorkloadInfo, 'stamp' | 'stampedAt'> {
  const annotations =
    KINDS[kind].stampOn === 'object' ? raw.metadata?.annotations : raw.spec?.template?.metadata?.annotations;
  const stamp = annotations?.[SECRET_VERSION_ANNOTATION];
  return stamp === undefined ? {} : { stamp, stampedAt: annotations?.[RESTARTED_AT_ANNOTATION] };
}

/** The stage annotation's value: an integer, or nothing (absent or not a number: staged last). */
function stageOf(value: string | undefined): number | undefined {
  return value !== undefined && /^-?[0-9]{1,9}$/.test(value.trim()) ? Number(value) : undefined;
}

/** Why a template change will not roll the workload by itself, if it will not. */
function blockedBy(spec: RawWorkload['spec']): WorkloadInfo['blocked'] {
  if (spec?.paused) return 'Paused';
  return spec?.updateStrategy?.type === 'OnDelete' ? 'OnDelete' : undefined;
}

export interface WorkloadCacheOptions {
  kubeConfig: KubeConfig;
  /** Lists apps/v1 objects as plain JSON (no model deserialization: thousands of objects stay cheap). */
  api: CustomObjectsApi;
  /** Kinds whose API the cluster serves (Rollout only with Argo Rollouts' CRD installed). */
  served: ReadonlySet<WorkloadKind>;
  logger: Logger;
  /** A workload appeared, changed in a way decisions see, or disappeared (old and new projections). */
  onChange(old: WorkloadInfo | undefined, obj: WorkloadInfo | undefined): void;
}

/**
 * Watch caches of the workload kinds in use, per namespace: started for a namespace on first need
 * (a namespace whose mappings only name Deployments never watches its DaemonSets), a kind dropped with
 * its projections when the last mapping needing it goes (fit), holding pruned projections indexed by
 * namespace. The operator decides what each namespace needs (NamespaceClaims); passes only read.
 * Workloads of namespaces without mappings are never listed, watched or kept.
 */
export class WorkloadCache {
  private readonly informers: NamespaceInformers<WorkloadKind, WorkloadInfo>;
  private readonly byNamespace = new Map<string, NamespaceIndex>();

  constructor(private readonly opts: WorkloadCacheOptions) {
    this.informers = new NamespaceInformers((ns, kind) => this.make(ns, kind));
  }

  /**
   * Starts the informers of `kinds` in `namespace` not yet started and waits until each has listed
   * once. A kind the cluster does not serve is skipped: its targets are simply not found.
   */
  async ensure(namespace: string, kinds: WorkloadKind[]): Promise<void> {
    await this.informers.ensure(namespace, this.servedOf(kinds));
  }

  /** Starts the informers of `kinds` in `namespace` not yet started (served ones); never waits. */
  begin(namespace: string, kinds: WorkloadKind[]): void {
    this.informers.begin(namespace, this.servedOf(kinds));
  }

  /**
   * The mappings allowed in `namespace` need exactly `kinds`: their informers start if not started,
   * the others stop and their projections are freed (none left: the namespace is released).
   */
  fit(namespace: string, kinds: WorkloadKind[]): void {
    for (const gone of this.informers.retain(namespace, this.servedOf(kinds)))
      for (const w of gone.values()) this.unindex(w);
    this.begin(namespace, kinds);
  }

  /** See NamespaceInformers.whenListed: starts nothing. */
  whenListed(namespace: string, kinds: WorkloadKind[], orFailed = false): Promise<void> | undefined {
    return this.informers.whenListed(namespace, this.servedOf(kinds), orFailed);
  }

  /** Why a kind of `kinds` has not listed in `namespace`: its last LIST's failure, if it failed. */
  listFailure(namespace: string, kinds: WorkloadKind[]): { kind: WorkloadKind; error: string } | undefined {
    return this.informers.listFailure(namespace, this.servedOf(kinds));
  }

  /** Whether every informer started has answered its first LIST, listed or failed. */
  get settled(): boolean {
    return this.informers.settled;
  }

  /** Whether `kinds` (those the cluster serves) have all been listed once in `namespace`. */
  listed(namespace: string, kinds: WorkloadKind[]): boolean {
    return this.informers.listed(namespace, this.servedOf(kinds));
  }

  /** Whether every informer started so far has listed once. */
  get hasSynced(): boolean {
    return this.informers.hasSynced;
  }

  /** Whether the cluster serves this kind's API. */
  serves(kind: WorkloadKind): boolean {
    return this.opts.served.has(kind);
  }

  /** What the cache holds: workloads, namespaces watched, open watches (metrics, the bench). */
  sizes(): { workloads: number; namespaces: number; watches: number } {
    let workloads = 0;
    for (const ns of this.byNamespace.values()) workloads += ns.size;
    return { workloads, namespaces: this.informers.namespaces().length, watches: this.informers.watches };
  }

  /**
   * The namespace has no mapping any more: its watches stop and its projections are freed. A mapping
   * that comes later starts them again (and its pass waits for their first list).
   */
  release(namespace: string): void {
    if (this.informers.drop(namespace)) this.byNamespace.delete(namespace);
  }

  /**
   * The cached workloads of a namespace that `spec` may target by selector or list (a superset:
   * selectTargets decides). With matchLabels, only the workloads carrying its first label are looked
   * at, so thousands of mappings over thousands of workloads do not cost mappings × workloads
   * selector matches. Discovered consumers come from `using`.
   */
  candidates(namespace: string, spec: MappingSpec): Iterable<WorkloadInfo> {
    return this.byNamespace.get(namespace)?.candidates(spec) ?? [];
  }

  /** The cached projection of one workload (our own patches' answers included). */
  get(namespace: string, kind: WorkloadKind, name: string): WorkloadInfo | undefined {
    return this.byNamespace.get(namespace)?.get(kind, name);
  }

  /** The cached workloads of a namespace whose pod template uses any of these Secrets or classes. */
  using(namespace: string, names: PodTemplateUses): WorkloadInfo[] {
    return this.byNamespace.get(namespace)?.using(names) ?? [];
  }

  /** Read-your-writes: the object a patch of ours returned. */
  observe(kind: WorkloadKind, raw: object): void {
    const ns = (raw as RawWorkload).metadata?.namespace;
    if (ns) this.informers.get(ns, kind)?.observe(raw);
  }

  stop(): void {
    this.informers.stop();
  }

  private servedOf(kinds: WorkloadKind[]): WorkloadKind[] {
    return kinds.filter((k) => this.opts.served.has(k));
  }

  private make(namespace: string, kind: WorkloadKind): Informer<WorkloadInfo> {
    const res = { ...KINDS[kind].resource, namespace };
    // Events of an informer dropped (or replaced) after its namespace's last mapping went are ignored.
    const live = (): boolean => this.informers.current(namespace, kind, informer);
    const informer: Informer<WorkloadInfo> = new Informer<WorkloadInfo>({
      what: `${kind}s`,
      kubeConfig: this.opts.kubeConfig,
      watchPath: watchPath(res),
      list: (token, signal) => listPage(this.opts.api, res, token, signal),
      project: (raw) => projectWorkload(kind, raw),
      logger: this.opts.logger,
      onAdd: (w) => {
        if (live()) this.index(informer, undefined, w);
      },
      onUpdate: (old, w) => {
        if (live()) this.index(informer, old, w);
      },
      onDelete: (old) => {
        if (live()) this.index(informer, old, undefined);
      },
    });
    return informer;
  }

  /**
   * Indexes a change and tells onChange, except during the informer's first list: a pass that needs
   * the kind there ends without it and is looked at again once that list answers (whenListed, through
   * the pass's lookAgainWhen), so telling would only cost each listed workload a look at the mappings
   * it may concern — 5,000 × 5,000 on one tick, which held the event loop for seconds and timed out
   * the AWS calls of that cold start.
   */
  private index(
    informer: Informer<WorkloadInfo>,
    old: WorkloadInfo | undefined,
    w: WorkloadInfo | undefined,
  ): void {
    if (old) this.unindex(old);
    if (w) {
      const ns = this.byNamespace.get(w.namespace) ?? new NamespaceIndex();
      this.byNamespace.set(w.namespace, ns);
      ns.add(w);
    }
    if (!informer.hasSynced) return;
    if (!old || !w || !sameProjection(old, w)) this.opts.onChange(old, w);
  }

  private unindex(old: WorkloadInfo): void {
    const ns = this.byNamespace.get(old.namespace);
    ns?.remove(old);
    if (ns?.size === 0) this.byNamespace.delete(old.namespace);
  }
}
