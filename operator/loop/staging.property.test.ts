import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { MappingSpec, RolloutState, StagedRolloutStatus } from '../../resources/types.js';
import { runs } from '../testing/property-runs.js';
import type { Planned } from './restart-plan.js';
import { stageRestarts } from './staging.js';

/**
 * Staged rotations over many passes (staging.ts): a small world where every restart starts a
 * rollout that completes or fails after a while, passes come at random times, some status writes are
 * lost (the next pass finds the template stamped, 'already') and the resume annotation changes now
 * and then. Whatever happens: stage n+1 never restarts before stage n is Complete (or its failures
 * accepted) plus the pause, never past a halt that no new resume value accepted; and once the passes
 * keep coming, the rotation ends Complete with every workload restarted once.
 */

const T0 = Date.parse('2026-12-06T12:00:00Z');

interface Scenario {
  order: string[];
  stageSize: number | string;
  pauseMs: number;
  onFailure: 'Halt' | 'Continue';
  rollouts: Map<string, { outcome: 'Complete' | 'Failed'; takesMs: number }>;
  steps: Array<{ dtMs: number; lose: boolean; resume: boolean }>;
}

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    order: fc.shuffledSubarray(['a', 'b', 'c', 'd', 'e', 'f', 'g'], { minLength: 1 }),
    stageSize: fc.oneof(
      fc.integer({ min: 0, max: 4 }),
      fc.integer({ min: 1, max: 100 }).map((p) => `${p}%`),
    ),
    pauseMs: fc.constantFrom(0, 1000, 30_000, 300_000),
    onFailure: fc.constantFrom('Halt' as const, 'Continue' as const),
    rollouts: fc.array(
      fc.record({
        outcome: fc.constantFrom('Complete' as const, 'Complete' as const, 'Failed' as const),
        takesMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 600_000 })),
      }),
      { minLength: 7, maxLength: 7 },
    ),
    steps: fc.array(
      fc.record({
        dtMs: fc.oneof(
          fc.constantFrom(0, 1, 999, 1000, 29_999, 30_000, 30_001),
          fc.integer({ min: 0, max: 700_000 }),
        ),
        lose: fc.nat(4).map((d) => d === 0),
        resume: fc.nat(6).map((d) => d === 0),
      }),
      { maxLength: 40 },
    ),
  })
  .map((s) => ({ ...s, rollouts: new Map(s.order.map((name, i) => [name, s.rollouts[i]])) }));

/** Workloads per stage, as the CRD describes stageSize (written apart from staging.ts). */
function sizeOf(stageSize: number | string, total: number): number {
  if (typeof stageSize === 'number') return Math.max(1, stageSize);
  return Math.max(1, Math.ceil((total * parseInt(stageSize, 10)) / 100));
}

/** The mapping as the world and the status hold it, pass after pass. */
class Sim {
  now = T0;
  resume: string | undefined = undefined;
  private resumes = 0;
  readonly restartedAt = new Map<string, number>();
  /** Workloads the status records at the new version, with the rollout it recorded (as rollout.ts does). */
  readonly recorded = new Map<string, RolloutState | undefined>();
  rollout: StagedRolloutStatus | undefined;
  /** Per stage: the first pass at which all its workloads were settled. */
  readonly settledAt = new Map<number, number>();
  /** Per failed workload: the resume value at the first pass that saw it failed. */
  readonly failedWith = new Map<string, string | undefined>();
  readonly spec: MappingSpec;
  readonly stageOf: Map<string, number>;

  constructor(readonly s: Scenario) {
    this.spec = {
      secretId: 's',
      workloads: s.order.map((name) => ({ kind: 'Deployment' as const, name })),
      rollout: {
        strategy: 'Staged',
        stageSize: s.stageSize,
        pause: `${s.pauseMs / 1000}s`,
        onFailure: s.onFailure,
      },
    };
    const size = sizeOf(s.stageSize, s.order.length);
    this.stageOf = new Map(s.order.map((name, i) => [name, Math.floor(i / size) + 1]));
  }

  state(name: string): RolloutState | undefined {
    const at = this.restartedAt.get(name);
    if (at === undefined) return undefined;
    const r = this.s.rollouts.get(name);
    return r && this.now >= at + r.takesMs ? r.outcome : 'InProgress';
  }

  bumpResume(): void {
    this.resume = `r${++this.resumes}`;
  }

  private plan(): Planned[] {
    return this.s.order.map((name): Planned => {
      const target = { kind: 'Deployment' as const, name, exists: true };
      if (this.recorded.has(name))
        return {
          target,
          action: 'current',
          previous: { ...target, versionId: 'v2', rollout: this.recorded.get(name) },
        };
      const at = this.restartedAt.get(name);
      if (at !== undefined)
        return {
          target: { ...target, templateVersion: 's@v2', stampedAt: new Date(at).toISOString() },
          action: 'already',
          previous: { ...target, versionId: 'v1' },
        };
      return { target, action: 'restart', previous: { ...target, versionId: 'v1' } };
    });
  }

  /** Whether `name` no longer holds its stage back at this pass: Complete, or failed and accepted. */
  private settled(name: string): boolean {
    const state = this.state(name);
    if (state === 'Complete') return true;
    if (state !== 'Failed') return false;
    if (!this.failedWith.has(name)) this.failedWith.set(name, this.resume);
    return this.s.onFailure === 'Continue' || this.failedWith.get(name) !== this.resume;
  }

  /** One pass: what staging lets restart, checked, then applied (and its status written unless lost). */
  pass(lose: boolean): void {
    for (const stage of new Set(this.stageOf.values())) {
      const members = this.s.order.filter((n) => this.stageOf.get(n) === stage);
      // Every member is looked at (no short cut): a failure's first sight records the resume value then.
      const settled = members.map((n) => this.settled(n)).every(Boolean);
      if (!this.settledAt.has(stage) && settled) this.settledAt.set(stage, this.now);
    }
    const staged = stageRestarts({
      spec: this.spec,
      plan: this.plan(),
      currentVersionId: 'v2',
      previous: this.rollout,
      resume: this.resume,
      now: this.now,
      rolloutNow: (p) => this.state(p.target.name),
    });
    for (const p of staged.plan) {
      if (p.action !== 'restart') continue;
      this.checkMayStart(p.target.name);
      this.restartedAt.set(p.target.name, this.now);
    }
    if (lose) return;
    for (const name of this.restartedAt.keys()) this.recorded.set(name, this.state(name));
    this.rollout = staged.status;
  }

  /** Stage n+1 starts only after stage n settled plus the pause (so, by induction, every earlier one). */
  private checkMayStart(name: string): void {
    const stage = this.stageOf.get(name) ?? 0;
    if (stage === 1) return;
    const settled = this.settledAt.get(stage - 1);
    const at = new Date(this.now).toISOString();
    assert.ok(
      settled !== undefined,
      `${name} (stage ${stage}) restarted at ${at} before stage ${stage - 1} settled`,
    );
    assert.ok(
      this.now >= settled + this.s.pauseMs,
      `${name} (stage ${stage}) restarted at ${at}, ${this.now - settled} ms after stage ${stage - 1} settled (pause ${this.s.pauseMs} ms)`,
    );
  }
}

/** A simulation of `s` after its scripted steps: passes, lost writes, time, resumes. */
function played(s: Scenario): Sim {
  const sim = new Sim(s);
  for (const step of s.steps) {
    sim.pass(step.lose);
    sim.now += step.dtMs;
    if (step.resume) sim.bumpResume();
  }
  return sim;
}

test('property: a stage starts only after the previous one is Complete (or accepted) plus the pause; never past a halt', () => {
  fc.assert(
    // Sim.pass throws at the first stage started early or past a halt.
    fc.property(scenarioArb, (s) => void played(s)),
    runs(3101, 2000),
  );
});

test('property: passes that keep coming (and a resume after each halt) end the rotation Complete, each workload restarted once', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const sim = played(s);
      // Then passes without lost writes, each after every pause and rollout could end; a resume each
      // time. A stage takes up to four: its restart, its failure's halt, the resume, the pause it starts.
      for (let i = 0; i < 4 * s.order.length + 2; i++) {
        sim.pass(false);
        sim.now += s.pauseMs + 600_001;
        if (s.onFailure === 'Halt') sim.bumpResume();
      }
      assert.deepEqual([...sim.restartedAt.keys()].sort(), [...s.order].sort(), 'every workload restarted');
      assert.equal(sim.rollout?.state, 'Complete', JSON.stringify(sim.rollout));
    }),
    runs(3102, 1000),
  );
});

test('property: without a new resume value a halt holds every later stage, however many passes', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const sim = new Sim({ ...s, onFailure: 'Halt' });
      // Some writes lost in the first passes; enough passes after them to end the rotation.
      for (let i = 0; i < 3 * s.order.length + 3; i++) {
        sim.pass(i < s.order.length && (s.steps[i]?.lose ?? false));
        sim.now += s.pauseMs + 600_001;
      }
      const failed = s.order.filter((n) => sim.state(n) === 'Failed');
      const haltedAt = Math.min(...failed.map((n) => sim.stageOf.get(n) ?? 0));
      const beyond = [...sim.restartedAt.keys()].filter((n) => (sim.stageOf.get(n) ?? 0) > haltedAt);
      assert.deepEqual(beyond, [], `restarted past the halt at stage ${haltedAt}`);
      if (failed.length) assert.equal(sim.rollout?.state, 'Halted', JSON.stringify(sim.rollout));
      else assert.equal(sim.rollout?.state, 'Complete', JSON.stringify(sim.rollout));
    }),
    runs(3103, 1000),
  );
});
