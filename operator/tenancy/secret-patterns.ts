import { secretNames } from '../aws/secret-router.js';

const ARN = /^arn:([^:]+):secretsmanager:([^:]*):([^:]*):secret:(.+)$/;

/** A policy's allowedSecrets entry, compiled: a name glob, or an ARN glob field by field. */
export type SecretPattern =
  | { kind: 'name'; name: RegExp }
  | { kind: 'arn'; partition: RegExp; region: RegExp; account: RegExp; name: RegExp };

/** `*` any run of characters, `?` one; everything else literal. Anchored. Pure. */
export function globRegExp(glob: string): RegExp {
  const body = glob
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/**
 * Compiles one allowedSecrets entry; undefined when it is neither a name nor an ARN pattern (the
 * CRD's pattern refuses those at apply; a policy applied around it allows nothing by that entry).
 * In an ARN pattern a `*` stays within its field: `arn:aws:secretsmanager:*:123456789012:secret:x`
 * pins the account whatever the region. Pure.
 */
export function compilePattern(pattern: string): SecretPattern | undefined {
  if (!pattern || pattern.includes(':') !== pattern.startsWith('arn:')) return undefined;
  const arn = ARN.exec(pattern);
  if (!pattern.startsWith('arn:')) return { kind: 'name', name: globRegExp(pattern) };
  if (!arn || arn[4].includes(':')) return undefined;
  const [, partition, region, account, name] = arn;
  return {
    kind: 'arn',
    partition: globRegExp(partition),
    region: globRegExp(region),
    account: globRegExp(account),
    name: globRegExp(name),
  };
}

/**
 * Whether a mapping's secretId falls under `p`. A name pattern is tested against the name the id
 * stands for — the id itself, or an ARN's secret part with or without Secrets Manager's 6-character
 * suffix (see secretNames). An ARN pattern matches only an id that is an ARN (full or partial), in
 * its partition, region and account: a bare name resolves in whatever account the operator runs in,
 * which a pinned pattern cannot vouch for. Pure.
 */
export function patternMatches(p: SecretPattern, secretId: string): boolean {
  const names = secretNames(secretId);
  if (p.kind === 'name') return names.some((n) => p.name.test(n));
  const arn = ARN.exec(secretId);
  if (!arn) return false;
  const [, partition, region, account] = arn;
  return (
    p.partition.test(partition) &&
    p.region.test(region) &&
    p.account.test(account) &&
    names.some((n) => p.name.test(n))
  );
}
