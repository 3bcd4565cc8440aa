import assert from 'node:assert/strict';
import { test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../../e2e/env/paths.js';
import type { Mapping, MappingSpec, StagedRolloutStatus, WorkloadStatus } from '../../resources/types.js';
import type { Planned } from './restart-plan.js';
import { stageRestarts } from './staging.js';
import {
  STATUS_BOUNDS,
  desiredStatus,
  failedStatus,
  ownedStatus,
  readyCondition,
  type StatusInput,
} from './status.js';

const NOW = '2026-11-29T10:00:00.000Z';
const EARLIER = '2026-11-28T10:00:00.000Z';

function mapping(spec: Partial<MappingSpec> = {}, status: Mapping['status'] = undefined): Mapping {
  return {
    apiVersion: 'secretsrotation.io/v1alpha1',
    kind: 'SecretsRotationMapping',
    metadata: { name: 'm', namespace: 'ns', generation: 3 },
    spec: { secretId: 's', selector: { matchLabels: { a: 'b' } }, ...spec },
    status,
  };
}

const entry = (
  name: string,
  state: WorkloadStatus['state'],
  versionId = 'v2',
  rollout?: WorkloadStatus['rollout'],
) => ({
  kind: 'Deployment' as const,
  name,
  state,
  versionId,
  ...(rollout ? { rollout } : {}),
});

const input = (over: Partial<StatusInput>): StatusInput => ({
  mapping: mapping(),
  secretArn: 'arn:s',
  currentVersionId: 'v2',
  restarted: [],
  entries: [],
  now: NOW,
  ...over,
});

test('desiredStatus: a table of pass outcomes', () => {
  const cases: {
    name: string;
    in: StatusInput;
    ready: [string, string];
    version: string;
    rotation?: string;
    rollout?: string;
  }[] = [
    {
      name: 'every target restarted',
      in: input({ entries: [entry('a', 'Restarted', 'v2', 'InProgress')], restarted: [true] }),
      ready: ['True', 'WatchingSecret'],
      version: 'v2',
      rotation: NOW,
      rollout: 'RolloutInProgress',
    },
    {
      name: 'a pending target keeps the baseline',
      in: input({
        mapping: mapping({}, { currentVersionId: 'v1' }),
        entries: [entry('a', 'Restarted'), entry('b', 'Pending', 'v1')],
        restarted: [true, false],
      }),
      ready: ['True', 'WatchingSecret'],
      version: 'v1',
      rotation: NOW,
    },
    {
      name: 'a failed restart',
      in: input({
        mapping: mapping({}, { currentVersionId: 'v1', lastRotationTime: EARLIER }),
        entries: [entry('a', 'Failed', 'v1')],
        restarted: [true],
      }),
      ready: ['False', 'RestartFailed'],
      version: 'v1',
      rotation: EARLIER,
    },
    {
      name: 'only missing targets',
      in: input({ entries: [entry('a', 'Missing', undefined)] }),
      ready: ['False', 'NoWorkloads'],
      version: 'v2',
    },
    {
      name: 'suspended',
      in: input({ mapping: mapping({ suspend: true }), entries: [entry('a', 'Current')] }),
      ready: ['True', 'Suspended'],
      version: 'v2',
    },
    {
      name: 'one restart waits for its ExternalSecret, another timed out waiting',
      in: input({
        mapping: mapping({}, { currentVersionId: 'v1' }),
        entries: [entry('a', 'WaitingForSync', 'v1'), entry('b', 'SyncTimedOut', 'v1')],
      }),
      ready: ['False', 'SyncTimedOut'],
      version: 'v1',
    },
    {
      name: 'waiting for a sync, not yet timed out',
      in: input({
        mapping: mapping({}, { currentVersionId: 'v1' }),
        entries: [entry('a', 'WaitingForSync', 'v1')],
      }),
      ready: ['True', 'WatchingSecret'],
      version: 'v1',
    },
    {
      name: 'rollouts complete',
      in: input({ entries: [entry('a', 'Restarted', 'v2', 'Complete')] }),
      ready: ['True', 'WatchingSecret'],
      version: 'v2',
      rollout: 'RolloutComplete',
    },
  ];
  for (const c of cases) {
    const s = desiredStatus(c.in);
    const r = readyCondition(s.conditions);
    assert.deepEqual([r?.status, r?.reason], c.ready, c.name);
    assert.equal(r?.observedGeneration, 3, c.name);
    assert.equal(s.observedGeneration, 3, c.name);
    assert.equal(s.currentVersionId, c.version, c.name);
    assert.equal(s.lastRotationTime, c.rotation, c.name);
    assert.equal(s.conditions?.find((x) => x.type === 'RolloutComplete')?.reason, c.rollout, c.name);
  }
});

test('desiredStatus keeps lastTransitionTime while Ready does not change status', () => {
  const prev = desiredStatus(input({ entries: [entry('a', 'Current')], now: EARLIER }));
  const next = desiredStatus(input({ mapping: mapping({}, prev), entries: [entry('a', 'Current')] }));
  assert.equal(readyCondition(next.conditions)?.lastTransitionTime, EARLIER);
});

test('failedStatus sets Ready=False and keeps what the mapping reported before', () => {
  const m = mapping({}, { currentVersionId: 'v1', workloads: [entry('a', 'Current', 'v1')] });
  const s = failedStatus(m, 'SecretNotFound', 'gone', { now: NOW });
  assert.equal(s.currentVersionId, 'v1');
  assert.equal(s.workloads?.length, 1);
  assert.deepEqual(
    [
      readyCondition(s.conditions)?.status,
      readyCondition(s.conditions)?.reason,
      readyCondition(s.conditions)?.message,
    ],
    ['False', 'SecretNotFound', 'gone'],
  );
});

test('failedStatus with forgetSecret keeps nothing of the secret, only why (a mapping not allowed)', () => {
  const m = mapping(
    {},
    {
      secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbC123',
      currentVersionId: 'v1',
      lastRotationTime: EARLIER,
      matchedWorkloads: 1,
      workloads: [entry('a', 'Current', 'v1')],
    },
  );
  const s = failedStatus(m, 'NotAllowed', 'not allowed', { now: NOW, forgetSecret: true });
  assert.deepEqual(Object.keys(s).sort(), ['conditions', 'observedGeneration']);
  assert.deepEqual(
    s.conditions?.map((c) => [c.type, c.status, c.reason]),
    [['Ready', 'False', 'NotAllowed']],
  );
  assert.doesNotMatch(JSON.stringify(s), /arn:|v1/);
});

test('ownedStatus cuts texts to the CRD bounds, so a long server answer never makes the status write fail', () => {
  const long = 'x'.repeat(STATUS_BOUNDS.conditionMessage + 10);
  const s = ownedStatus({
    workloads: [
      {
        ...entry('a', 'Failed'),
        message: long,
        via: Array.from({ length: 70 }, (_, i) => `ExternalSecret/e${i}`),
      },
    ],
    conditions: [
      { type: 'Ready', status: 'False', reason: 'RestartFailed', message: long, lastTransitionTime: NOW },
    ],
  });
  assert.equal(s.workloads?.[0].message?.length, STATUS_BOUNDS.workloadMessage);
  assert.ok(s.workloads?.[0].message?.endsWith('…'));
  assert.equal(s.workloads?.[0].via?.length, STATUS_BOUNDS.via);
  assert.equal(s.conditions?.[0].message.length, STATUS_BOUNDS.conditionMessage);
  const short = ownedStatus({
    conditions: [{ type: 'Ready', status: 'True', reason: 'R', message: 'ok', lastTransitionTime: NOW }],
  });
  assert.equal(short.conditions?.[0].message, 'ok');
});

test("ownedStatus leaves other writers' conditions out of what the operator applies", () => {
  const other = {
    type: 'Audited',
    status: 'True' as const,
    reason: 'X',
    message: '',
    lastTransitionTime: NOW,
  };
  const s = desiredStatus(
    input({ mapping: mapping({}, { conditions: [other] }), entries: [entry('a', 'Current')] }),
  );
  assert.ok(
    s.conditions?.some((c) => c.type === 'Audited'),
    'the full status still sees them',
  );
  assert.deepEqual(
    ownedStatus(s).conditions?.map((c) => c.type),
    ['Ready'],
  );
});

test('sameStatus: a status as the API server returns it (every object key sorted) equals the one a pass computes', async () => {
  const { sameStatus } = await import('./status.js');
  /** JSON as the API server serialises a custom resource: keys in sorted order, at every depth. */
  const asServed = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(asServed)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([, x]) => x !== undefined)
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([k, x]) => [k, asServed(x)]),
          )
        : v;
  const computed = {
    currentVersionId: 'v2',
    rollout: {
      versionId: 'v2',
      stage: 3,
      stages: 3,
      state: 'Complete' as const,
      progress: '3/3 Complete',
      completedStage: 3,
      completedAt: '2026-12-06T00:00:00Z',
      resumedStage: undefined,
    },
    workloads: [
      {
        kind: 'Deployment' as const,
        name: 'api',
        versionId: 'v2',
        state: 'Restarted' as const,
        sync: { versionId: 'v2', requestedAt: '2026-12-06T00:00:00Z' },
      },
    ],
  };
  assert.equal(
    sameStatus(asServed(computed) as typeof computed, computed),
    true,
    'a staged mapping wrote its unchanged status on every pass',
  );
});

// The bounds against the CRD itself: a status beyond them is refused (422) on every write.
interface Bounded {
  properties?: Record<string, Bounded>;
  items?: Bounded;
  maxLength?: number;
  maxItems?: number;
}
const crdStatus = (
  parse(fs.readFileSync(path.join(repoRoot, 'resources', 'secretsrotationmapping.crd.yaml'), 'utf8')) as {
    spec: { versions: { schema: { openAPIV3Schema: Bounded } }[] };
  }
).spec.versions[0].schema.openAPIV3Schema.properties?.status as Bounded;

/** The schema at a path of property names (`items` steps into an array's items). */
const schemaAt = (...keys: string[]): Bounded | undefined =>
  keys.reduce<Bounded | undefined>((s, k) => (k === 'items' ? s?.items : s?.properties?.[k]), crdStatus);

const tooLong = (schema: Bounded, value: string, at: string): string[] =>
  schema.maxLength !== undefined && value.length > schema.maxLength ? [`${at} (${value.length})`] : [];

const tooMany = (schema: Bounded, value: unknown[], at: string): string[] =>
  schema.maxItems !== undefined && value.length > schema.maxItems ? [`${at} (${value.length} items)`] : [];

/** Where `value` goes beyond the schema's maxLength/maxItems (paths), recursively. */
function beyond(schema: Bounded | undefined, value: unknown, at = 'status'): string[] {
  if (!schema || value === undefined || value === null) return [];
  if (typeof value === 'string') return tooLong(schema, value, at);
  if (Array.isArray(value))
    return [
      ...tooMany(schema, value, at),
      ...value.flatMap((v, i) => beyond(schema.items, v, `${at}[${i}]`)),
    ];
  if (typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => beyond(schema.properties?.[k], v, `${at}.${k}`));
  return [];
}

test('STATUS_BOUNDS are the CRD’s', () => {
  const length = (...keys: string[]): number | undefined => schemaAt(...keys)?.maxLength;
  assert.deepEqual(STATUS_BOUNDS, {
    workloadMessage: length('workloads', 'items', 'message'),
    conditionMessage: length('conditions', 'items', 'message'),
    via: schemaAt('workloads', 'items', 'via')?.maxItems,
    rolloutMessage: length('rollout', 'message'),
    haltedWith: length('rollout', 'haltedWith'),
    revertWorkload: length('rollout', 'revert', 'workload'),
    revertRefused: length('rollout', 'revert', 'refused'),
  });
});

test('a hostile resume annotation still gives a status within the CRD’s bounds', () => {
  const spec = {
    workloads: ['c', 'a'].map((name) => ({ kind: 'Deployment' as const, name })),
    rollout: { strategy: 'Staged' as const, stageSize: 1, onFailure: 'Halt' as const },
  };
  const plan: Planned[] = [
    {
      target: { kind: 'Deployment', name: 'a', exists: true },
      action: 'restart',
      previous: { kind: 'Deployment', name: 'a', versionId: 'v1' },
    },
    {
      target: { kind: 'Deployment', name: 'c', exists: true },
      action: 'current',
      previous: { kind: 'Deployment', name: 'c', versionId: 'v2', rollout: 'Failed' },
    },
  ];
  const staging = (resume: string, previous?: StagedRolloutStatus) =>
    stageRestarts({
      spec: { secretId: 's', ...spec },
      plan,
      currentVersionId: 'v2',
      baselineVersionId: 'v1',
      previous,
      resume,
      now: Date.parse(NOW),
      rolloutNow: (p) => p.previous?.rollout,
    });
  // A hand-set value longer than haltedWith's bound at a fresh halt.
  const long = 'x'.repeat(300);
  const fresh = staging(long);
  assert.equal(fresh.status?.state, 'Halted');
  // A pin naming another halt whose version is 5,000 characters: quoted in the message.
  const pin = `version=${'v'.repeat(5000)},stage=1,at=${NOW}`;
  const other = staging(pin, fresh.status);
  assert.equal(other.status?.state, 'Halted', 'the pin names another halt: not resumed');
  for (const rollout of [fresh.status, other.status]) {
    const status = ownedStatus({ currentVersionId: 'v1', rollout });
    assert.deepEqual(beyond(crdStatus, status), []);
  }
  // The long value as recorded still tells the halt's own value from a new one.
  assert.equal(
    staging(long, fresh.status).status?.state,
    'Halted',
    'the value it halted with does not resume',
  );
  assert.equal(staging(`${long}y`, fresh.status).status?.state, 'Progressing', 'a new value resumes');
});
