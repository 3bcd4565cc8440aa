import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { WorkloadStatus } from '../../resources/types.js';
import { runs } from '../testing/property-runs.js';
import { entryFor, planRestarts, versionStamp, type PlanInput, type Target } from './restart-plan.js';

/**
 * Properties of the restart plan (restart-plan.ts) over random mappings: which workloads a pass
 * restarts for a rotation, given what the status recorded and what each template's stamp says.
 */

const NOW = Date.parse('2026-12-06T12:00:00Z');
const VERSIONS = ['v1', 'v2', 'v3'];
const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];

/** A stamp: none, this secret at some version, another secret's, or something a tenant wrote. */
const stampArb = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(...VERSIONS).map((v) => versionStamp('s', v)),
  fc.constantFrom(...VERSIONS).map((v) => versionStamp('other', v)),
  fc.string({ maxLength: 8 }),
);

/** A time at most a day before now (the status's restartedAt), or none, or not a time. */
const restartedAtArb = fc.oneof(
  fc.constant(undefined),
  fc.constant('yesterday'),
  fc.integer({ min: 0, max: 86_400_000 }).map((ago) => new Date(NOW - ago).toISOString()),
);

/** A target (about one in ten missing) and the status entry recorded for it, if any. */
const workloadArb = (name: string): fc.Arbitrary<[Target, WorkloadStatus | undefined]> =>
  fc
    .record({
      kind: fc.constantFrom('Deployment' as const, 'StatefulSet' as const),
      exists: fc.nat(9).map((die) => die !== 0),
      templateVersion: stampArb,
      recorded: fc.boolean(),
      versionId: fc.option(fc.constantFrom(...VERSIONS), { nil: undefined }),
      restartedAt: restartedAtArb,
    })
    .map(({ kind, exists, templateVersion, recorded, versionId, restartedAt }) => [
      { kind, name, exists, templateVersion },
      recorded ? { kind, name, versionId, restartedAt } : undefined,
    ]);

/** A mapping's pass: distinct targets, a status entry for some of them, and the pass's settings. */
const inputArb: fc.Arbitrary<PlanInput> = fc
  .uniqueArray(fc.constantFrom(...NAMES), { maxLength: NAMES.length })
  .chain((names) =>
    fc.record({
      currentVersionId: fc.constantFrom(...VERSIONS),
      baselineVersionId: fc.option(fc.constantFrom(...VERSIONS), { nil: undefined }),
      workloads: fc.tuple(...names.map(workloadArb)),
      minRestartIntervalMs: fc.constantFrom(0, 60_000, 3_600_000, 2 * 86_400_000),
      suspend: fc.boolean(),
    }),
  )
  .map(({ workloads, ...rest }) => ({
    ...rest,
    secretName: 's',
    now: NOW,
    targets: workloads.map(([t]) => t),
    previous: workloads.flatMap(([, w]) => (w ? [w] : [])),
  }));

const keyOf = (x: { kind: string; name: string }): string => `${x.kind}/${x.name}`;

test('property: one decision per target, in order, each from that target and its own record only', () => {
  fc.assert(
    fc.property(inputArb, fc.nat(), (input, rotate) => {
      const plan = planRestarts(input);
      assert.deepEqual(
        plan.map((p) => p.target),
        input.targets,
      );
      const k = input.targets.length ? rotate % input.targets.length : 0;
      const turned = [...input.targets.slice(k), ...input.targets.slice(0, k)];
      const again = new Map(planRestarts({ ...input, targets: turned }).map((p) => [keyOf(p.target), p]));
      for (const p of plan) assert.equal(again.get(keyOf(p.target))?.action, p.action);
    }),
    runs(3001, 1000),
  );
});

test('property: a workload already stamped for the current version, or recorded at it, is never restarted', () => {
  fc.assert(
    fc.property(inputArb, (input) => {
      const stamp = versionStamp(input.secretName, input.currentVersionId);
      const prev = new Map(input.previous.map((w) => [keyOf(w), w]));
      for (const p of planRestarts(input)) {
        const recorded = input.baselineVersionId !== undefined && prev.get(keyOf(p.target))?.versionId;
        if (!p.target.exists) assert.equal(p.action, 'missing');
        else if (p.target.templateVersion === stamp || recorded === input.currentVersionId)
          assert.ok(['adopt', 'current', 'already'].includes(p.action), `${p.action}: ${JSON.stringify(p)}`);
      }
    }),
    runs(3002, 1000),
  );
});

test('property: a restart (now or later) is only for a workload that runs another version of the secret', () => {
  fc.assert(
    fc.property(inputArb, (input) => {
      const prev = new Map(input.previous.map((w) => [keyOf(w), w]));
      for (const p of planRestarts(input)) {
        if (!['restart', 'pending', 'suspended'].includes(p.action)) continue;
        const recorded =
          input.baselineVersionId !== undefined ? prev.get(keyOf(p.target))?.versionId : undefined;
        // What the workload runs: its record, or — with none — the version its stamp names.
        const running = recorded ?? p.target.templateVersion?.replace(/^s@/, '');
        assert.ok(p.target.exists, JSON.stringify(p));
        assert.ok(running !== undefined && running !== input.currentVersionId, JSON.stringify(p));
        assert.equal(p.action === 'suspended', input.suspend, JSON.stringify(p));
        if (recorded === undefined) assert.ok(p.target.templateVersion?.startsWith('s@'), JSON.stringify(p));
      }
    }),
    runs(3003, 1000),
  );
});

test('property: minRestartInterval defers a restart by what is left of it, never longer, never without cause', () => {
  fc.assert(
    fc.property(inputArb, (input) => {
      const prev = new Map(input.previous.map((w) => [keyOf(w), w]));
      const leftOf = (t: Target): number => {
        const last = Date.parse(prev.get(keyOf(t))?.restartedAt ?? '');
        return Number.isNaN(last) ? 0 : last + input.minRestartIntervalMs - input.now;
      };
      for (const p of planRestarts(input)) {
        if (p.action === 'pending') {
          assert.ok(p.waitMs !== undefined && p.waitMs > 0, JSON.stringify(p));
          assert.ok(p.waitMs <= input.minRestartIntervalMs, JSON.stringify(p));
          assert.equal(p.waitMs, leftOf(p.target));
        }
        const recorded = p.previous?.versionId && input.baselineVersionId !== undefined;
        if (p.action === 'restart' && recorded)
          assert.ok(leftOf(p.target) <= 0, `restarted inside minRestartInterval: ${JSON.stringify(p)}`);
      }
    }),
    runs(3004, 1000),
  );
});

test('property: a pass applied (templates stamped, status written) leaves nothing to restart on the next', () => {
  fc.assert(
    fc.property(inputArb, fc.integer({ min: 1, max: 3 * 86_400_000 }), (input, later) => {
      const first = planRestarts(input);
      const stamp = versionStamp(input.secretName, input.currentVersionId);
      const at = new Date(input.now).toISOString();
      const restarted = new Set(first.filter((p) => p.action === 'restart').map((p) => keyOf(p.target)));
      const next = planRestarts({
        ...input,
        baselineVersionId: input.currentVersionId,
        previous: first.map((p) => entryFor(p, input.currentVersionId, at)),
        targets: input.targets.map((t) => (restarted.has(keyOf(t)) ? { ...t, templateVersion: stamp } : t)),
        now: input.now + later,
      });
      for (const [i, p] of next.entries()) {
        const before = first[i].action;
        if (['restart', 'adopt', 'current', 'already'].includes(before))
          assert.ok(
            ['current', 'missing'].includes(p.action),
            `${before} then ${p.action}: ${JSON.stringify(p)}`,
          );
      }
    }),
    runs(3005, 1000),
  );
});
