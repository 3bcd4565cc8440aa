import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePolicy, decide } from './policy-decision.js';

/**
 * Authorisation on the secret DescribeSecret resolved (issue 29, defect 5). A policy is a list of
 * globs over a secret's name or ARN; what it allows must be decided on the secret a mapping's secretId
 * turned out to be — its real name and full ARN — never on every name the id might stand for.
 */

const PREFIX = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:';
const ACCOUNTS = ['123456789012', '210987654321'];
const REGIONS = ['eu-west-1', 'us-east-1'];

interface Secret {
  partition: string;
  region: string;
  account: string;
  name: string;
  suffix: string;
}

const arnOf = (s: Secret, tail: string): string =>
  `arn:${s.partition}:secretsmanager:${s.region}:${s.account}:secret:${tail}`;
const fullArn = (s: Secret): string => arnOf(s, `${s.name}-${s.suffix}`);

const ask = (secretId: string, patterns: string[], resolved?: { arn: string; name: string }) => {
  const policy = compilePolicy('p', { namespaceSelector: {}, allowedSecrets: patterns });
  // Built apart from the call: a decision that ignores `resolved` still compiles, and fails here.
  const input = { namespace: 'ns', labels: {}, secretId, resolved };
  return decide(input, [policy], 'allow');
};

test('a policy allowing app-* refuses the secret app named by its full ARN, once resolved', () => {
  const app = `${PREFIX}app-AbCdEf`;
  const before = ask(app, ['app-*']);
  assert.equal(before.allowed, true, 'before DescribeSecret: app-AbCdEf may be a secret named so');
  const after = ask(app, ['app-*'], { arn: app, name: 'app' });
  assert.equal(after.allowed, false, 'DescribeSecret says it is the secret "app"');
  assert.deepEqual(after, ask(app, ['other-*']), 'the same answer as a refusal before any AWS call');
  assert.equal(ask(app, ['app-*'], { arn: `${PREFIX}app-AbCdEf-QwErTy`, name: 'app-AbCdEf' }).allowed, true);
  assert.equal(ask(`${PREFIX}app-AbCdEf`, [`${PREFIX}app-*`], { arn: app, name: 'app' }).allowed, false);
});

test('a pattern without wildcards names one secret: by its name, or by its full ARN exactly', () => {
  const db = `${PREFIX}db-AbC123`;
  const resolved = { arn: db, name: 'db' };
  for (const id of ['db', db, `${PREFIX}db`]) {
    assert.equal(ask(id, ['db'], resolved).allowed, true, `name pattern, id ${id}`);
    assert.equal(
      ask(id, ['db-AbC123'], resolved).allowed,
      id === db,
      `the ARN's last part: only by that full ARN, id ${id}`,
    );
    assert.equal(
      ask(id, ['db-AbC12?'], resolved).allowed,
      false,
      `a wildcard never matches the suffix, ${id}`,
    );
    assert.equal(
      ask(id, ['db-ZzZ999'], resolved).allowed,
      false,
      `another suffix: a recreated secret, ${id}`,
    );
  }
  for (const id of [db, `${PREFIX}db`]) {
    assert.equal(ask(id, [db], resolved).allowed, id === db, `the exact full ARN: only by it, id ${id}`);
    assert.equal(ask(id, [`${PREFIX}db`], resolved).allowed, true, `the partial ARN, id ${id}`);
    assert.equal(ask(id, [`${PREFIX}d*`], resolved).allowed, true, `an ARN glob, id ${id}`);
  }
  assert.equal(ask('db', [db], resolved).allowed, false, 'a bare name never matches an ARN pattern');
});

test('no existence oracle: app under the literal app-config is refused before any AWS call', () => {
  // Were it let through, the secret app would be NotAllowed once described and SecretNotFound if missing.
  for (const id of ['app', `${PREFIX}app`]) {
    assert.equal(ask(id, ['app-config']).allowed, false, `${id} is not the secret app-config`);
    assert.equal(ask(id, ['app-AbCdEf']).allowed, false, `${id} under the full ARN's last part`);
    assert.equal(ask(id, [`${PREFIX}app-config`]).allowed, false, `${id} under the ARN pattern`);
  }
});

/** A small seeded generator (mulberry32): the same cases on every run, many shapes. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALNUM = 'abcAB12Z';
const PARTS = ['app', 'db', 'a', 'team-a', 'x1', 'AbCdEf', 'ab12CD'];

function generator(seed: number) {
  const r = random(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const suffix = (): string => Array.from({ length: 6 }, () => pick([...ALNUM])).join('');
  const name = (): string => {
    let n = pick(PARTS);
    while (r() < 0.5) n += pick(['-', '/', '']) + pick(PARTS);
    // Names that look as if they carried the suffix themselves: the ambiguous case.
    return r() < 0.3 ? `${n}-${suffix()}` : n;
  };
  const secret = (): Secret => ({
    partition: 'aws',
    region: pick(REGIONS),
    account: pick(ACCOUNTS),
    name: name(),
    suffix: suffix(),
  });
  /** A glob near `s`: its name or full last part, cut short, with wildcards, or another name. */
  const nameGlob = (s: Secret): string => {
    const base = pick([s.name, `${s.name}-${s.suffix}`, name(), s.name.split('-')[0]]);
    const form = r();
    if (form < 0.25) return base;
    if (form < 0.5) return `${base.slice(0, Math.max(1, Math.floor(r() * base.length)))}*`;
    if (form < 0.7) return [...base].map((c) => (r() < 0.2 ? '?' : c)).join('');
    if (form < 0.85) return `${base}-*`;
    return `*${base.slice(Math.floor(r() * base.length))}`;
  };
  const pattern = (s: Secret): string => {
    if (r() < 0.6) return nameGlob(s);
    const field = (real: string, other: string): string => pick([real, real, '*', other]);
    return `arn:aws:secretsmanager:${field(s.region, 'ap-south-1')}:${field(s.account, '999999999999')}:secret:${nameGlob(s)}`;
  };
  return { r, pick, secret, pattern };
}

/** The reference: a glob over a string, by backtracking (independent of the implementation's regexes). */
function glob(p: string, s: string): boolean {
  if (p === '') return s === '';
  if (p[0] === '*') return glob(p.slice(1), s) || (s !== '' && glob(p, s.slice(1)));
  return s !== '' && (p[0] === '?' || p[0] === s[0]) && glob(p.slice(1), s.slice(1));
}

/**
 * What `pattern` allows of the real secret `s`: a glob over its name — or, for a pattern without
 * wildcards and a mapping naming the secret by its full ARN, that ARN's last part exactly; an ARN
 * pattern also over partition, region and account.
 */
function reference(pattern: string, s: Secret, byFullArn: boolean): boolean {
  const namePart = (p: string): boolean =>
    glob(p, s.name) || (byFullArn && !/[*?]/.test(p) && p === `${s.name}-${s.suffix}`);
  if (!pattern.startsWith('arn:')) return namePart(pattern);
  const [, partition, , region, account, , ...rest] = pattern.split(':');
  return (
    glob(partition, s.partition) &&
    glob(region, s.region) &&
    glob(account, s.account) &&
    namePart(rest.join(':'))
  );
}

test('generated: the decision on the resolved secret is the glob on its real name and ARN', () => {
  const g = generator(29);
  let allowed = 0;
  let refused = 0;
  for (let i = 0; i < 3000; i++) {
    const s = g.secret();
    const patterns = Array.from({ length: 1 + Math.floor(g.r() * 3) }, () => g.pattern(s));
    const forms: [string, string][] = [
      ['full ARN', fullArn(s)],
      ['partial ARN', arnOf(s, s.name)],
      ['name', s.name],
    ];
    const [form, id] = g.pick(forms);
    // A bare name resolves in whatever account the operator runs in: only name patterns can vouch for it.
    const applicable = form === 'name' ? patterns.filter((p) => !p.startsWith('arn:')) : patterns;
    const expected = applicable.some((p) => reference(p, s, form === 'full ARN'));
    const verdict = ask(id, patterns, { arn: fullArn(s), name: s.name });
    assert.equal(
      verdict.allowed,
      expected,
      `case ${i}: secret ${fullArn(s)} (name "${s.name}") named by its ${form} ${id}, patterns ${JSON.stringify(patterns)}`,
    );
    if (expected) allowed++;
    else refused++;
  }
  assert.ok(
    allowed > 300 && refused > 300,
    `both answers are exercised (${allowed} allowed, ${refused} refused)`,
  );
});

test('generated: the check before any AWS call never refuses what the resolved secret is allowed', () => {
  const g = generator(2029);
  let checked = 0;
  for (let i = 0; i < 3000; i++) {
    const s = g.secret();
    const patterns = [g.pattern(s), g.pattern(s)];
    for (const [id, all] of [
      [fullArn(s), true],
      [arnOf(s, s.name), true],
      [s.name, false],
    ] as const) {
      const vouching = all ? patterns : patterns.filter((p) => !p.startsWith('arn:'));
      if (!vouching.some((p) => reference(p, s, id === fullArn(s)))) continue;
      checked++;
      assert.equal(ask(id, patterns).allowed, true, `case ${i}: ${id} under ${JSON.stringify(patterns)}`);
    }
  }
  assert.ok(checked > 1000, `${checked} allowed cases checked`);
});

/** Shaped like a full ARN: its last part may be a name plus Secrets Manager's random suffix. */
const fullArnShaped = (id: string): boolean => /^arn:.*-[A-Za-z0-9]{6}$/.test(id);

test('generated: an id not shaped like a full ARN gets the same answer before and after DescribeSecret', () => {
  // Otherwise a refusal after DescribeSecret (NotAllowed) tells an existing secret from a missing one
  // (SecretNotFound). Ids the secret's own name leaves ambiguous are paired with literals naming
  // another secret: the name plus a 6-character tail, as app-config is to app.
  const g = generator(4029);
  let compared = 0;
  let allowed = 0;
  for (let i = 0; i < 3000; i++) {
    const s = g.secret();
    const tail = `${s.name}-${g.pick(['config', s.suffix, 'AbCdEf', 'zz99ZZ'])}`;
    const patterns = [g.pick([tail, arnOf(s, tail), g.pattern(s)]), g.pattern(s)];
    for (const id of [s.name, arnOf(s, s.name)]) {
      if (fullArnShaped(id)) continue;
      compared++;
      const before = ask(id, patterns);
      if (before.allowed) allowed++;
      // Whatever secret the id resolves to (any suffix): the answer the check before AWS gave.
      for (const suffix of [s.suffix, 'config', 'QwErTy']) {
        const after = ask(id, patterns, { arn: arnOf(s, `${s.name}-${suffix}`), name: s.name });
        assert.deepEqual(
          after,
          before,
          `case ${i}: ${id} under ${JSON.stringify(patterns)}, the secret with suffix ${suffix}`,
        );
      }
    }
  }
  assert.ok(compared > 3000 && allowed > 300, `${compared} ids compared, ${allowed} allowed`);
});
