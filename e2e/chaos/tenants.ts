import { parseDuration } from '../../operator/runtime/duration.js';
import type { MappingSpec } from '../../resources/types.js';
import { kc, releaseMappings, type Owner } from '../harness.js';
import { createWorkload } from '../workloads-fixtures.js';
import type { ChaosSecret } from './faults.js';
import type { Rng } from './rng.js';
import type { StageLedger } from './stage-ledger.js';
import { hostileSpec, secretIdForms, WIDE_LABELS } from './tenant-specs.js';
import type { TenancyLedger } from './tenancy-ledger.js';

/** The largest progressDeadlineSeconds a Deployment takes: a rollout that never fails by itself. */
const NEVER = 2_147_483_647;
const MAX_GENERATED = 5;

/**
 * The hostile tenants: two namespaces of their own (never the tracked one, never the quiet one), each
 * with a staged mapping the stage ledger checks, generated mappings over "wide" workloads, and
 * SecretsRotationPolicies: h0 governed by policy A while labelled for it (unrestricted when not), h1
 * by policy B, which never allows the `forbidden` secret.
 */
export interface Tenants {
  namespaces: [string, string];
  /** The hostile secrets: two the tenants may map, and one h1 never may. */
  secrets: ChaosSecret[];
  forbidden: ChaosSecret;
  policyA: { name: string; allowed: Set<string> };
  policyB: { name: string; allowed: Set<string> };
  h0Governed: boolean;
  /** Every hostile mapping (namespace/name) → its spec, as last applied. */
  mappings: Map<string, MappingSpec>;
  /** Extra wide workloads (namespace/name) the tenants may delete. */
  extra: string[];
  secretIds: string[];
  made: number;
}

const RUN_LABEL = 'chaos.secretsrotation.io/run';

/** Server-side apply: the widest selector is too large for kubectl's last-applied annotation. */
export async function applyObject(obj: object): Promise<void> {
  await kc(
    ['apply', '--server-side', '--force-conflicts', '--field-manager=chaos', '-f', '-'],
    JSON.stringify(obj),
  );
}

export const applyHostile = (ns: string, name: string, spec: MappingSpec): Promise<void> =>
  applyObject({
    apiVersion: 'secretsrotation.io/v1alpha1',
    kind: 'SecretsRotationMapping',
    metadata: { name, namespace: ns },
    spec,
  });

/**
 * An allowedSecrets entry for `s`: its name, or a name glob (`?`, `*`) that only it matches. Name
 * patterns, never ARN ones: an ARN pattern allows only mappings naming the secret by ARN (see the
 * CRD), and the tenancy ledger judges by secret, whatever form a mapping names it in.
 */
const globOf = (rng: Rng, s: ChaosSecret): string =>
  rng.pick([s.name, `${s.name.slice(0, -2)}??`, `${s.name.slice(0, -3)}*`]);

export async function applyPolicies(t: Tenants, rng: Rng, all: ChaosSecret[]): Promise<void> {
  const [h0, h1] = t.namespaces;
  const entries = (allowed: Set<string>): string[] => {
    const out = all.filter((s) => allowed.has(s.name)).map((s) => globOf(rng, s));
    // allowedSecrets needs an entry: one that matches nothing.
    return out.length ? out : ['chaos-nothing-matches-this'];
  };
  const policy = (name: string, labels: Record<string, string>, allowed: Set<string>): object => ({
    apiVersion: 'secretsrotation.io/v1alpha1',
    kind: 'SecretsRotationPolicy',
    metadata: { name },
    spec: { namespaceSelector: { matchLabels: labels }, allowedSecrets: entries(allowed) },
  });
  await applyObject(policy(t.policyA.name, { [RUN_LABEL]: h0, 'chaos-policy': 'a' }, t.policyA.allowed));
  await applyObject(policy(t.policyB.name, { [RUN_LABEL]: h1 }, t.policyB.allowed));
}

/** What the tenancy ledger must know after a policy or label change made at `at`. */
export function recordAllowed(t: Tenants, tenancy: TenancyLedger, at: number): void {
  tenancy.allow(t.namespaces[0], t.h0Governed ? t.policyA.allowed : 'all', at);
  tenancy.allow(t.namespaces[1], t.policyB.allowed, at);
}

/** Creates the tenants' namespaces, policies, workloads and first mappings (see Tenants). */
export async function setUpTenants(
  scope: Owner,
  rng: Rng,
  secrets: { hostile: ChaosSecret[]; forbidden: ChaosSecret; tracked: ChaosSecret[] },
  ledgers: { tenancy: TenancyLedger; stages: StageLedger },
): Promise<Tenants> {
  const h0 = `${scope.namespace}-h0`;
  const h1 = `${scope.namespace}-h1`;
  const [a, b] = secrets.hostile;
  const t: Tenants = {
    namespaces: [h0, h1],
    secrets: [...secrets.hostile, secrets.forbidden],
    forbidden: secrets.forbidden,
    policyA: { name: `${scope.namespace}-a`, allowed: new Set([a.name, b.name]) },
    policyB: { name: `${scope.namespace}-b`, allowed: new Set([a.name, b.name]) },
    h0Governed: true,
    mappings: new Map(),
    extra: [],
    secretIds: [...secrets.hostile, secrets.forbidden, secrets.tracked[0]].flatMap(secretIdForms),
    made: 0,
  };
  recordAllowed(t, ledgers.tenancy, Date.now());
  for (const [i, ns] of t.namespaces.entries()) {
    await kc(['create', 'namespace', ns]);
    await kc(['label', 'namespace', ns, `${RUN_LABEL}=${ns}`, ...(i === 0 ? ['chaos-policy=a'] : [])]);
    // Replicas are gone by then: their finalizers are stripped, or the namespace stays Terminating.
    scope.cleanups.push(() =>
      releaseMappings(ns, false).then(() => kc(['delete', 'namespace', ns, '--wait=false'])),
    );
  }
  for (const p of [t.policyA.name, t.policyB.name])
    scope.cleanups.push(() => kc(['delete', 'srpol', p, '--ignore-not-found']));
  await applyPolicies(t, rng, t.secrets);
  for (const [i, ns] of t.namespaces.entries()) {
    // Wide workloads: the widest selector matches them; the last one's rollouts never end.
    for (let w = 0; w < 3; w++)
      await createWorkload({ kind: 'Deployment', namespace: ns, name: `wide-${w}` }, WIDE_LABELS, {
        replicas: 1,
        ...(w === 2 ? { unschedulable: true, progressDeadlineSeconds: NEVER } : {}),
      });
    await stagedMapping(ns, i as 0 | 1, secrets.hostile[i], { ...t, stages: ledgers.stages });
    for (let g = 0; g < 2; g++) await createGenerated(t, rng, ns);
  }
  return t;
}

/** The staged mappings' shape in h0 and h1: which workload fails or never ends, stage size, pause. */
const STAGED = [
  { failing: 1, endless: -1, stageSize: 2, pause: '1s', onFailure: 'Halt', form: 0, zone: 'Asia/Kathmandu' },
  {
    failing: -1,
    endless: 2,
    stageSize: 1,
    pause: '2s',
    onFailure: 'Continue',
    form: 2,
    zone: 'Pacific/Chatham',
  },
] as const;

/**
 * The staged mapping the stage ledger checks: four workloads listed, never edited. In h0 the second
 * one fails (progress deadline 3 s) and the rotation halts at stage 1; in h1 the third never ends
 * (ROLLOUT_DEADLINE ends it) and onFailure Continue goes on.
 */
async function stagedMapping(
  ns: string,
  i: 0 | 1,
  secret: ChaosSecret,
  t: Tenants & { stages: StageLedger },
): Promise<void> {
  const shape = STAGED[i];
  const names = [0, 1, 2, 3].map((j) => `stg-${j}`);
  for (const [j, name] of names.entries()) {
    const deadline = j === shape.failing ? 3 : j === shape.endless ? NEVER : undefined;
    await createWorkload(
      { kind: 'Deployment', namespace: ns, name },
      { staged: 'yes' },
      {
        replicas: 1,
        ...(deadline ? { unschedulable: true, progressDeadlineSeconds: deadline } : {}),
      },
    );
  }
  const spec: MappingSpec = {
    secretId: secretIdForms(secret)[shape.form],
    workloads: names.map((name) => ({ kind: 'Deployment', name })),
    rollout: {
      strategy: 'Staged',
      stageSize: shape.stageSize,
      pause: shape.pause,
      onFailure: shape.onFailure,
    },
    restartWindows: [{ schedule: '* * * * *', duration: '168h', timeZone: shape.zone }],
  };
  t.mappings.set(`${ns}/staged`, spec);
  t.stages.track(`${ns}/srm/staged`, {
    secret: secret.name,
    workloads: names.map((n) => `${ns}/Deployment/${n}`),
    stageSize: shape.stageSize,
    pauseMs: parseDuration(shape.pause),
  });
  await applyHostile(ns, 'staged', spec);
}

async function createGenerated(t: Tenants, rng: Rng, ns: string): Promise<string> {
  const name = `gen-${t.made++}`;
  const spec = hostileSpec(rng, t.secretIds, ['wide-0', 'wide-1', 'wide-2', ...extraIn(t, ns)]);
  t.mappings.set(`${ns}/${name}`, spec);
  await applyHostile(ns, name, spec);
  return name;
}

const extraIn = (t: Tenants, ns: string): string[] =>
  t.extra.filter((k) => k.startsWith(`${ns}/`)).map((k) => k.slice(ns.length + 1));

const generatedIn = (t: Tenants, ns: string): string[] =>
  [...t.mappings.keys()].filter((k) => k.startsWith(`${ns}/gen-`)).map((k) => k.slice(ns.length + 1));

type Act = (t: Tenants, rng: Rng, ns: string) => Promise<string>;

const wideIn = (t: Tenants, ns: string): string[] => ['wide-0', 'wide-1', 'wide-2', ...extraIn(t, ns)];

const ACTS: Record<'create' | 'edit' | 'delete' | 'suspend' | 'workload', Act> = {
  create: async (t, rng, ns) => `created ${await createGenerated(t, rng, ns)}`,
  edit: async (t, rng, ns) => {
    const name = rng.pick(generatedIn(t, ns));
    const spec = hostileSpec(rng, t.secretIds, wideIn(t, ns));
    t.mappings.set(`${ns}/${name}`, spec);
    await applyHostile(ns, name, spec);
    return `edited ${name} (${spec.rollout?.strategy ?? 'AllAtOnce'}, ${spec.restartWindows?.length ?? 0} windows)`;
  },
  delete: async (t, rng, ns) => {
    const name = rng.pick(generatedIn(t, ns));
    t.mappings.delete(`${ns}/${name}`);
    await kc(['-n', ns, 'delete', 'srm', name, '--wait=false']);
    return `deleted ${name}`;
  },
  suspend: async (t, rng, ns) => {
    const name = rng.pick(['staged', ...generatedIn(t, ns)]);
    const spec = t.mappings.get(`${ns}/${name}`) as MappingSpec;
    const next = { ...spec, suspend: !spec.suspend };
    t.mappings.set(`${ns}/${name}`, next);
    await applyHostile(ns, name, next);
    return `${name} suspend ${String(next.suspend)}`;
  },
  workload: async (t, rng, ns) => {
    const extra = extraIn(t, ns);
    if (extra.length && rng.next() < 0.5) {
      const name = rng.pick(extra);
      t.extra = t.extra.filter((k) => k !== `${ns}/${name}`);
      await kc(['-n', ns, 'delete', 'deployment', name, '--wait=false']);
      return `deleted workload ${name}`;
    }
    const name = `wide-x${t.made++}`;
    t.extra.push(`${ns}/${name}`);
    await createWorkload({ kind: 'Deployment', namespace: ns, name }, WIDE_LABELS, {
      replicas: 1,
      unschedulable: true,
      progressDeadlineSeconds: NEVER,
    });
    return `created workload ${name} (never-ending rollouts)`;
  },
};

/**
 * One act of a hostile tenant: a new generated mapping, one edited or deleted mid-rollout, a suspend
 * flip (the staged ones too), a wide workload with a never-ending rollout created or deleted.
 */
export async function hostileTenant(t: Tenants, rng: Rng, note: (s: string) => void): Promise<void> {
  const ns = rng.pick(t.namespaces);
  const generated = generatedIn(t, ns).length;
  let act = rng.pick(Object.keys(ACTS) as (keyof typeof ACTS)[]);
  if (act === 'create' && generated >= MAX_GENERATED) act = 'edit';
  if ((act === 'edit' || act === 'delete') && !generated) act = 'create';
  note(`${ns}: ${await ACTS[act](t, rng, ns)}`);
}

/**
 * One policy change: policy A or B narrowed or widened by one secret (B never allows `forbidden`), or
 * h0 relabelled in or out of policy A. The ledger learns a widening from its request's start, a
 * narrowing from its answer (its lag covers the operator's cache after that).
 */
export async function policyChurn(
  t: Tenants,
  rng: Rng,
  tenancy: TenancyLedger,
  note: (s: string) => void,
): Promise<void> {
  const started = Date.now();
  const action = rng.pick(['narrow-a', 'widen-a', 'narrow-b', 'widen-b', 'relabel-h0'] as const);
  const widened = action === 'relabel-h0' ? await relabel(t, note) : await reallow(t, rng, action, note);
  recordAllowed(t, tenancy, widened ? started : Date.now());
}

/** h0 moved in or out of policy A; true when that widened what it may map (out: unrestricted). */
async function relabel(t: Tenants, note: (s: string) => void): Promise<boolean> {
  t.h0Governed = !t.h0Governed;
  note(`${t.namespaces[0]} ${t.h0Governed ? 'under' : 'out of'} policy A`);
  const label = t.h0Governed ? 'chaos-policy=a' : 'chaos-policy-';
  await kc(['label', 'namespace', t.namespaces[0], label, '--overwrite']);
  return !t.h0Governed;
}

/** One secret more or fewer in policy A or B (B never allows `forbidden`); true when widened. */
async function reallow(t: Tenants, rng: Rng, action: string, note: (s: string) => void): Promise<boolean> {
  const p = action.endsWith('-a') ? t.policyA : t.policyB;
  const pool = (p === t.policyA ? t.secrets : t.secrets.filter((s) => s !== t.forbidden)).map((s) => s.name);
  const widen = action.startsWith('widen');
  const candidates = widen ? pool.filter((n) => !p.allowed.has(n)) : [...p.allowed];
  if (candidates.length) {
    const name = rng.pick(candidates);
    if (widen) p.allowed.add(name);
    else p.allowed.delete(name);
  }
  note(`${action}: ${[...p.allowed].join(', ') || 'nothing'}`);
  await applyPolicies(t, rng, t.secrets);
  return widen;
}
