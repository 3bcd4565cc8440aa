import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StagedRolloutStatus } from '../../resources/types.js';
import { mapping } from './fixtures.js';
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

test('the resume value is new: never the value the halt recorded, nor the one on the mapping now', () => {
  const now = Date.parse('2026-01-05T10:00:00.000Z');
  assert.equal(resumeValue(mapping('a', 'm', staged, { rollout: halted }), now), '2026-01-05T10:00:00.000Z');
  const taken = mapping('a', 'm', staged, {
    rollout: { ...halted, haltedWith: '2026-01-05T10:00:00.000Z' },
    annotations: { 'secretsrotation.io/resume': '2026-01-05T10:00:00.001Z' },
  });
  assert.equal(resumeValue(taken, now), '2026-01-05T10:00:00.002Z');
});
