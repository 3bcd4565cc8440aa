import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AccessDeniedError, SecretNotFoundError } from '../runtime/errors.js';

/** What the operator knows of a secret: never its value, only which version holds AWSCURRENT. */
export interface SecretVersion {
  arn: string;
  name: string;
  currentVersionId: string;
  /** When the DescribeSecret call that produced this answer started (epoch ms). */
  fetchedAt: number;
}

/** The version labelled AWSCURRENT in DescribeSecret's VersionIdsToStages, if any. */
export function currentVersionOf(stages: Record<string, string[]> | undefined): string | undefined {
  return Object.entries(stages ?? {}).find(([, labels]) => labels.includes('AWSCURRENT'))?.[0];
}

export interface ResolveOptions {
  /** Only accept an answer whose call started at or after this time (epoch ms). */
  notBefore?: number;
  /**
   * The version an event says became current: a cached answer (within the TTL) already showing it as
   * AWSCURRENT is enough, whatever its age, so duplicates of one event cost no call.
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
  private readonly inflight = new Map<string, { startedAt: number; promise: Promise<SecretVersion> }>();

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly ttlMs: number,
    private readonly onCall: (result: 'success' | 'not_found' | 'access_denied' | 'error') => void = () => {},
  ) {}

  async resolve(secretId: string, opts: ResolveOptions = {}): Promise<SecretVersion> {
    const now = Date.now();
    const floor = Math.max(opts.notBefore ?? 0, now - this.ttlMs);
    const arn = this.aliases.get(secretId);
    const cached = arn ? this.byArn.get(arn) : undefined;
    if (cached && cached.fetchedAt >= floor) return cached;
    if (
      cached &&
      opts.expectedVersionId &&
      cached.currentVersionId === opts.expectedVersionId &&
      cached.fetchedAt >= now - this.ttlMs
    ) {
      return cached;
    }
    const running = this.inflight.get(secretId);
    if (running && running.startedAt >= floor) return running.promise;
    const promise = this.describe(secretId, now).finally(() => {
      if (this.inflight.get(secretId)?.promise === promise) this.inflight.delete(secretId);
    });
    this.inflight.set(secretId, { startedAt: now, promise });
    return promise;
  }

  /** Drops entries older than the TTL, and aliases that point nowhere, so memory stays bounded. */
  prune(): void {
    const floor = Date.now() - this.ttlMs;
    for (const [arn, v] of this.byArn) if (v.fetchedAt < floor) this.byArn.delete(arn);
    for (const [id, arn] of this.aliases) if (!this.byArn.has(arn)) this.aliases.delete(id);
  }

  private async describe(secretId: string, startedAt: number): Promise<SecretVersion> {
    let out;
    try {
      out = await this.client.send(new DescribeSecretCommand({ SecretId: secretId }));
    } catch (err) {
      const name = (err as { name?: string }).name ?? '';
      if (name === 'ResourceNotFoundException') {
        this.onCall('not_found');
        throw new SecretNotFoundError(`secret "${secretId}" not found`, { cause: err });
      }
      if (name === 'AccessDeniedException' || name === 'AccessDenied') {
        this.onCall('access_denied');
        throw new AccessDeniedError(`DescribeSecret denied for "${secretId}"`, { cause: err });
      }
      this.onCall('error');
      throw new Error(`DescribeSecret "${secretId}" failed: ${(err as Error).message}`, { cause: err });
    }
    this.onCall('success');
    if (!out.ARN || !out.Name) throw new Error(`DescribeSecret "${secretId}" returned no ARN`);
    if (out.DeletedDate) throw new SecretNotFoundError(`secret "${secretId}" is scheduled for deletion`);
    const currentVersionId = currentVersionOf(out.VersionIdsToStages);
    if (!currentVersionId) throw new SecretNotFoundError(`secret "${secretId}" has no AWSCURRENT version`);
    const version: SecretVersion = { arn: out.ARN, name: out.Name, currentVersionId, fetchedAt: startedAt };
    const previous = this.byArn.get(out.ARN);
    if (!previous || previous.fetchedAt <= startedAt) this.byArn.set(out.ARN, version);
    this.aliases.set(secretId, out.ARN);
    this.aliases.set(out.ARN, out.ARN);
    return version;
  }
}
