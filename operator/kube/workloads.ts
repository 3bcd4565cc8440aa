import {
  PatchStrategy,
  setHeaderOptions,
  type AppsV1Api,
  type V1ObjectMeta,
  type V1PodTemplateSpec,
} from '@kubernetes/client-node';
import { WORKLOAD_KINDS, type MappingSpec, type WorkloadKind } from '../../resources/types.js';
import { isConflict, isNotFound } from '../runtime/errors.js';
import { isEmptySelector, selectorToString } from './label-selector.js';
import type { Target } from '../loop/restart-plan.js';
import { rolloutState, type RolloutObject } from '../loop/rollout.js';

export const RESTARTED_AT_ANNOTATION = 'secretsrotation.io/restartedAt';
export const SECRET_VERSION_ANNOTATION = 'secretsrotation.io/secret-version';

/** The parts of a Deployment, StatefulSet or DaemonSet the operator reads. */
interface Workload extends RolloutObject {
  metadata?: V1ObjectMeta;
  spec?: {
    replicas?: number;
    paused?: boolean;
    template: V1PodTemplateSpec;
    strategy?: { type?: string };
    updateStrategy?: { type?: string };
  };
}

interface KindOps {
  list(namespace: string, labelSelector: string): Promise<Workload[]>;
  get(namespace: string, name: string): Promise<Workload>;
  patch(namespace: string, name: string, body: object): Promise<unknown>;
}

const STRATEGIC = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

/** One algorithm, a table of kinds (as Reloader does): every kind-specific call is here. */
function kindTable(apps: AppsV1Api, fieldManager: string): Record<WorkloadKind, KindOps> {
  return {
    Deployment: {
      list: async (namespace, labelSelector) =>
        (await apps.listNamespacedDeployment({ namespace, labelSelector })).items,
      get: (namespace, name) => apps.readNamespacedDeployment({ namespace, name }),
      patch: (namespace, name, body) =>
        apps.patchNamespacedDeployment({ namespace, name, body, fieldManager }, STRATEGIC),
    },
    StatefulSet: {
      list: async (namespace, labelSelector) =>
        (await apps.listNamespacedStatefulSet({ namespace, labelSelector })).items,
      get: (namespace, name) => apps.readNamespacedStatefulSet({ namespace, name }),
      patch: (namespace, name, body) =>
        apps.patchNamespacedStatefulSet({ namespace, name, body, fieldManager }, STRATEGIC),
    },
    DaemonSet: {
      list: async (namespace, labelSelector) =>
        (await apps.listNamespacedDaemonSet({ namespace, labelSelector })).items,
      get: (namespace, name) => apps.readNamespacedDaemonSet({ namespace, name }),
      patch: (namespace, name, body) =>
        apps.patchNamespacedDaemonSet({ namespace, name, body, fieldManager }, STRATEGIC),
    },
  };
}

function toTarget(kind: WorkloadKind, w: Workload): Target {
  const blocked = w.spec?.paused
    ? 'Paused'
    : w.spec?.updateStrategy?.type === 'OnDelete'
      ? 'OnDelete'
      : undefined;
  return {
    kind,
    name: w.metadata?.name ?? '',
    exists: true,
    templateVersion: w.spec?.template.metadata?.annotations?.[SECRET_VERSION_ANNOTATION],
    resourceVersion: w.metadata?.resourceVersion,
    blocked,
    rollout: rolloutState(kind, w),
  };
}

/**
 * The strategic-merge patch `kubectl rollout restart` would send, plus the version stamp. With the
 * resourceVersion read, two mappings restarting one workload for one version cannot both succeed.
 */
export function restartPatch(restartedAt: string, stamp: string, resourceVersion?: string): object {
  return {
    ...(resourceVersion ? { metadata: { resourceVersion } } : {}),
    spec: {
      template: {
        metadata: {
          annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt, [SECRET_VERSION_ANNOTATION]: stamp },
        },
      },
    },
  };
}

/** Finds and restarts the workloads a mapping targets, in the mapping's own namespace only. */
export class Workloads {
  private readonly kinds: Record<WorkloadKind, KindOps>;

  constructor(apps: AppsV1Api, fieldManager: string) {
    this.kinds = kindTable(apps, fieldManager);
  }

  /** Selector matches over spec.kinds plus explicit workloads; an explicit one that is absent is `exists: false`. */
  async findTargets(namespace: string, spec: MappingSpec): Promise<Target[]> {
    const found = new Map<string, Target>();
    if (!isEmptySelector(spec.selector) && spec.selector) {
      const labelSelector = selectorToString(spec.selector);
      const kinds = spec.kinds ?? WORKLOAD_KINDS;
      const lists = await Promise.all(kinds.map((k) => this.kinds[k].list(namespace, labelSelector)));
      kinds.forEach((kind, i) =>
        lists[i].forEach((w) => found.set(`${kind}/${w.metadata?.name}`, toTarget(kind, w))),
      );
    }
    const explicit = (spec.workloads ?? []).filter((r) => !found.has(`${r.kind}/${r.name}`));
    const fetched = await Promise.all(
      explicit.map(async (r): Promise<Target> => {
        try {
          return toTarget(r.kind, await this.kinds[r.kind].get(namespace, r.name));
        } catch (err) {
          if (isNotFound(err)) return { kind: r.kind, name: r.name, exists: false };
          throw err;
        }
      }),
    );
    for (const t of fetched) found.set(`${t.kind}/${t.name}`, t);
    return [...found.values()].sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`));
  }

  /**
   * Restarts the workload unless its template already carries `stamp`. Returns false when another
   * writer (a second mapping for the same secret version) did it first.
   */
  async restart(namespace: string, target: Target, restartedAt: string, stamp: string): Promise<boolean> {
    const ops = this.kinds[target.kind];
    let resourceVersion = target.resourceVersion;
    for (let attempt = 0; ; attempt++) {
      try {
        await ops.patch(namespace, target.name, restartPatch(restartedAt, stamp, resourceVersion));
        return true;
      } catch (err) {
        if (!isConflict(err) || attempt >= 4) throw err;
      }
      const fresh = toTarget(target.kind, await ops.get(namespace, target.name));
      if (fresh.templateVersion === stamp) return false;
      resourceVersion = fresh.resourceVersion;
    }
  }
}
