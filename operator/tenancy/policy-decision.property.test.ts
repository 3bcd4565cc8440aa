import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { runs } from '../testing/property-runs.js';
import { compilePolicy, decide, type CompiledPolicy, type ResolvedSecret } from './policy-decision.js';

/**
 * The tenancy decision (policy-decision.ts) with fast-check: secrets with names that look like
 * they carry Secrets Manager's suffix, globs with regex characters, policies that govern the namespace
 * and policies that do not. What is checked: the check before AWS never refuses what the resolved
 * secret is allowed; for an id that is not shaped like a full ARN both checks agree (no existence
 * oracle); and a secret outside every governing policy is refused whatever id named it.
 */

const PLACES = [
  { partition: 'aws', region: 'eu-west-1', account: '123456789012' },
  { partition: 'aws', region: 'us-east-1', account: '210987654321' },
  { partition: 'aws-cn', region: 'cn-north-1', account: '123456789012' },
];
type Place = (typeof PLACES)[number];

interface Secret extends Place {
  name: string;
  suffix: string;
}

/** Name characters Secrets Manager allows, plus some a glob or a regex treats specially. */
const nameChar = fc.constantFrom(...'abAB09-/_+=.@$^()[]{}|\\'.split(''));
const suffixArb = fc.stringMatching(/^[A-Za-z0-9]{6}$/);
/** Short names, some of them ending like a suffix (`app-config`, `db-AbCdEf`). */
const nameArb = fc.oneof(
  fc.string({ unit: nameChar, minLength: 1, maxLength: 6 }),
  fc.tuple(fc.string({ unit: nameChar, minLength: 1, maxLength: 4 }), suffixArb).map(([n, s]) => `${n}-${s}`),
);
const secretArb: fc.Arbitrary<Secret> = fc
  .record({
    place: fc.constantFrom(...PLACES),
    name: nameArb,
    suffix: suffixArb,
  })
  .map(({ place, ...s }) => ({ ...place, ...s }));

const arnOf = (p: Place, tail: string): string =>
  `arn:${p.partition}:secretsmanager:${p.region}:${p.account}:secret:${tail}`;
const resolvedOf = (s: Secret): ResolvedSecret => ({ name: s.name, arn: arnOf(s, `${s.name}-${s.suffix}`) });

/** A glob near `s`: its name, its name plus a suffix, cut short, with wildcards, a regex-looking one. */
const nameGlobArb = (s: Secret): fc.Arbitrary<string> =>
  fc
    .record({
      base: fc.oneof(fc.constant(s.name), fc.constant(`${s.name}-${s.suffix}`), nameArb),
      form: fc.nat(5),
      cut: fc.nat(),
    })
    .map(({ base, form, cut }) => {
      const at = cut % (base.length + 1);
      if (form === 0) return `${base.slice(0, at)}*`;
      if (form === 1) return `*${base.slice(at)}`;
      if (form === 2) return `${base.slice(0, at)}?${base.slice(at + 1)}`;
      if (form === 3) return `${base}-*`;
      return base;
    })
    .filter((g) => g.length > 0);

const fieldArb = (real: string, other: string): fc.Arbitrary<string> =>
  fc.constantFrom(real, real, '*', other, `${real.slice(0, 2)}*`);

const patternArb = (s: Secret): fc.Arbitrary<string> =>
  fc.oneof(
    nameGlobArb(s),
    fc
      .tuple(fieldArb(s.region, 'ap-south-1'), fieldArb(s.account, '999999999999'), nameGlobArb(s))
      .map(
        ([region, account, glob]) => `arn:${s.partition}:secretsmanager:${region}:${account}:secret:${glob}`,
      ),
  );

interface RawPolicy {
  governs: boolean;
  patterns: string[];
}

/** Policies for the namespace labelled team=a: some govern it, some (selecting team=b) do not. */
const rawPoliciesArb = (s: Secret): fc.Arbitrary<RawPolicy[]> =>
  fc.array(fc.record({ governs: fc.boolean(), patterns: fc.array(patternArb(s), { maxLength: 3 }) }), {
    maxLength: 3,
  });

const compiled = (raw: RawPolicy[]): CompiledPolicy[] =>
  raw.map((p, i) =>
    compilePolicy(`p${i}`, {
      namespaceSelector: { matchLabels: { team: p.governs ? 'a' : 'b' } },
      allowedSecrets: p.patterns,
    }),
  );

/** The ids a tenant may name `s` by: its name, its partial ARN, its full ARN. */
const idsOf = (s: Secret): Array<{ form: string; id: string }> => [
  { form: 'name', id: s.name },
  { form: 'partial ARN', id: arnOf(s, s.name) },
  { form: 'full ARN', id: arnOf(s, `${s.name}-${s.suffix}`) },
];

const ask = (
  policies: CompiledPolicy[],
  secretId: string,
  resolved?: ResolvedSecret,
  dflt: 'allow' | 'deny' = 'deny',
) => decide({ namespace: 'ns', labels: { team: 'a' }, secretId, resolved }, policies, dflt);

const caseArb = secretArb
  .chain((s) =>
    fc.record({
      s: fc.constant(s),
      raw: rawPoliciesArb(s),
      dflt: fc.constantFrom('allow' as const, 'deny' as const),
    }),
  )
  .map((c) => ({ ...c, policies: compiled(c.raw) }));

test('property: allowed on the resolved secret ⇒ allowed before any AWS call, whatever the id form', () => {
  fc.assert(
    fc.property(caseArb, ({ s, policies, dflt }) => {
      for (const { form, id } of idsOf(s))
        if (ask(policies, id, resolvedOf(s), dflt).allowed)
          assert.equal(ask(policies, id, undefined, dflt).allowed, true, `${form} ${id}`);
    }),
    runs(3301, 1500),
  );
});

/** Shaped like a full ARN: its last part may be a name plus the 6-character suffix. */
const fullArnShaped = (id: string): boolean => /^arn:.*-[A-Za-z0-9]{6}$/.test(id);

test('property: for an id not shaped like a full ARN, allowed before AWS ⇔ allowed on the resolved secret', () => {
  fc.assert(
    fc.property(caseArb, ({ s, policies, dflt }) => {
      for (const { form, id } of idsOf(s)) {
        if (fullArnShaped(id)) continue;
        const before = ask(policies, id, undefined, dflt);
        assert.deepEqual(ask(policies, id, resolvedOf(s), dflt), before, `${form} ${id}`);
      }
    }),
    runs(3302, 1500),
  );
});

/** A glob over a string by backtracking: `*` any run, `?` one character (apart from the implementation's regexes). */
function glob(p: string, t: string): boolean {
  if (p === '') return t === '';
  if (p[0] === '*') return glob(p.slice(1), t) || (t !== '' && glob(p, t.slice(1)));
  return t !== '' && (p[0] === '?' || p[0] === t[0]) && glob(p.slice(1), t.slice(1));
}

/** Whether a pattern of a governing policy names `s` itself: a glob on its name, or its full ARN's last part. */
function insidePolicies(raw: RawPolicy[], s: Secret): boolean {
  const named = (g: string): boolean => glob(g, s.name) || g === `${s.name}-${s.suffix}`;
  const inside = (pattern: string): boolean => {
    if (!pattern.startsWith('arn:')) return named(pattern);
    const [, partition, , region, account, , ...rest] = pattern.split(':');
    const place = glob(partition, s.partition) && glob(region, s.region) && glob(account, s.account);
    return place && named(rest.join(':'));
  };
  return raw.some((p) => p.governs && p.patterns.some(inside));
}

test('property: a resolved secret outside every governing policy is refused, whatever id the tenant used', () => {
  const anyId = (s: Secret): fc.Arbitrary<string> =>
    fc.oneof(
      fc.constantFrom(...idsOf(s).map((x) => x.id)),
      // Suffix tricks and other places: what the id says does not matter, the resolved secret does.
      nameArb.map((n) => arnOf(s, `${s.name}-${n}`)),
      fc.constantFrom(...PLACES).map((p) => arnOf(p, `${s.name}-${s.suffix}`)),
      nameArb,
      fc.string(),
    );
  fc.assert(
    fc.property(
      caseArb.chain((c) => fc.record({ c: fc.constant(c), id: anyId(c.s) })),
      ({ c: { s, raw, policies, dflt }, id }) => {
        // A namespace no policy governs is the default's to decide (the refusal under deny is the point).
        const governed = raw.some((p) => p.governs);
        fc.pre(!insidePolicies(raw, s));
        if (!governed) return assert.equal(ask(policies, id, resolvedOf(s), dflt).allowed, dflt === 'allow');
        assert.equal(ask(policies, id, resolvedOf(s), dflt).allowed, false, id);
      },
    ),
    runs(3303, 1500),
  );
});

/** What a pattern allows of `s` named by `form`: a glob on its name, a literal its full ARN's last part. */
function reference(pattern: string, s: Secret, form: string): boolean {
  const named = (g: string): boolean =>
    glob(g, s.name) || (form === 'full ARN' && !/[*?]/.test(g) && g === `${s.name}-${s.suffix}`);
  if (!pattern.startsWith('arn:')) return named(pattern);
  // A bare name resolves in whatever account the operator runs in: an ARN pattern cannot vouch for it.
  if (form === 'name') return false;
  const [, partition, , region, account, , ...rest] = pattern.split(':');
  const place = glob(partition, s.partition) && glob(region, s.region) && glob(account, s.account);
  return place && named(rest.join(':'));
}

test('property: the decision on the resolved secret is the policies’ globs on its real name and place', () => {
  fc.assert(
    fc.property(caseArb, ({ s, raw, policies, dflt }) => {
      const governing = raw.filter((p) => p.governs);
      for (const { form, id } of idsOf(s)) {
        const expected = governing.length
          ? governing.some((p) => p.patterns.some((pat) => reference(pat, s, form)))
          : dflt === 'allow';
        const what = `${form} ${id} under ${JSON.stringify(raw)}`;
        assert.equal(ask(policies, id, resolvedOf(s), dflt).allowed, expected, what);
      }
    }),
    runs(3304, 1500),
  );
});
