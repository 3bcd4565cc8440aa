import { secretNames } from '../aws/secret-router.js';

const ARN = /^arn:([^:]+):secretsmanager:([^:]*):([^:]*):secret:(.+)$/;

/**
 * A policy's allowedSecrets entry, compiled: a name glob, or an ARN glob field by field. `literal` is
 * the name part when it has no wildcard: it names one secret, by its name or — for a mapping naming
 * the secret by that full ARN — by its full ARN's last part (name plus Secrets Manager's random
 * suffix), as an ARN copied from the console does.
 */
export type SecretPattern = { name: RegExp; literal?: string } & (
  { kind: 'name' } | { kind: 'arn'; partition: RegExp; region: RegExp; account: RegExp }
);

/** The secret DescribeSecret resolved an id to: its real name and full ARN. */
export interface ResolvedSecret {
  arn: string;
  name: string;
}

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
  if (!pattern.startsWith('arn:')) return { kind: 'name', ...namePart(pattern) };
  if (!arn || arn[4].includes(':')) return undefined;
  const [, partition, region, account, name] = arn;
  return {
    kind: 'arn',
    partition: globRegExp(partition),
    region: globRegExp(region),
    account: globRegExp(account),
    ...namePart(name),
  };
}

const namePart = (glob: string): { name: RegExp; literal?: string } =>
  /[*?]/.test(glob) ? { name: globRegExp(glob) } : { name: globRegExp(glob), literal: glob };

/**
 * Whether a mapping's secretId may fall under `p`, before any AWS call: a superset, so the check that
 * follows DescribeSecret (secretMatches) decides. A pattern is tested against the names the id may
 * stand for — the id itself, or an ARN's secret part with or without Secrets Manager's 6-character
 * suffix (see secretNames) — and nothing else. So the check after DescribeSecret can refuse only an
 * id shaped like a full ARN (`…:secret:app-AbCdEf` may be the secret `app`): for any other id both
 * checks see the same name and give the same answer, so its refusal never tells an existing secret
 * from a missing one. (A literal `app-config` does not admit the id `app` here on the chance that
 * `-config` is its suffix: whether the secret `app` exists would then read as NotAllowed against
 * SecretNotFound.) An ARN pattern matches only an id that is an ARN (full or partial), in its
 * partition, region and account: a bare name resolves in whatever account the operator runs in,
 * which a pinned pattern cannot vouch for. Pure.
 */
export function patternMatches(p: SecretPattern, secretId: string): boolean {
  const named = secretNames(secretId).some((n) => p.name.test(n));
  if (p.kind === 'name') return named;
  const arn = ARN.exec(secretId);
  return arn !== null && named && inPlace(p, arn);
}

/**
 * Whether `p` allows the secret DescribeSecret resolved: its real name matches the glob (a wildcard
 * never matches the random suffix: `app-*` does not allow the secret `app`, whose ARN ends in
 * `app-AbCdEf`), or a literal pattern is its full ARN's last part exactly (reached only for an id
 * that names the secret by that full ARN: see patternMatches); an ARN pattern also in the secret's
 * partition, region and account. Pure.
 */
export function secretMatches(p: SecretPattern, secret: ResolvedSecret): boolean {
  const arn = ARN.exec(secret.arn);
  if (!arn) return false;
  const named = p.name.test(secret.name) || (p.literal !== undefined && p.literal === arn[4]);
  return named && (p.kind === 'name' || inPlace(p, arn));
}

const inPlace = (p: Extract<SecretPattern, { kind: 'arn' }>, arn: RegExpExecArray): boolean =>
  p.partition.test(arn[1]) && p.region.test(arn[2]) && p.account.test(arn[3]);
