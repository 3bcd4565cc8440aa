import type {
  Condition,
  Mapping,
  MappingStatus,
  StagedRolloutState,
  StagedRolloutStatus,
  WorkloadStatus,
} from '../../resources/types.js';
import { rolloutCondition } from './rollout.js';

export const READY = 'Ready';
export const ROLLOUT_COMPLETE = 'RolloutComplete';

/** Reasons on the Ready condition (and Event reasons), as named constants. */
export const Reason = {
  WatchingSecret: 'WatchingSecret',
  NoWorkloads: 'NoWorkloads',
  InvalidSpec: 'InvalidSpec',
  SecretNotFound: 'SecretNotFound',
  AccessDenied: 'AccessDenied',
  AwsError: 'AwsError',
  RestartFailed: 'RestartFailed',
  Suspended: 'Suspended',
  SyncTimedOut: 'SyncTimedOut',
  NotAllowed: 'NotAllowed',
  TooManyWorkloads: 'TooManyWorkloads',
  WorkloadsNotListed: 'WorkloadsNotListed',
  ConsumersNotListed: 'ConsumersNotListed',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/**
 * Sets `cond` in `conditions` (by type), keeping lastTransitionTime when the status did not change,
 * as metav1.Condition requires. Returns a new array.
 */
export function setCondition(
  conditions: Condition[] | undefined,
  cond: Omit<Condition, 'lastTransitionTime'>,
  now: string,
): Condition[] {
  const list = conditions ?? [];
  const existing = list.find((c) => c.type === cond.type);
  const lastTransitionTime = existing && existing.status === cond.status ? existing.lastTransitionTime : now;
  return [...list.filter((c) => c.type !== cond.type), { ...cond, lastTransitionTime }];
}

export function readyCondition(conditions: Condition[] | undefined): Condition | undefined {
  return conditions?.find((c) => c.type === READY);
}

/**
 * The part of a status this operator applies (server-side apply, field manager ours): every field
 * but the conditions other controllers own. Sending theirs back, even unchanged, would make us
 * co-own them (with force) and take them over on the next change.
 */
export function ownedStatus(s: MappingStatus): MappingStatus {
  const ours = [READY, ROLLOUT_COMPLETE];
  return withinBounds({ ...s, conditions: s.conditions?.filter((c) => ours.includes(c.type)) });
}

/** The CRD's bounds on status text (see secretsrotationmapping.crd.yaml; status.test checks them). */
export const STATUS_BOUNDS = {
  workloadMessage: 4096,
  conditionMessage: 32768,
  via: 64,
  rolloutMessage: 4096,
  haltedWith: 256,
  revertWorkload: 300,
  revertRefused: 4096,
} as const;

const cut = (text: string | undefined, max: number): string | undefined =>
  text === undefined || text.length <= max ? text : `${text.slice(0, max - 1)}…`;

/**
 * Texts cut to the schema's bounds: a message quoting a server's answer (an admission policy's
 * denial) can be longer than the CRD allows, and a status write refused for it would lose the rest. Pure.
 */
function withinBounds(s: MappingStatus): MappingStatus {
  return {
    ...s,
    rollout: s.rollout && rolloutWithinBounds(s.rollout),
    workloads: s.workloads?.map((w) => ({
      ...w,
      message: cut(w.message, STATUS_BOUNDS.workloadMessage),
      via: w.via?.slice(0, STATUS_BOUNDS.via),
    })),
    conditions: s.conditions?.map((c) => ({
      ...c,
      message: cut(c.message, STATUS_BOUNDS.conditionMessage) ?? '',
    })),
  };
}

/**
 * A staged rotation's texts cut to the schema's bounds: its message quotes the resume annotation
 * (anyone who may annotate the mapping chooses it), a revert's refusal quotes AWS. haltedWith is
 * recorded short (recordedResume): cutting it here is the last guard, not the way it fits. Pure.
 */
function rolloutWithinBounds(r: StagedRolloutStatus): StagedRolloutStatus {
  const revert = r.revert && {
    ...r.revert,
    workload: cut(r.revert.workload, STATUS_BOUNDS.revertWorkload) ?? '',
    refused: cut(r.revert.refused, STATUS_BOUNDS.revertRefused),
  };
  return {
    ...r,
    message: cut(r.message, STATUS_BOUNDS.rolloutMessage),
    haltedWith: cut(r.haltedWith, STATUS_BOUNDS.haltedWith),
    ...(revert ? { revert } : {}),
  };
}

/** True when writing `next` would change nothing a reader sees (so the write is skipped). */
export function sameStatus(prev: MappingStatus | undefined, next: MappingStatus): boolean {
  return JSON.stringify(normalise(prev ?? {})) === JSON.stringify(normalise(next));
}

/**
 * Keys sorted at every depth, undefined dropped, conditions by type: the API server returns a
 * custom resource's objects with their keys sorted, so a status compared as computed (a staged
 * rollout's, an entry's sync request) differed from itself and was written again on every pass.
 */
function normalise(s: MappingStatus): unknown {
  return sorted({
    ...s,
    conditions: s.conditions?.slice().sort((a, b) => String(a.type).localeCompare(String(b.type))),
  });
}

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (!v || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, x]) => [k, sorted(x)]),
  );
}

export interface StatusInput {
  mapping: Mapping;
  secretArn: string;
  currentVersionId: string;
  /** Per entry: whether the pass planned a restart for it. */
  restarted: boolean[];
  /** Every target's status entry after the pass. */
  entries: WorkloadStatus[];
  /** A Staged mapping's progress (staging.ts). */
  rollout?: StagedRolloutStatus;
  now: string;
}

type Ready = Omit<Condition, 'lastTransitionTime'>;

const ready = (m: Mapping, status: Condition['status'], reason: Reason, message: string): Ready => ({
  type: READY,
  status,
  reason,
  message,
  observedGeneration: m.metadata.generation,
});

/** The Ready condition a pass concludes from its entries. Pure. */
export function readyFor(input: StatusInput): Ready {
  const { mapping: m, entries } = input;
  const failed = entries.filter((e) => e.state === 'Failed').length;
  const existing = entries.filter((e) => e.state !== 'Missing').length;
  if (failed > 0)
    return ready(m, 'False', Reason.RestartFailed, `${failed} workload(s) could not be restarted; retrying`);
  const unsynced = entries.filter((e) => e.state === 'SyncTimedOut');
  if (unsynced.length > 0) {
    const names = unsynced.map((e) => `${e.kind}/${e.name}`).join(', ');
    return ready(
      m,
      'False',
      Reason.SyncTimedOut,
      `waiting past the sync timeout for the ExternalSecrets of ${names}`,
    );
  }
  if (existing === 0) {
    const kinds = (m.spec.kinds ?? ['workload']).join('/');
    return ready(
      m,
      'False',
      Reason.NoWorkloads,
      `no ${kinds} in ${m.metadata.namespace} matches the mapping`,
    );
  }
  if (m.spec.suspend)
    return ready(m, 'True', Reason.Suspended, `suspended: watching ${input.secretArn}, restarting nothing`);
  return ready(m, 'True', Reason.WatchingSecret, `watching ${input.secretArn}; ${existing} workload(s)`);
}

/**
 * The status a successful pass writes. currentVersionId moves to the secret's version only when every
 * existing target runs it (a Pending or Failed one keeps the baseline, so it is retried).
 */
export function desiredStatus(input: StatusInput): MappingStatus {
  const { mapping: m, entries, now } = input;
  const prev = m.status ?? {};
  const allCurrent = entries.every((e) => e.state === 'Missing' || e.versionId === input.currentVersionId);
  const restarted = entries.some(
    (e, i) => input.restarted[i] && e.state !== 'Failed' && e.state !== 'Missing',
  );
  const conditions = setCondition(prev.conditions, readyFor(input), now);
  const rollout = stagedCondition(input.rollout) ?? rolloutCondition(entries);
  return {
    observedGeneration: m.metadata.generation,
    secretArn: input.secretArn,
    currentVersionId: allCurrent ? input.currentVersionId : (prev.currentVersionId ?? input.currentVersionId),
    lastRotationTime: restarted ? now : prev.lastRotationTime,
    matchedWorkloads: entries.filter((e) => e.state !== 'Missing').length,
    workloads: entries,
    rollout: input.rollout,
    conditions: rollout
      ? setCondition(
          conditions,
          { type: ROLLOUT_COMPLETE, observedGeneration: m.metadata.generation, ...rollout },
          now,
        )
      : conditions.filter((c) => c.type !== ROLLOUT_COMPLETE),
  };
}

/** States of a staged rotation that RolloutComplete reports as such, whatever the workloads show. */
const STAGED_REASONS: Partial<Record<StagedRolloutState, string>> = {
  Halted: 'RolloutHalted',
  Reverting: 'RotationReverting',
  Reverted: 'RotationReverted',
};

/** RolloutComplete for a halted or reverted staged rotation; undefined for the others. Pure. */
function stagedCondition(
  r: StagedRolloutStatus | undefined,
): { status: 'False'; reason: string; message: string } | undefined {
  const reason = r && STAGED_REASONS[r.state];
  return reason ? { status: 'False', reason, message: r.message ?? r.state } : undefined;
}

/** `status` with another status.rollout, halted or reverted, and its RolloutComplete condition. Pure. */
export function withStagedRollout(
  m: Mapping,
  status: MappingStatus,
  rollout: StagedRolloutStatus,
  now: string,
): MappingStatus {
  const cond = stagedCondition(rollout);
  if (!cond) return { ...status, rollout };
  const conditions = setCondition(
    status.conditions,
    { type: ROLLOUT_COMPLETE, observedGeneration: m.metadata.generation, ...cond },
    now,
  );
  return { ...status, rollout, conditions };
}

/**
 * The status of a pass that stopped at `reason` (bad spec, secret unavailable): the rest is kept —
 * unless `forgetSecret` (a mapping its policies do not allow): then nothing of the secret remains
 * (ARN, versions, rotation dates, per-workload versions), only why. Pure.
 */
export function failedStatus(
  m: Mapping,
  reason: Reason,
  message: string,
  opts: { now: string; forgetSecret?: boolean },
): MappingStatus {
  const prev = m.status ?? {};
  const conditions = setCondition(prev.conditions, ready(m, 'False', reason, message), opts.now);
  if (opts.forgetSecret)
    return {
      observedGeneration: m.metadata.generation,
      conditions: conditions.filter((c) => c.type === READY),
    };
  return { ...prev, observedGeneration: m.metadata.generation, conditions };
}
