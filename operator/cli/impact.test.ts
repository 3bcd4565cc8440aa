import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Policy } from '../../resources/policy-types.js';
import { projectExternalSecret } from '../kube/consumption.js';
import { projectWorkload } from '../kube/workload-cache.js';
import { ARN, mapping } from './fixtures.js';
import { impactOf, policyVerdict, type Namespaced } from './impact.js';
import { impactText } from './impact-view.js';

const NOW = Date.parse('2026-01-05T10:00:00Z');

const deployment = (
  name: string,
  labels: Record<string, string>,
  more: { stage?: string; secret?: string; paused?: boolean } = {},
) =>
  projectWorkload('Deployment', {
    metadata: {
      namespace: 'team',
      name,
      labels,
      annotations: more.stage ? { 'secretsrotation.io/stage': more.stage } : {},
    },
    spec: {
      paused: more.paused,
      template: {
        spec: {
          containers: [{ name: 'c', envFrom: more.secret ? [{ secretRef: { name: more.secret } }] : [] }],
        },
      },
    },
  });

const ns: Namespaced = {
  workloads: [
    deployment('api', { app: 'db' }, { stage: '2' }),
    deployment('web', { app: 'db' }, { stage: '1' }),
    deployment('worker', { app: 'db' }, { paused: true }),
    deployment('reporting', { app: 'other' }, { secret: 'db-creds' }),
    deployment('unrelated', { app: 'other' }),
  ],
  providerClasses: [],
  externalSecrets: [
    projectExternalSecret({
      metadata: { namespace: 'team', name: 'db-creds' },
      spec: { data: [{ remoteRef: { key: 'db' } }] },
    }),
  ],
  labels: { tenant: 'team' },
};

const allowed = { verdict: 'allowed' as const };

test('targets in the staged order the operator uses: the list first, then the stage annotation, then kind/name', () => {
  const m = mapping(
    'team',
    'db',
    {
      selector: { matchLabels: { app: 'db' } },
      workloads: [{ kind: 'Deployment', name: 'worker' }],
      rollout: { strategy: 'Staged', stageSize: 2 },
    },
    { secretArn: ARN },
  );
  const i = impactOf({ mapping: m, by: 'arn' }, ns, allowed, NOW);
  assert.deepEqual(
    i.targets.map((t) => `${t.stage}:${t.name}`),
    ['1:worker', '1:web', '2:api'],
  );
  assert.equal(i.targets[0].blocked, 'Paused');
  assert.deepEqual(i.rollout, {
    strategy: 'Staged',
    stageSize: 2,
    pause: '0s',
    onFailure: 'Halt',
    stages: 2,
  });
  assert.equal(i.outcome, 'restarts 3 workload(s) in 2 stage(s) now');
  const text = impactText('db', [i]);
  assert.match(text, /1 mapping\(s\) watch db:/);
  assert.match(text, /1\s+Deployment\/worker\s+-\s+\S+\s+Paused: will not roll by itself/);
});

test('with discover, the consumers through an ExternalSecret are targets too, and wait for its sync', () => {
  const m = mapping(
    'team',
    'db',
    { selector: { matchLabels: { app: 'none' } }, discover: true },
    { secretArn: ARN },
  );
  const i = impactOf({ mapping: m, by: 'name' }, ns, allowed, NOW);
  assert.deepEqual(
    i.targets.map((t) => [t.name, t.via, t.waitsForSync]),
    [['reporting', ['ExternalSecret/db-creds'], ['db-creds']]],
  );
  assert.equal(i.consumersKnown, true);
  assert.match(
    impactText('db', [i]),
    /Deployment\/reporting\s+ExternalSecret\/db-creds\s+\S+\s+waits for ESO sync of db-creds/,
  );
});

test('a closed window defers the restarts to when it opens; a suspended mapping restarts nothing; a missing listed workload', () => {
  const windows = [{ schedule: '0 22 * * *', duration: '1h' }];
  const m = mapping('team', 'db', {
    workloads: [
      { kind: 'Deployment', name: 'web' },
      { kind: 'Deployment', name: 'gone' },
    ],
    restartWindows: windows,
  });
  const i = impactOf({ mapping: m, by: 'name' }, ns, allowed, NOW);
  assert.deepEqual([i.windows.open, i.windows.opensAt], [false, '2026-01-05T22:00:00.000Z']);
  assert.equal(
    i.outcome,
    'restarts 1 workload(s) when the next restart window opens, at 2026-01-05T22:00:00.000Z',
  );
  assert.deepEqual(
    i.targets.map((t) => [t.name, t.exists]),
    [
      ['gone', false],
      ['web', true],
    ],
  );
  const open = impactOf({ mapping: m, by: 'name' }, ns, allowed, Date.parse('2026-01-05T22:30:00Z'));
  assert.equal(open.windows.open, true);
  const suspended = impactOf(
    { mapping: { ...m, spec: { ...m.spec, suspend: true } }, by: 'name' },
    ns,
    allowed,
    NOW,
  );
  assert.match(suspended.outcome, /^suspended: nothing restarts/);
});

const policy = (name: string, allowedSecrets: string[], matchLabels: Record<string, string>): Policy => ({
  metadata: { name },
  spec: { namespaceSelector: { matchLabels }, allowedSecrets },
});

test('policy verdicts as the operator decides them, on the resolved secret too', () => {
  const m = mapping('team', 'db', { workloads: [{ kind: 'Deployment', name: 'web' }] }, { secretArn: ARN });
  const governing = [policy('team-secrets', ['db*'], { tenant: 'team' })];
  assert.deepEqual(policyVerdict(m, { tenant: 'team' }, governing, 'allow'), {
    verdict: 'allowed',
    by: 'team-secrets',
  });
  const refusing = [policy('team-secrets', ['app-*'], { tenant: 'team' })];
  const refused = policyVerdict(m, { tenant: 'team' }, refusing, 'allow');
  assert.equal(refused.verdict, 'refused');
  assert.match(refused.message ?? '', /secret "db" is not among the secrets/);
  assert.equal(
    policyVerdict(m, { tenant: 'other' }, governing, 'deny').verdict,
    'refused',
    'no policy governs it, default deny',
  );
  assert.equal(policyVerdict(m, { tenant: 'other' }, governing, 'allow').verdict, 'allowed');
  assert.equal(policyVerdict(m, undefined, governing, 'allow').verdict, 'unknown');
  const i = impactOf({ mapping: m, by: 'arn' }, ns, refused, NOW);
  assert.equal(i.outcome, 'refused by policy: nothing restarts (NotAllowed)');
  assert.match(impactText('db', [i]), /policy: {3}REFUSED: secret "db"/);
});

test('no mapping watches the secret: it says so', () => {
  assert.equal(
    impactText('nothing', []),
    'No SecretsRotationMapping watches nothing: a rotation restarts nothing.',
  );
});
