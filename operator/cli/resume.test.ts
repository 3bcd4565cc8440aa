import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StagedRolloutStatus } from '../../resources/types.js';
import { mapping } from './fixtures.js';
import { haltTag, otherHalt, pinOf, pinnedResume } from '../kube/resume-value.js';
import { nothingToResume, resumeValue } from './resume.js';

const halted: StagedRolloutStatus = {
  versionId: 'v2',
  stage: 1,
  stages: 3,
  state: 'Halted',
  progress: '1/3 Halted',
};
const staged = { rollout: { strategy: 'Staged' as const } };

test('only a halted staged rotation has something to resume', () => {
  assert.equal(nothingToResume(mapping('a', 'm', staged, { rollout: halted })), undefined);
  assert.match(nothingToResume(mapping('a', 'm')) ?? '', /a\/m is not a Staged mapping/);
  assert.match(
    nothingToResume(
      mapping('a', 'm', staged, {
        rollout: { ...halted, state: 'Progressing', progress: '2/3 Progressing' },
      }),
    ) ?? '',
    /a\/m is not halted \(rollout 2\/3 Progressing\)/,
  );
  assert.match(nothingToResume(mapping('a', 'm', staged)) ?? '', /not halted \(rollout not started\)/);
});

test('the resume value names the halt read, and is new: never the value the halt recorded, nor the one on the mapping now', () => {
  const now = Date.parse('2026-01-05T10:00:00.000Z');
  const tag = (haltedWith?: string): string => haltTag({ versionId: 'v2', stage: 1, haltedWith });
  const pin = (at: string, haltedWith?: string): string =>
    `version=v2,stage=1,halt=${tag(haltedWith)},at=${at}`;
  assert.equal(
    resumeValue(mapping('a', 'm', staged, { rollout: halted }), now),
    pin('2026-01-05T10:00:00.000Z'),
  );
  // A halt that recorded a pin of its own time: the new value's tag is of that.
  const recorded = pin('2026-01-05T10:00:00.000Z');
  const taken = mapping('a', 'm', staged, {
    rollout: { ...halted, haltedWith: recorded },
    annotations: { 'secretsrotation.io/resume': pin('2026-01-05T10:00:00.000Z', recorded) },
  });
  assert.equal(resumeValue(taken, now), pin('2026-01-05T10:00:00.001Z', recorded));
  assert.deepEqual(pinOf(resumeValue(taken, now)), { versionId: 'v2', stage: 1, halt: tag(recorded) });
  assert.match(tag(recorded), /^[0-9a-f]{8}$/);
});

test('resume --version: the halt the user looked at, or nothing written', () => {
  const m = mapping('a', 'm', staged, { rollout: halted });
  assert.equal(nothingToResume(m, 'v2'), undefined);
  assert.match(
    nothingToResume(m, 'v1') ?? '',
    /a\/m is halted for version v2 now, not v1: nothing written; .* resume with --version v2/,
  );
});

test('a resume value names a halt, or none (set by hand): only one naming another halt is refused', () => {
  const halt = { versionId: 'v3', stage: 2 };
  assert.equal(otherHalt(pinnedResume(halt, 't'), halt), undefined);
  assert.equal(otherHalt('2026-01-05T10:00:00Z', halt), undefined);
  assert.equal(otherHalt(undefined, halt), undefined);
  assert.match(
    otherHalt(pinnedResume({ versionId: 'v2', stage: 2 }, 't'), halt) ?? '',
    /names the halt of version v2 at stage 2, not this one: not resumed/,
  );
  assert.match(otherHalt(pinnedResume({ versionId: 'v3', stage: 1 }, 't'), halt) ?? '', /not resumed/);
  // Another halt of the same version and stage (it recorded another value): refused too.
  assert.match(
    otherHalt(pinnedResume({ ...halt, haltedWith: 'x' }, 't'), halt) ?? '',
    /names an earlier halt of version v3 at stage 2, not this one: not resumed/,
  );
  // A pin of an older plugin (no halt=) names the version and stage only.
  assert.equal(otherHalt('version=v3,stage=2,at=t', { ...halt, haltedWith: 'x' }), undefined);
});
