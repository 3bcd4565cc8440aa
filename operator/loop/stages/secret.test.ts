import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Mapping, MappingStatus } from '../../../resources/types.js';
import type { ResolveOptions, SecretVersion } from '../../aws/secret-versions.js';
import { createLogger } from '../../runtime/logger.js';
import { PassContext, type PassDeps } from '../pass.js';
import { isSecret, resolveSecret } from './secret.js';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf';
const answer = (currentVersionId: string, fetchedAt: number): SecretVersion => ({
  arn: ARN,
  name: 'db',
  currentVersionId,
  currentVersionIds: [currentVersionId],
  fetchedAt,
});

/**
 * A SecretVersions whose cache holds `cached` (what this replica described earlier) and whose
 * AWS says `aws`: a lookup with a notBefore later than the cached answer asks AWS.
 */
function versions(
  cached: SecretVersion,
  aws: string,
): { calls: ResolveOptions[]; resolve: PassDeps['versions']['resolve'] } {
  const calls: ResolveOptions[] = [];
  return {
    calls,
    resolve: (_id: string, opts: ResolveOptions = {}) => {
      calls.push(opts);
      const fresh = opts.notBefore !== undefined && opts.notBefore > cached.fetchedAt;
      return Promise.resolve(fresh ? answer(aws, Date.now()) : cached);
    },
  };
}

function pass(status: MappingStatus, v: ReturnType<typeof versions>, termStartedAt?: number): PassContext {
  const m = {
    apiVersion: 'secretsrotation.io/v1alpha1',
    kind: 'SecretsRotationMapping',
    metadata: { name: 'm', namespace: 'ns', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { secretId: 'db', selector: { matchLabels: { app: 'web' } } },
    status,
  } as Mapping;
  const deps = { versions: { resolve: v.resolve }, termStartedAt } as unknown as PassDeps;
  return new PassContext(m, deps, createLogger('error'));
}

const restartedFor = (versionId: string, at: number): MappingStatus => ({
  currentVersionId: versionId,
  lastRotationTime: new Date(at).toISOString(),
  workloads: [{ kind: 'Deployment', name: 'web', versionId, restartedAt: new Date(at).toISOString() }],
});

test('an answer older than the restart the status records is not acted on: AWS is asked again (issue 29, defect 0)', async () => {
  // This replica described the secret as a follower (v1); its predecessor then applied the rotation
  // to v2 and recorded it; this replica leads within the cache's TTL.
  const now = Date.now();
  const v = versions(answer('v1', now - 2000), 'v2');
  const got = await resolveSecret(pass(restartedFor('v2', now - 1500), v));
  assert.ok(isSecret(got));
  assert.equal(got.currentVersionId, 'v2', 'not a restart back to v1');
  assert.equal(v.calls.length, 2);
  assert.ok((v.calls[1].notBefore ?? 0) >= now - 1500);
});

test('an answer from before this leadership term that differs from the status is asked again', async () => {
  const now = Date.now();
  // The status records no restart time (adopted baseline, or written by a replica whose clock is behind).
  const v = versions(answer('v1', now - 2000), 'v2');
  const got = await resolveSecret(pass({ currentVersionId: 'v2' }, v, now - 1000));
  assert.ok(isSecret(got));
  assert.equal(got.currentVersionId, 'v2');
  assert.equal(v.calls.length, 2);
});

test('an answer that agrees with the status, or is newer than what it records, costs no second call', async () => {
  const now = Date.now();
  const agrees = versions(answer('v2', now - 4000), 'v3');
  assert.equal(
    ((await resolveSecret(pass(restartedFor('v2', now - 1000), agrees, now))) as SecretVersion)
      .currentVersionId,
    'v2',
  );
  assert.equal(agrees.calls.length, 1);
  // A rotation seen after the last restart and within the term: acted on at once.
  const rotation = versions(answer('v3', now - 500), 'v3');
  const got = await resolveSecret(pass(restartedFor('v2', now - 1000), rotation, now - 800));
  assert.equal((got as SecretVersion).currentVersionId, 'v3');
  assert.equal(rotation.calls.length, 1);
});

test('a restart time in the future (another clock, a hand-written annotation) costs one call, never a loop', async () => {
  const now = Date.now();
  const v = versions(answer('v1', now - 100), 'v3');
  const got = await resolveSecret(pass(restartedFor('v2', now + 3_600_000), v));
  assert.equal((got as SecretVersion).currentVersionId, 'v3');
  assert.equal(v.calls.length, 2);
  assert.ok((v.calls[1].notBefore ?? 0) <= Date.now(), 'never asks for an answer from the future');
});
