import type { Policy } from '../../resources/policy-types.js';
import type { Mapping, RestartWindow } from '../../resources/types.js';
import {
  carriersOf,
  consumersOf,
  type Consumption,
  type ExternalSecretInfo,
  type ProviderClassInfo,
} from '../kube/consumption.js';
import type { Target } from '../kube/target.js';
import { selectTargets } from '../kube/target-selection.js';
import type { WorkloadInfo } from '../kube/workload-cache.js';
import type { Planned } from '../loop/restart-plan.js';
import { stagedOrder, stageSizeOf } from '../loop/staging.js';
import { windowProblems, windowVerdict } from '../loop/windows.js';
import { compilePolicy, decide, type DefaultPolicy } from '../tenancy/policy-decision.js';
import { watchedSecret, type MatchedBy } from './secret-match.js';

/** What one mapping's namespace holds that decides what a rotation of its secret restarts. */
export interface Namespaced {
  workloads: WorkloadInfo[];
  /** undefined: not served, or not readable by the user (then consumers are not shown). */
  providerClasses?: ProviderClassInfo[];
  externalSecrets?: ExternalSecretInfo[];
  /** The namespace's labels; undefined when the user may not read namespaces. */
  labels?: Record<string, string>;
}

export interface ImpactTarget {
  /** Its stage (1-based) in a Staged mapping; undefined for AllAtOnce or a missing workload. */
  stage?: number;
  kind: string;
  name: string;
  exists: boolean;
  /** How it consumes the secret besides the mapping's selector and list (e.g. ExternalSecret/db). */
  via: string[];
  /** Its restart waits for these ExternalSecrets to sync the new value first. */
  waitsForSync: string[];
  /** Why a template change will not roll it by itself. */
  blocked?: string;
  rollout?: string;
}

export interface PolicyVerdict {
  verdict: 'allowed' | 'refused' | 'unknown';
  by?: string;
  message?: string;
}

export interface MappingImpact {
  namespace: string;
  name: string;
  secretId: string;
  matchedBy: MatchedBy;
  secretArn?: string;
  /** One line: what a rotation now would do. */
  outcome: string;
  policy: PolicyVerdict;
  suspend: boolean;
  minRestartInterval?: string;
  rollout: {
    strategy: string;
    stageSize?: number | string;
    pause?: string;
    onFailure?: string;
    stages?: number;
  };
  windows: { configured: RestartWindow[]; open: boolean; opensAt?: string; problems: string[] };
  /** Whether SecretProviderClasses and ExternalSecrets could be read (consumers are shown only then). */
  consumersKnown: boolean;
  targets: ImpactTarget[];
}

/**
 * The policy verdict the operator would give, on the names the secretId may stand for and, once
 * the operator resolved it, the secret its status reports (tenancy/policy-decision.ts). Pure.
 */
export function policyVerdict(
  m: Mapping,
  labels: Record<string, string> | undefined,
  policies: Policy[] | undefined,
  defaultPolicy: DefaultPolicy,
): PolicyVerdict {
  if (!policies || !labels)
    return { verdict: 'unknown', message: 'cannot read SecretsRotationPolicies or namespace labels' };
  const compiled = policies.map((p) => compilePolicy(p.metadata.name, p.spec));
  const resolved = m.status?.secretArn ? watchedSecret(m) : undefined;
  const v = decide(
    { namespace: m.metadata.namespace, labels, secretId: m.spec.secretId, resolved },
    compiled,
    defaultPolicy,
  );
  return v.allowed ? { verdict: 'allowed', by: v.by } : { verdict: 'refused', message: v.message };
}

/**
 * The targets in the order a rotation reaches them, each with its stage (1-based) in a Staged
 * mapping: stagedOrder cut into stages of stageSizeOf; missing workloads last, in no stage. Pure.
 */
function staged(m: Mapping, targets: Target[]): { target: Target; stage?: number }[] {
  if (m.spec.rollout?.strategy !== 'Staged') return targets.map((target) => ({ target }));
  const plan: Planned[] = targets.filter((t) => t.exists).map((target) => ({ target, action: 'restart' }));
  const size = stageSizeOf(m.spec.rollout.stageSize, plan.length);
  return [
    ...stagedOrder(m.spec, plan).map((p, i) => ({ target: p.target, stage: Math.floor(i / size) + 1 })),
    ...targets.filter((t) => !t.exists).map((target) => ({ target })),
  ];
}

/** spec.rollout with its defaults, and how many stages the targets make. */
function rolloutOf(m: Mapping, stages: number): MappingImpact['rollout'] {
  const r = m.spec.rollout;
  if (r?.strategy !== 'Staged') return { strategy: 'AllAtOnce' };
  return {
    strategy: 'Staged',
    stageSize: r.stageSize ?? 1,
    pause: r.pause ?? '0s',
    onFailure: r.onFailure ?? 'Halt',
    stages,
  };
}

function windowsOf(m: Mapping, now: number): MappingImpact['windows'] {
  const configured = m.spec.restartWindows ?? [];
  const problems = windowProblems(configured);
  if (problems.length) return { configured, open: false, problems };
  const v = windowVerdict(configured, now);
  return {
    configured,
    open: v.open,
    opensAt: v.opensAt ? new Date(v.opensAt).toISOString() : undefined,
    problems,
  };
}

function outcomeOf(i: Omit<MappingImpact, 'outcome'>): string {
  const existing = i.targets.filter((t) => t.exists).length;
  if (i.policy.verdict === 'refused') return 'refused by policy: nothing restarts (NotAllowed)';
  if (i.suspend) return `suspended: nothing restarts (${existing} workload(s) targeted)`;
  if (!existing) return 'no workload to restart';
  if (i.windows.problems.length) return 'restart windows invalid: nothing restarts (InvalidSpec)';
  const how = i.rollout.stages ? ` in ${i.rollout.stages} stage(s)` : '';
  const when = i.windows.open
    ? 'now'
    : i.windows.opensAt
      ? `when the next restart window opens, at ${i.windows.opensAt}`
      : 'never: no restart window opens within four years';
  return `restarts ${existing} workload(s)${how} ${when}`;
}

const target = (t: Target, stage: number | undefined): ImpactTarget => ({
  stage,
  kind: t.kind,
  name: t.name,
  exists: t.exists,
  via: t.via ?? [],
  waitsForSync: t.externalSecrets ?? [],
  blocked: t.blocked,
  rollout: t.rollout,
});

/**
 * What a rotation of the secret now would do to mapping `m`: its targets (selector, list and, with
 * spec.discover, the consumers through SecretProviderClasses and ExternalSecrets — selectTargets),
 * their stage order, the windows and the policy verdict, from API objects only. Pure.
 */
export function impactOf(
  w: { mapping: Mapping; by: MatchedBy },
  ns: Namespaced,
  policy: PolicyVerdict,
  now: number,
): MappingImpact {
  const m = w.mapping;
  const consumersKnown = ns.providerClasses !== undefined && ns.externalSecrets !== undefined;
  const carriers = carriersOf(watchedSecret(m), ns.providerClasses ?? [], ns.externalSecrets ?? []);
  const consumption: Map<string, Consumption> = consumersOf(carriers, ns.workloads);
  const targets = selectTargets(m.spec, ns.workloads, consumption);
  const ordered = staged(m, targets);
  const base: Omit<MappingImpact, 'outcome'> = {
    namespace: m.metadata.namespace,
    name: m.metadata.name,
    secretId: m.spec.secretId,
    matchedBy: w.by,
    secretArn: m.status?.secretArn,
    policy,
    suspend: m.spec.suspend === true,
    minRestartInterval: m.spec.minRestartInterval,
    rollout: rolloutOf(m, Math.max(0, ...ordered.map((o) => o.stage ?? 0))),
    windows: windowsOf(m, now),
    consumersKnown,
    targets: ordered.map((o) => target(o.target, o.stage)),
  };
  return { ...base, outcome: outcomeOf(base) };
}
