import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import {
  DEFAULT_SELECTOR_KINDS,
  WORKLOAD_KINDS,
  type MappingSpec,
  type WorkloadKind,
} from '../../resources/types.js';
import type { Target } from './target.js';
import { RESTARTED_AT_ANNOTATION, SECRET_VERSION_ANNOTATION, STAGE_ANNOTATION } from './restart-patches.js';
import type { RolloutObject } from './rollout-progress.js';
import { KINDS, rolloutState } from './workload-kinds.js';
import type { Logger } from '../runtime/logger.js';
import {
  podTemplateUses,
  type Consumption,
  type PodTemplateUses,
  type RawPodTemplate,
} from './consumption.js';
import { Informer, listPage, sameProjection, watchPath, type Cached, type RawObject } from './informer.js';
import { isEmptySelector, matchesSelector } from './label-selector.js';
import { NamespaceIndex } from './workload-index.js';

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

interface RawWorkload extends RawObject, RolloutObject {
  metadata?: RawObject['metadata'] & {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    generation?: number;
  };
  spec?: {
    replicas?: number;
    paused?: boolean;
    restartAt?: string;
    updateStrategy?: { type?: string };
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

/** The fields rolloutState() reads, and no others. */
function projectRollout(raw: RawWorkload): RolloutObject {
  const s = raw.status ?? {};
  return {
    metadata: { generation: raw.metadata?.generation },
    spec: { replicas: raw.spec?.replicas, restartAt: raw.spec?.restartAt },
    status: {
      phase: s.phase,
      restartedAt: s.restartedAt,
      observedGeneration: s.observedGeneration,
      replicas: s.replicas,
      updatedReplicas: s.updatedReplicas,
      availableReplicas: s.availableReplicas,
      readyReplicas: s.readyReplicas,
      currentRevision: s.currentRevision,
      updateRevision: s.updateRevision,
      desiredNumberScheduled: s.desiredNumberScheduled,
      updatedNumberScheduled: s.updatedNumberScheduled,
      numberAvailable: s.numberAvailable,
      conditions: s.conditions?.map(({ type, status, reason }) => ({ type, status, reason })),
    },
  };
}

/** True when the mapping's spec targets the workload (selector over spec.kinds, or listed explicitly). */
export function targets(spec: MappingSpec, w: Pick<WorkloadInfo, 'kind' | 'name' | 'labels'>): boolean {
  if ((spec.workloads ?? []).some((r) => r.kind === w.kind && r.name === w.name)) return true;
  if (!spec.selector || isEmptySelector(spec.selector)) return false;
  return (spec.kinds ?? DEFAULT_SELECTOR_KINDS).includes(w.kind) && matchesSelector(spec.selector, w.labels);
}

function toTarget(w: WorkloadInfo, consumption: Consumption | undefined): Target {
  return {
    kind: w.kind,
    name: w.name,
    exists: true,
    templateVersion: w.stamp,
    stampedAt: w.stampedAt,
    stage: w.stage,
    resourceVersion: w.resourceVersion,
    blocked: w.blocked,
    rollout: rolloutState(w.kind, w.rollout),
    restartAt: w.rollout.spec?.restartAt,
    ...(consumption ?? {}),
  };
}

/**
 * The targets of a mapping among the workloads of its namespace: selector matches, explicit
 * workloads, and with spec.discover the consumers found (consumersOf); every target says how it
 * consumes the secret when `consumption` knows. An explicit one that does not exist is
 * `exists: false`. Sorted by kind/name. Pure.
 */
export function selectTargets(
  spec: MappingSpec,
  workloads: Iterable<WorkloadInfo>,
  consumption: Map<string, Consumption> = new Map(),
): Target[] {
  const found = new Map<string, Target>();
  for (const w of workloads) {
    const id = `${w.kind}/${w.name}`;
    const consumes = consumption.get(id);
    if (targets(spec, w) || (spec.discover && consumes)) found.set(id, toTarget(w, consumes));
  }
  for (const r of spec.workloads ?? []) {
    const id = `${r.kind}/${r.name}`;
    if (!found.has(id)) found.set(id, { kind: r.kind, name: r.name, exists: false });
  }
  return [...found.values()].sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`));
}

/** The kinds a mapping may target: those its selector covers and those it lists; every kind to discover. */
export function kindsOf(spec: MappingSpec): WorkloadKind[] {
  if (spec.discover) return [...WORKLOAD_KINDS];
  const kinds = new Set<WorkloadKind>((spec.workloads ?? []).map((r) => r.kind));
  if (spec.selector && !isEmptySelector(spec.selector))
    for (const k of spec.kinds ?? DEFAULT_SELECTOR_KINDS) kinds.add(k);
  return [...kinds];
}

export interface WorkloadCacheOptions {
  kubeConfig: KubeConfig;
  /** Lists apps/v1 objects as plain JSON (no model deserialization: thousands of objects stay cheap). */
  api: CustomObjectsApi;
  /** Watch one namespace only (WATCH_NAMESPACE), or all. */
  namespace: string | undefined;
  /** Kinds whose API the cluster serves (Rollout only with Argo Rollouts' CRD installed). */
  served: ReadonlySet<WorkloadKind>;
  logger: Logger;
  /** A workload appeared, changed in a way decisions see, or disappeared (old and new projections). */
  onChange(old: WorkloadInfo | undefined, obj: WorkloadInfo | undefined): void;
}

/**
 * Watch caches of the workload kinds in use, started on first need (a cluster whose mappings only
 * name Deployments never watches DaemonSets), holding pruned projections indexed by namespace.
 */
export class WorkloadCache {
  private readonly informers = new Map<WorkloadKind, Informer<WorkloadInfo>>();
  private readonly byNamespace = new Map<string, NamespaceIndex>();

  constructor(private readonly opts: WorkloadCacheOptions) {}

  /**
   * Starts the informers of `kinds` not yet started and waits until each has listed once. A kind the
   * cluster does not serve is skipped: its targets are simply not found.
   */
  async ensure(kinds: WorkloadKind[]): Promise<void> {
    const served = kinds.filter((k) => this.opts.served.has(k));
    await Promise.all(served.map((k) => (this.informers.get(k) ?? this.start(k)).waitSynced()));
  }

  /** Starts the informers of `kinds` not yet started (served ones); never waits. */
  begin(kinds: WorkloadKind[]): void {
    for (const k of kinds) if (this.opts.served.has(k) && !this.informers.has(k)) this.start(k);
  }

  /** Whether the informers of `kinds` the cluster serves have all listed once (none started by this). */
  listed(kinds: WorkloadKind[]): boolean {
    return kinds.every((k) => !this.opts.served.has(k) || this.informers.get(k)?.hasSynced === true);
  }

  /** Whether every informer started so far has listed once. */
  get hasSynced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced);
  }

  /** Whether the cluster serves this kind's API. */
  serves(kind: WorkloadKind): boolean {
    return this.opts.served.has(kind);
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

  /** The cached workloads of a namespace whose pod template uses any of these Secrets or classes. */
  using(namespace: string, names: PodTemplateUses): WorkloadInfo[] {
    return this.byNamespace.get(namespace)?.using(names) ?? [];
  }

  /** Read-your-writes: the object a patch of ours returned. */
  observe(kind: WorkloadKind, raw: object): void {
    this.informers.get(kind)?.observe(raw);
  }

  stop(): void {
    for (const i of this.informers.values()) i.stop();
  }

  private start(kind: WorkloadKind): Informer<WorkloadInfo> {
    const res = { ...KINDS[kind].resource, namespace: this.opts.namespace };
    const informer = new Informer<WorkloadInfo>({
      what: `${kind}s`,
      kubeConfig: this.opts.kubeConfig,
      watchPath: watchPath(res),
      list: (token) => listPage(this.opts.api, res, token),
      project: (raw) => projectWorkload(kind, raw),
      logger: this.opts.logger,
      onAdd: (w) => this.index(kind, undefined, w),
      onUpdate: (old, w) => this.index(kind, old, w),
      onDelete: (old) => this.index(kind, old, undefined),
    });
    this.informers.set(kind, informer);
    void informer.start();
    return informer;
  }

  /**
   * Indexes a change and tells onChange, except during the kind's first list: every pass that needs
   * the kind waits for that list (ensure), so telling would only cost each listed workload a look at
   * every mapping of its namespace — 5,000 × 5,000 on one tick, which held the event loop for
   * seconds and timed out the AWS calls of that cold start.
   */
  private index(kind: WorkloadKind, old: WorkloadInfo | undefined, w: WorkloadInfo | undefined): void {
    if (old) this.unindex(old);
    if (w) {
      const ns = this.byNamespace.get(w.namespace) ?? new NamespaceIndex();
      this.byNamespace.set(w.namespace, ns);
      ns.add(w);
    }
    if (!this.informers.get(kind)?.hasSynced) return;
    if (!old || !w || !sameProjection(old, w)) this.opts.onChange(old, w);
  }

  private unindex(old: WorkloadInfo): void {
    const ns = this.byNamespace.get(old.namespace);
    ns?.remove(old);
    if (ns?.size === 0) this.byNamespace.delete(old.namespace);
  }
}
