import type { LabelSelector } from '../../resources/types.js';
import { matchesSelector, selectorProblems } from '../kube/label-selector.js';
import {
  compilePattern,
  patternMatches,
  secretMatches,
  type ResolvedSecret,
  type SecretPattern,
} from './secret-patterns.js';

export type { ResolvedSecret };

/** A SecretsRotationPolicy as decisions use it. */
export interface CompiledPolicy {
  name: string;
  /** undefined: the selector is invalid, and the policy governs every namespace (fails closed). */
  selector: LabelSelector | undefined;
  patterns: SecretPattern[];
  /** revertSecrets: the secrets whose AWSCURRENT a revert may move back. */
  revert: SecretPattern[];
}

export type DefaultPolicy = 'allow' | 'deny';

export type Verdict = { allowed: true; by?: string } | { allowed: false; message: string };

/** Compiles a policy's spec once per change (not once per decision). Pure. */
export function compilePolicy(
  name: string,
  spec: { namespaceSelector?: LabelSelector; allowedSecrets?: string[]; revertSecrets?: string[] },
): CompiledPolicy {
  const selector = spec.namespaceSelector ?? {};
  return {
    name,
    selector: selectorProblems(selector).length ? undefined : selector,
    patterns: (spec.allowedSecrets ?? []).flatMap((s) => compilePattern(s) ?? []),
    revert: (spec.revertSecrets ?? []).flatMap((s) => compilePattern(s) ?? []),
  };
}

/** Whether `p` governs a namespace with `labels`. Pure. */
export const governs = (p: CompiledPolicy, labels: Record<string, string>): boolean =>
  p.selector === undefined || matchesSelector(p.selector, labels);

/**
 * May a mapping of `namespace` (labelled `labels`) watch `secretId`? NetworkPolicy's semantics: a
 * namespace no policy governs is unrestricted unless the default is deny; one that policies govern
 * may map a secret any of them allows. Asked twice per pass. Without `resolved`, before any AWS call,
 * from names alone: refused when no name the id may stand for is allowed, so the answer is the same
 * whether the secret exists or not. With `resolved` (what DescribeSecret answered), a pattern must
 * also allow that secret, by its real name or ARN (see secretMatches): a full ARN whose last part
 * matches does not make the secret `app` an `app-*`. A refusal reads the same either way. Pure.
 */
export function decide(
  input: { namespace: string; labels: Record<string, string>; secretId: string; resolved?: ResolvedSecret },
  policies: CompiledPolicy[],
  defaultPolicy: DefaultPolicy,
): Verdict {
  const { namespace, labels, secretId, resolved } = input;
  const governing = policies.filter((p) => governs(p, labels));
  if (!governing.length) {
    if (defaultPolicy === 'allow') return { allowed: true };
    return {
      allowed: false,
      message: `no SecretsRotationPolicy governs namespace ${namespace} and the operator denies by default (DEFAULT_SECRET_POLICY=deny)`,
    };
  }
  const allows = (pat: SecretPattern): boolean =>
    patternMatches(pat, secretId) && (resolved === undefined || secretMatches(pat, resolved));
  const by = governing.find((p) => p.patterns.some(allows));
  if (by) return { allowed: true, by: by.name };
  const names = governing.map((p) => p.name).join(', ');
  return {
    allowed: false,
    message: `secret "${secretId}" is not among the secrets that the SecretsRotationPolicies governing namespace ${namespace} allow (${names})`,
  };
}

/**
 * May a mapping of `namespace` (labelled `labels`) move back AWSCURRENT of the secret DescribeSecret
 * `resolved` (onFailure Revert)? Only when a policy governing the namespace lists it in revertSecrets,
 * matched on the resolved secret alone (its real name, or its ARN field by field: see secretMatches),
 * so neither a name the mapping's id stands for nor a pattern reaching into the random suffix
 * (`app-*` for the secret `app`) grants it. No governing policy, or the default policy: no. Pure.
 */
export function decideRevert(
  input: { namespace: string; labels: Record<string, string>; resolved: ResolvedSecret },
  policies: CompiledPolicy[],
): Verdict {
  const governing = policies.filter((p) => governs(p, input.labels));
  const by = governing.find((p) => p.revert.some((pat) => secretMatches(pat, input.resolved)));
  if (by) return { allowed: true, by: by.name };
  const names = governing.map((p) => p.name).join(', ');
  return {
    allowed: false,
    message: governing.length
      ? `no SecretsRotationPolicy governing namespace ${input.namespace} (${names}) lists secret ${input.resolved.arn} in revertSecrets`
      : `no SecretsRotationPolicy governs namespace ${input.namespace}, so none allows a revert of secret ${input.resolved.arn} (revertSecrets)`,
  };
}
