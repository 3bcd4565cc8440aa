import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { StagedRolloutStatus } from '../../resources/types.js';
import { runs } from '../testing/property-runs.js';
import { checkMove, decideRevert, revertedStatus } from './revert.js';

/**
 * A revert over many passes, as leaders see it: every status write may fail before the server sees
 * it or lose its answer after the server committed it; the UpdateSecretVersionStage call may lose
 * its answer after AWS committed it (the next pass is told nothing); a person may rotate the secret
 * on between two passes. Whatever happens: AWSCURRENT is moved by us at most once, only off the failed
 * version (compare-and-swap), never after a person moved it; and when nobody moved it, reliable passes
 * end with AWSCURRENT on the old version and the status saying Reverted, the move first seen once.
 */

type Fault = 'none' | 'write-lost-before' | 'write-lost-after' | 'call-answer-lost';
interface Step {
  fault: Fault;
  person: boolean;
}

const HALTED: StagedRolloutStatus = {
  versionId: 'v2',
  stage: 1,
  stages: 2,
  state: 'Halted',
  progress: '1/2 Halted',
  message: 'halted',
};

interface World {
  current: string;
  status: StagedRolloutStatus | undefined;
  ourMoves: number;
  movedAfterPerson: boolean;
  personMoved: boolean;
  announced: number;
  /** Status writes lost in passes that announced the revert: each may announce it once more. */
  lostAnnouncements: number;
}

/** One pass: decide, write (maybe lost), call (maybe its answer lost), as moveCurrentBack does. */
function pass(w: World, fault: Fault): void {
  const secret = { currentVersionId: w.current, currentVersionIds: [w.current] };
  // Staging's view: the failure of a (for v2) is a fresh halt until a status recorded it.
  const staged =
    w.current === 'v2'
      ? { status: HALTED, halted: w.status ? undefined : 'Deployment/a' }
      : { status: { ...HALTED, versionId: w.current, state: 'Complete' as const } };
  const verdict = decideRevert({
    onFailure: 'Revert',
    staged,
    previous: w.status,
    baselineVersionId: 'v1',
    secret,
    policy: { allowed: true },
    now: 't',
  });
  // Events are sent before the status write, so a lost write may announce the revert again.
  const announces = verdict.kind === 'reverted' && verdict.fresh;
  w.announced += Number(announces);
  if (fault === 'write-lost-before') {
    w.lostAnnouncements += Number(announces);
    return;
  }
  w.status = revertedStatus(staged.status, verdict);
  if (fault !== 'write-lost-after') moveBack(w, w.status);
}

/** After the status recording a revert: the check, then the compare-and-swap as AWS makes it. */
function moveBack(w: World, next: StagedRolloutStatus | undefined): void {
  if (next?.state !== 'Reverting' || !next.revert) return;
  const r = next.revert;
  const check = checkMove(r, { currentVersionId: w.current, currentVersionIds: [w.current] });
  if (check.kind === 'refused') w.status = { ...next, state: 'Halted', revert: { ...r, refused: check.why } };
  if (check.kind !== 'call' || w.current !== r.from) return;
  w.current = r.to;
  w.ourMoves++;
  w.movedAfterPerson ||= w.personMoved;
  // Whether its answer is lost or not, this pass ends here; the next one finds AWSCURRENT where it is.
}

/** After reliable passes: reverted and announced, unless a person moved AWSCURRENT on. */
function settled(w: World): void {
  if (w.personMoved) return assert.notEqual(w.current, 'v2');
  assert.equal(w.current, 'v1');
  assert.ok(w.status?.revert?.movedAt);
  assert.equal(w.status.state, 'Reverted');
  assert.ok(w.announced >= 1 && w.announced <= 1 + w.lostAnnouncements, `announced ${w.announced} times`);
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  fault: fc.constantFrom<Fault>('none', 'write-lost-before', 'write-lost-after', 'call-answer-lost'),
  person: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
});

test('a revert happens at most once, only by compare-and-swap, and completes when nobody interferes', () => {
  fc.assert(
    fc.property(fc.array(stepArb, { maxLength: 30 }), fc.boolean(), (steps, personAllowed) => {
      const w: World = {
        current: 'v2',
        status: undefined,
        ourMoves: 0,
        movedAfterPerson: false,
        personMoved: false,
        announced: 0,
        lostAnnouncements: 0,
      };
      for (const s of steps) {
        if (personAllowed && s.person && !w.personMoved) {
          w.current = 'v3';
          w.personMoved = true;
        }
        pass(w, s.fault);
      }
      assert.ok(w.ourMoves <= 1, `moved ${w.ourMoves} times`);
      assert.ok(!w.movedAfterPerson, 'moved after a person rotated on');
      // Then reliable passes: the revert completes unless someone moved AWSCURRENT.
      for (let i = 0; i < 4; i++) pass(w, 'none');
      assert.ok(w.ourMoves <= 1);
      settled(w);
    }),
    runs(3201, 1000),
  );
});
