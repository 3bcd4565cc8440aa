import type { Mapping } from '../../resources/types.js';
import { SecretRouter, secretNames } from '../aws/secret-router.js';
import type { Logger } from '../runtime/logger.js';

/** How a mapping was found to watch the secret asked about. */
export type MatchedBy = 'arn' | 'name';

export interface Watcher {
  mapping: Mapping;
  by: MatchedBy;
}

/** The router logs only when a resolution fails; the plugin resolves nothing (no AWS call). */
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet } as unknown as Logger;

/** A resolution that never answers: the ARN a mapping resolved to is the one its status reports. */
const never = (): Promise<never> => new Promise<never>(() => undefined);

/**
 * The mappings that watch `secret` (a name, full ARN or partial ARN), decided as the operator's SQS
 * poller decides which mappings an event concerns — by its SecretRouter, fed the mappings and the
 * ARNs their status reports (status.secretArn: what DescribeSecret answered the operator), with no
 * AWS call: `candidates` by the names an id may stand for, then, when `secret` is the full ARN some
 * mapping resolved to, `watchers` by that ARN (a mapping resolved to another secret of the same name —
 * another account or region — does not watch it). Pure but for the router's own state.
 */
export function watchersOf(secret: string, mappings: Mapping[]): Watcher[] {
  const router = new SecretRouter({ resolve: never, logger: quiet });
  const byKey = new Map(mappings.map((m) => [`${m.metadata.namespace}/${m.metadata.name}`, m]));
  for (const [key, m] of byKey) {
    router.follow(key, m.spec.secretId);
    if (m.status?.secretArn) router.confirm(key, m.spec.secretId, m.status.secretArn);
  }
  const candidates = router.candidates([secret]);
  const knownArn = mappings.some((m) => m.status?.secretArn === secret);
  const keys = knownArn ? router.watchers(secret, candidates) : candidates;
  router.stop();
  return keys.flatMap((k) => {
    const m = byKey.get(k);
    return m
      ? [{ mapping: m, by: m.status?.secretArn === secret ? ('arn' as const) : ('name' as const) }]
      : [];
  });
}

/**
 * The secret a mapping watches as consumers name it: the ARN its status reports and that ARN's name
 * (without Secrets Manager's suffix); before the operator resolved it, the id it names. Pure.
 */
export function watchedSecret(m: Mapping): { arn: string; name: string } {
  const arn = m.status?.secretArn ?? m.spec.secretId;
  const names = secretNames(arn);
  return { arn, name: names[names.length - 1] };
}
