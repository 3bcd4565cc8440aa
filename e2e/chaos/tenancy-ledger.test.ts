import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TenancyLedger } from './tenancy-ledger.js';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:forbidden-AbCdEf';

test('tenancy ledger: a forbidden ARN or version showing in a namespace is a leak; the tenant’s own words are not', () => {
  const l = new TenancyLedger(5000);
  l.identifies('forbidden', ARN);
  l.identifies('forbidden', 'ver-1');
  l.identifies('ok', 'ver-ok');
  l.allow('h1', new Set(['ok']), 0);
  l.showed('h1', 'h1/m', { text: `watching ok at ver-ok`, echo: '{"secretId":"ok"}' }, 10_000);
  // The tenant wrote the full ARN itself: repeating it back discloses nothing.
  l.showed('h1', 'h1/m2', { text: `NotAllowed: ${ARN}`, echo: `{"secretId":"${ARN}"}` }, 10_000);
  assert.deepEqual(l.verdict().leaks, []);
  // A partial ARN resolved to the full one, or a version: existence and state disclosed.
  l.showed('h1', 'h1/m3', { text: `resolved ${ARN} at ver-1`, echo: '{"secretId":"forbidden"}' }, 11_000);
  const v = l.verdict();
  assert.equal(v.leaks.length, 2, v.leaks.join('\n'));
  // The same object showing them again is not judged twice.
  l.showed('h1', 'h1/m3', { text: `resolved ${ARN} at ver-1`, echo: '{"secretId":"forbidden"}' }, 12_000);
  assert.equal(l.verdict().leaks.length, 2);
  assert.equal(l.verdict().shown, 3);
});

test('tenancy ledger: a narrowed policy stops restarts after its lag; a widened one or no policy allows', () => {
  const l = new TenancyLedger(5000);
  l.allow('h0', 'all', 0);
  l.allow('h0', new Set(['a']), 100_000);
  l.allow('h0', new Set(['a', 'b']), 200_000);
  l.restarted('h0', 'w1', 'b', 50_000);
  l.restarted('h0', 'w2', 'b', 103_000); // within the lag of the narrowing
  l.restarted('h0', 'w3', 'b', 150_000); // narrowed for 50 s
  l.restarted('h0', 'w4', 'b', 200_500);
  l.restarted('h0', 'w5', 'a', 150_000);
  l.restarted('elsewhere', 'w6', 'b', 150_000); // a namespace the run sets no policy for
  const v = l.verdict();
  assert.equal(v.restarts, 5);
  assert.equal(v.outside.length, 1);
  assert.match(v.outside[0], /^w3 restarted for b/);
});

test('tenancy ledger: a status of an older generation quoting the ARN the tenant wrote before its edit is no leak, given every spec it wrote', () => {
  const l = new TenancyLedger(5000);
  l.identifies('forbidden', ARN);
  l.allow('h0', new Set(['ok']), 0);
  const before = `{"secretId":"${ARN}"}`;
  const after = '{"secretId":"ok"}';
  l.showed(
    'h0',
    'h0/srm/gen-1',
    { text: `NotAllowed: secret "${ARN}"`, echo: `${before}\n${after}` },
    10_000,
  );
  assert.deepEqual(l.verdict().leaks, []);
  // Judged by the latest spec alone, the same status was counted a leak (the seed-30 soak).
  l.showed('h0', 'h0/srm/gen-2', { text: `NotAllowed: secret "${ARN}"`, echo: after }, 10_000);
  assert.equal(l.verdict().leaks.length, 1);
});
