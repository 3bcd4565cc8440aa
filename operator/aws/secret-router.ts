import { AccessDeniedError, SecretNotFoundError, describe } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import { Slots } from '../runtime/slots.js';
import type { ResolveOptions, SecretVersion } from './secret-versions.js';

const SECRET_ARN = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+)$/;

/**
 * The names a secret id may stand for, without asking AWS: a name is itself; an ARN's tail is the
 * name, or — for a full ARN — the name plus Secrets Manager's `-XXXXXX` suffix (a partial ARN has
 * none, and the two cannot be told apart by their form). A superset: matching on it never misses. Pure.
 */
export function secretNames(id: string): string[] {
  const tail = SECRET_ARN.exec(id)?.[1];
  if (tail === undefined) return [id];
  const stripped = tail.replace(/-[A-Za-z0-9]{6}$/, '');
  return stripped === tail ? [tail] : [tail, stripped];
}

/** `partition:region:account:name` of a full ARN (the name without its suffix): one secret at a time. */
function placeOf(arn: string): string | undefined {
  const m = /^arn:([^:]+):secretsmanager:([^:]*):([^:]*):secret:(.+)-[A-Za-z0-9]{6}$/.exec(arn);
  return m ? `${m[1]}:${m[2]}:${m[3]}:${m[4]}` : undefined;
}

/** The name of the secret whose full ARN (as DescribeSecret gives it) is `arn`. */
const nameOfArn = (arn: string): string => placeOf(arn)?.split(':')[3] ?? secretNames(arn)[0];

/** What the router knows of one mapping's secret. */
interface Route {
  secretId: string;
  names: string[];
  /** The ARN DescribeSecret gave; undefined while resolving, or when it cannot be described. */
  arn?: string;
}

export interface SecretRouterOptions {
  resolve(secretId: string, opts: ResolveOptions): Promise<SecretVersion>;
  logger: Logger;
  /** How soon a secret that could not be resolved (transient AWS error) is tried again. */
  retryMs?: number;
  /**
   * Resolutions in flight at once (default 8). A start follows every mapping at once: 20,000
   * mappings over 2,000 secrets opened 2,000 DescribeSecret connections together, which timed out
   * against the endpoint and retried as a storm for minutes before the first pass could finish.
   */
  maxResolving?: number;
  /**
   * Whether the mapping `key` may watch the secret its `secretId` resolved to (false: its
   * SecretsRotationPolicies refuse it). Asked on every resolution and when policies change.
   */
  authorise?(key: string, secretId: string, secret: { arn: string; name: string }): boolean;
  /**
   * The mapping `key` naming `secretId` became refused on the secret it resolved to, or stopped being
   * refused — however it was learnt (a background resolution, a pass's confirm, a policy change): on
   * every replica, the caches it needs are claimed or released accordingly.
   */
  onRefusalChange?(key: string, secretId: string): void;
}

/**
 * The one owner of secret routing: which mappings watch which secret. It follows the mapping cache
 * (follow/forget), resolves each mapping's secretId to its ARN (retrying transient failures), takes
 * the ARN a reconcile pass resolved (confirm), and answers the SQS poller — first without any AWS
 * call (`candidates`: an event for a secret no mapping can be watching costs nothing), then exactly,
 * by ARN, once the poller described the secret (`watchers`). A mapping whose policies refuse the
 * secret it resolved to is not routed: no event costs a DescribeSecret on its behalf.
 */
export class SecretRouter {
  private readonly routes = new Map<string, Route>();
  private readonly byName = new Map<string, Set<string>>();
  private readonly byArn = new Map<string, Set<string>>();
  /**
   * Mappings whose policies refuse the secret their `arn` is (see authorise): they answer no event,
   * and their ARN is not indexed. Few: a set, not an index.
   */
  private readonly refusals = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly slots: Slots;

  constructor(private readonly opts: SecretRouterOptions) {
    this.slots = new Slots(opts.maxResolving ?? 8);
  }

  /**
   * A mapping entered the cache or changed, or its policies did: route its secret (resolved in the
   * background), or authorise again the secret it resolved to.
   */
  follow(key: string, secretId: string, notBefore?: number): void {
    const known = this.routes.get(key);
    if (known?.secretId === secretId) {
      this.setArn(key, known, known.arn);
      return;
    }
    this.forget(key);
    const route: Route = { secretId, names: secretNames(secretId) };
    this.routes.set(key, route);
    for (const n of route.names) link(this.byName, n, key);
    this.resolve(key, secretId, notBefore);
  }

  /** The mapping is gone. */
  forget(key: string): void {
    const route = this.routes.get(key);
    if (!route) return;
    this.routes.delete(key);
    for (const n of route.names) unlink(this.byName, n, key);
    if (route.arn !== undefined) unlink(this.byArn, route.arn, key);
    // `refuses` answers for every mapping of the namespace naming the id: theirs may change with it.
    if (this.refusals.delete(key)) this.opts.onRefusalChange?.(key, route.secretId);
  }

  /**
   * What a reconcile pass resolved for the mapping's `secretId` (null: it routes nothing — missing,
   * denied, or a spec that cannot be acted on; an ARN its policies refuse routes nothing either).
   * Ignored when the mapping names another secret since.
   */
  confirm(key: string, secretId: string, arn: string | null): void {
    const route = this.routes.get(key);
    if (route?.secretId === secretId) this.setArn(key, route, arn ?? undefined);
  }

  /**
   * Mappings that may watch a secret an event names by any of `ids` (names or ARNs), decided from
   * names alone: empty means no mapping can be concerned, and the event needs no AWS call.
   */
  candidates(ids: string[]): string[] {
    const found = new Set<string>();
    for (const id of ids) {
      const arnKeys = this.byArn.get(id);
      for (const k of arnKeys ?? []) found.add(k);
      for (const n of secretNames(id)) for (const k of this.byName.get(n) ?? []) found.add(k);
    }
    return [...found].filter((k) => !this.refusals.has(k));
  }

  /**
   * Among `candidates`, the mappings watching the secret DescribeSecret answered with `arn`: those
   * resolved to it, those not resolved yet, and those resolved to an earlier secret of the same name
   * in the same account and region — deleted and created again, so a new ARN: unless the mapping
   * names the old one by its full ARN, its id now stands for this one. Their pass decides (a spare
   * pass restarts nothing) and confirms the new ARN.
   */
  watchers(arn: string, candidates: string[]): string[] {
    const place = placeOf(arn);
    return candidates.filter((k) => {
      const route = this.routes.get(k);
      if (route === undefined || this.refusals.has(k)) return false;
      if (route.arn === undefined || route.arn === arn) return true;
      return place !== undefined && placeOf(route.arn) === place && route.secretId !== route.arn;
    });
  }

  /**
   * Looks up, in this order, the secrets of `secretIds` that routed mappings name (never a secret a
   * policy denies), through the lookups' background slots: a new leader's first round then finds
   * them answered or in flight.
   */
  warm(secretIds: string[]): void {
    const routed = new Set([...this.routes].flatMap(([k, r]) => (this.refusals.has(k) ? [] : [r.secretId])));
    for (const id of secretIds) if (routed.has(id)) this.opts.resolve(id, {}).catch(() => undefined);
  }

  /**
   * Whether a mapping of `namespace` naming `secretId` is refused on the secret it resolved to, which
   * names alone allowed (the policies' status counts it as not allowed).
   */
  refuses(namespace: string, secretId: string): boolean {
    for (const k of this.refusals)
      if (k.startsWith(`${namespace}/`) && this.routes.get(k)?.secretId === secretId) return true;
    return false;
  }

  /** Per watched ARN (the resync's list): the mappings resolved to it and the ids they name it by. */
  watched(): Map<string, { keys: string[]; secretIds: string[] }> {
    const out = new Map<string, { keys: string[]; secretIds: string[] }>();
    for (const [arn, keys] of this.byArn) {
      const ids = new Set([...keys].map((k) => this.routes.get(k)?.secretId ?? arn));
      out.set(arn, { keys: [...keys], secretIds: [...ids] });
    }
    return out;
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Records the ARN `route` resolved to, indexed by it unless the mapping's policies refuse it. */
  private setArn(key: string, route: Route, arn: string | undefined): void {
    const secret = arn === undefined ? undefined : { arn, name: nameOfArn(arn) };
    const refused = secret !== undefined && this.opts.authorise?.(key, route.secretId, secret) === false;
    if (route.arn !== undefined) unlink(this.byArn, route.arn, key);
    route.arn = arn;
    const was = this.refusals.has(key);
    if (refused) this.refusals.add(key);
    else this.refusals.delete(key);
    if (arn !== undefined && !refused) link(this.byArn, arn, key);
    if (was !== refused) this.opts.onRefusalChange?.(key, route.secretId);
  }

  private resolve(key: string, secretId: string, notBefore: number | undefined): void {
    const current = (): Route | undefined => {
      const r = this.routes.get(key);
      return r?.secretId === secretId ? r : undefined;
    };
    // A mapping forgotten or changed while it waited for a slot costs no call, nor one whose pass
    // confirmed the ARN meanwhile.
    const call = (): Promise<SecretVersion | undefined> =>
      current() && current()?.arn === undefined
        ? this.opts.resolve(secretId, { notBefore })
        : Promise.resolve(undefined);
    this.slots.run(call).then(
      (v) => {
        const r = current();
        if (r && v) this.setArn(key, r, v.arn);
      },
      (err: unknown) => {
        if (!current()) return;
        // A secret that cannot be described routes by name only; its mapping reports why.
        if (err instanceof SecretNotFoundError || err instanceof AccessDeniedError) return;
        const retryInMs = this.opts.retryMs ?? 5000;
        this.opts.logger.warn('could not resolve the secret of a mapping; will retry', {
          mapping: key,
          secret: secretId,
          error: describe(err),
          retryInMs,
        });
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (current()) this.resolve(key, secretId, notBefore);
        }, retryInMs);
        timer.unref();
        this.timers.add(timer);
      },
    );
  }
}

function link(index: Map<string, Set<string>>, term: string, key: string): void {
  let keys = index.get(term);
  if (!keys) index.set(term, (keys = new Set()));
  keys.add(key);
}

function unlink(index: Map<string, Set<string>>, term: string, key: string): void {
  const keys = index.get(term);
  keys?.delete(key);
  if (keys?.size === 0) index.delete(term);
}
