import type { RolloutState, WorkloadKind } from '../../resources/types.js';
import type { ResourceRef } from './informer.js';
import { rolloutRestart, templateRestart, type RestartPatch } from './restart-patches.js';
import {
  argoProgress,
  daemonSetProgress,
  deploymentProgress,
  statefulSetProgress,
  type RolloutObject,
} from './rollout-progress.js';
import type { Target } from './target.js';

/** Everything that differs between the kinds the operator restarts. A new kind is one row here. */
export interface KindRules {
  /** Where the kind is served. */
  resource: Omit<ResourceRef, 'namespace'>;
  /**
   * Where our version stamp lives: the pod template's annotations, or — for a Rollout, which a
   * template change would release as a new canary or blue-green version — its own metadata.
   */
  stampOn: 'template' | 'object';
  /** The restart patch, conditioned on what the cache showed. Pure. */
  restart(restartedAt: string, stamp: string, target: Target): RestartPatch;
  /** How the rollout stands, from the workload's status. Pure. */
  /** `since`: our restart's stamp time, when the template carries one. */
  progress(w: RolloutObject, since?: string): RolloutState;
}

const apps = (plural: string): Omit<ResourceRef, 'namespace'> => ({ group: 'apps', version: 'v1', plural });

export const KINDS: Record<WorkloadKind, KindRules> = {
  Deployment: {
    resource: apps('deployments'),
    stampOn: 'template',
    restart: templateRestart,
    progress: deploymentProgress,
  },
  StatefulSet: {
    resource: apps('statefulsets'),
    stampOn: 'template',
    restart: templateRestart,
    progress: statefulSetProgress,
  },
  DaemonSet: {
    resource: apps('daemonsets'),
    stampOn: 'template',
    restart: templateRestart,
    progress: daemonSetProgress,
  },
  Rollout: {
    resource: { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' },
    stampOn: 'object',
    restart: rolloutRestart,
    progress: argoProgress,
  },
};

/** Where the workload's rollout stands (see KindRules.progress). Pure. */
export const rolloutState = (kind: WorkloadKind, w: RolloutObject, since?: string): RolloutState =>
  KINDS[kind].progress(w, since);
