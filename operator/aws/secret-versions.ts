import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AccessDeniedError, SecretNotFoundError } from '../runtime/errors.js';
import { Slots } from '../runtime/slots.js';

/** DescribeSecret calls in flight at once for level passes; event-driven lookups bypass the limit. */
const BACKGROUND_CALLS = 4;

/** What the operator knows of a secret: never its value, only which version holds AWSCURRENT. */
export interface SecretVersion {
  arn: string;
  name: string;
  currentVersionId: string;
  /** Every version labelled AWSCURRENT: one on AWS; the local emulator sometimes reports two. */
  currentVersionIds: string[];
  /** Versions labelled AWSPENDING (a rotation in progress); absent in answers made before it was read. */
  pendingVersionIds?: string[];
  /** When the DescribeSecret call that produced this answer started (epoch ms). */
  fetchedAt: number;
}

/** The versions labelled AWSCURRENT in DescribeSecret's VersionIdsToStages (normally exactly one). */
export function currentVersionsOf(stages: Record<string, string[]> | undefined): string[] {
  return versionsLabelled(stages, 'AWSCURRENT');
}

/** The versions carrying `label` in DescribeSecret's VersionIdsToStages. */
export function versionsLabelled(stages: Record<string, string[]> | undefined, label: string): string[] {
  return Object.entries(stages ?? {})
    .filter(([, labels]) => labels.includes(label))
    .map(([id]) => id);
}

/**
 * The answer as seen by an event naming `expected`: when AWSCURRENT sits on several versions and
 * one is the event's, that one is current (the event says which moved last). Pure.
 */
export function preferExpected(v: SecretVersion, expected: string | undefined): SecretVersion {
  if (!expected || v.currentVersionId === expected || !v.currentVersionIds.includes(expected)) return v;
  return { ...v, currentVersionId: expected };
}

export interface SecretVersionsHooks {
  onCall?: (result: 'success' | 'not_found' | 'access_denied' | 'error') => void;
  /** AWSCURRENT reported on several versions (never on AWS; the local emulator does it). */
  onAnomaly?: (secretId: string, versionIds: string[]) => void;
}

export interface ResolveOptions {
  /** Only accept an answer whose call started at or after this time (epoch ms). */
  notBefore?: number;
  /**
   * The version an event says became current: a cached answer (within the TTL) already showing it as
   * AWSCURRENT is enough, whatever its age, so duplicates of one event cost no call; a cached answer
   * that does not show it is not used, however recent (clocks of AWS and ours differ), and a fresh
   * call decides.
   */
  expectedVersionId?: string;
}

/**
 * Resolves a secret id (name, full or partial ARN) to its ARN and AWSCURRENT version with
 * DescribeSecret (never GetSecretValue). Answers are cached per ARN for `ttlMs`, and every id that
 * resolved to an ARN shares that ARN's entry, so an event naming the secret by ARN refreshes what a
 * mapping naming it by name sees. Concurrent lookups of one id share one call.
 */
export class SecretVersions {
  private readonly aliases = new Map<string, string>();
  private readonly byArn = new Map<string, SecretVersion>();
  /** Per name in its partition, region and account: the ARN last seen holding it (see supersede). */
  private readonly byPlace = new Map<string, string>();
  private readonly inflight = new Map<
    string,
    { startedAt: number; queued: boolean; promise: Promise<SecretVersion> }
  >();
  /**
   * Level passes (no event to keep up with) describe through a few slots: a new leader's first round
   * over thousands of mappings must not queue a rotation's lookup behind hundreds of its own.
   */
  private readonly background = new Slots(BACKGROUND_CALLS);
  /** When answers past their TTL were last dropped: at most once per TTL, on every replica. */
  private prunedAt = 0;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly ttlMs: number,
    private readonly hooks: SecretVersionsHooks = {},
  ) {}

  private onCall(result: 'success' | 'not_found' | 'access_denied' | 'error'): void {
    this.hooks.onCall?.(result);
  }

  async resolve(secretId: string, opts: ResolveOptions = {}): Promise<SecretVersion> {
    const v = await this.lookup(secretId, opts);
    const preferred = preferExpected(v, opts.expectedVersionId);
    // Passes read the cache without an expectation: they must see the version the event chose.
    if (preferred !== v && this.byArn.get(v.arn) === v) this.byArn.set(v.arn, preferred);
    return preferred;
  }

  private lookup(secretId: string, opts: ResolveOptions): Promise<SecretVersion> {
    const now = Date.now();
    const floor = Math.max(opts.notBefore ?? 0, now - this.ttlMs);
    const cached = this.cached(secretId, opts, now, floor);
    if (cached) return Promise.resolve(cached);
    const urgent = opts.notBefore !== undefined;
    const running = this.inflight.get(secretId);
    if (running && running.startedAt >= floor && (!urgent || !running.queued)) return running.promise;
    const state = { queued: !urgent };
    const call = (): Promise<SecretVersion> => {
      state.queued = false;
      return this.describe(secretId, now);
    };
    const promise: Promise<SecretVersion> = (urgent ? call() : this.background.run(call)).finally(() => {
      if (this.inflight.get(secretId)?.promise === promise) this.inflight.delete(secretId);
    });
    this.inflight.set(secretId, {
      startedAt: now,
      promise,
      get queued() {
        return state.queued;
      },
    });
    return promise;
  }

  /** A cached answer recent enough, or one within the TTL that already shows the expected version. */
  private cached(
    secretId: string,
    opts: ResolveOptions,
    now: number,
    floor: number,
  ): SecretVersion | undefined {
    const arn = this.aliases.get(secretId);
    const cached = arn ? this.byArn.get(arn) : undefined;
    if (!cached) return undefined;
    const expected = opts.expectedVersionId;
    if (expected !== undefined && !cached.currentVersionIds.includes(expected)) return undefined;
    if (cached.fetchedAt >= floor) return cached;
    return expected !== undefined && cached.fetchedAt >= now - this.ttlMs ? cached : undefined;
  }

  /** How many secrets have a cached answer. */
  get size(): number {
    return this.byArn.size;
  }

  /** Drops entries older than the TTL, and aliases that point nowhere, so memory stays bounded. */
  private prune(): void {
    this.prunedAt = Date.now();
    const floor = this.prunedAt - this.ttlMs;
    for (const [arn, v] of this.byArn) if (v.fetchedAt < floor) this.byArn.delete(arn);
    for (const [id, arn] of this.aliases) if (!this.byArn.has(arn)) this.aliases.delete(id);
    for (const [place, arn] of this.byPlace) if (!this.byArn.has(arn)) this.byPlace.delete(place);
  }

  /**
   * One name, one secret at a time (per partition, region and account): an answer showing `name`
   * at a new ARN means the secret we cached under it was deleted and the name created again. Its
   * answer and every id resolved to it are dropped, so a pass naming the secret by name or partial
   * ARN asks AWS at once instead of acting on the deleted secret until the TTL. False when a newer
   * answer already placed the name elsewhere: this one is stale, is not cached, and its lookup is
   * done again (see describe).
   */
  private supersede(ids: { arn: string; name: string }, startedAt: number): boolean {
    const place = `${ids.arn.slice(0, ids.arn.lastIndexOf(':secret:'))}:${ids.name}`;
    const other = this.byPlace.get(place);
    if (other !== undefined && other !== ids.arn) {
      const old = this.byArn.get(other);
      if (old && old.fetchedAt > startedAt) return false;
      this.byArn.delete(other);
      for (const [id, arn] of this.aliases) if (arn === other) this.aliases.delete(id);
    }
    this.byPlace.set(place, ids.arn);
    return true;
  }

  /**
   * DescribeSecret. An answer another one that started later has superseded (the old ARN of a secret
   * recreated under its name) is not returned: the lookup is done again, so no caller confirms or acts
   * on the deleted secret. Twice stale (answers still racing): an error the caller retries.
   */
  private async describe(secretId: string, startedAt: number): Promise<SecretVersion> {
    const answer =
      (await this.describeOnce(secretId, startedAt)) ?? (await this.describeOnce(secretId, Date.now()));
    if (answer) return answer;
    throw new Error(`DescribeSecret "${secretId}": answers still racing with newer ones; try again`);
  }

  /** One DescribeSecret call, cached; undefined when a newer answer superseded it (see supersede). */
  private async describeOnce(secretId: string, startedAt: number): Promise<SecretVersion | undefined> {
    let out;
    try {
      out = await this.client.send(new DescribeSecretCommand({ SecretId: secretId }));
    } catch (err) {
      throw this.failure(secretId, err);
    }
    this.onCall('success');
    if (!out.ARN || !out.Name) throw new Error(`DescribeSecret "${secretId}" returned no ARN`);
    if (out.DeletedDate) throw new SecretNotFoundError(`secret "${secretId}" is scheduled for deletion`);
    const version = this.answer(secretId, { arn: out.ARN, name: out.Name }, out.VersionIdsToStages);
    version.fetchedAt = startedAt;
    if (!this.supersede(version, startedAt)) return undefined;
    const previous = this.byArn.get(out.ARN);
    if (!previous || previous.fetchedAt <= startedAt) this.byArn.set(out.ARN, version);
    this.aliases.set(secretId, out.ARN);
    this.aliases.set(out.ARN, out.ARN);
    // Bounded on every replica, whether or not it leads or runs a resync.
    if (Date.now() - this.prunedAt > this.ttlMs) this.prune();
    return version;
  }

  /** The answer of one DescribeSecret; with several AWSCURRENT versions, the one an event chose stays. */
  private answer(
    secretId: string,
    ids: { arn: string; name: string },
    stages: Record<string, string[]> | undefined,
  ): SecretVersion {
    const currentVersionIds = currentVersionsOf(stages);
    if (!currentVersionIds.length)
      throw new SecretNotFoundError(`secret "${secretId}" has no AWSCURRENT version`);
    if (currentVersionIds.length > 1) this.hooks.onAnomaly?.(secretId, currentVersionIds);
    const previous = this.byArn.get(ids.arn)?.currentVersionId;
    const chosen =
      previous !== undefined && currentVersionIds.includes(previous) ? previous : currentVersionIds[0];
    const pendingVersionIds = versionsLabelled(stages, 'AWSPENDING');
    return { ...ids, currentVersionId: chosen, currentVersionIds, pendingVersionIds, fetchedAt: 0 };
  }

  /** The error class callers branch on for a failed DescribeSecret, counted by result. */
  private failure(secretId: string, err: unknown): Error {
    const name = (err as { name?: string }).name ?? '';
    if (name === 'ResourceNotFoundException') {
      this.onCall('not_found');
      return new SecretNotFoundError(`secret "${secretId}" not found`, { cause: err });
    }
    if (name === 'AccessDeniedException' || name === 'AccessDenied') {
      this.onCall('access_denied');
      return new AccessDeniedError(`DescribeSecret denied for "${secretId}"`, { cause: err });
    }
    this.onCall('error');
    return new Error(`DescribeSecret "${secretId}" failed: ${(err as Error).message}`, { cause: err });
  }
}
