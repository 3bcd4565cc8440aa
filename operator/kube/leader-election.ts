import { V1MicroTime, type CoordinationV1Api, type V1Lease, type V1LeaseSpec } from '@kubernetes/client-node';
import { describe, isConflict, isNotFound } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export interface Observed {
  holder: string | undefined;
  renewTime: string | undefined;
  /** Local time at which the record last changed: expiry is judged on our clock, never the holder's. */
  at: number;
}

/** The Lease as last seen, stamped with our clock when its holder or renewTime last changed. Pure. */
export function observe(prev: Observed | undefined, spec: V1LeaseSpec, now: number): Observed {
  const holder = spec.holderIdentity || undefined;
  const renewTime = spec.renewTime ? new Date(spec.renewTime).toISOString() : undefined;
  return prev && prev.holder === holder && prev.renewTime === renewTime
    ? prev
    : { holder, renewTime, at: now };
}

/**
 * Whether `identity` may take or renew the Lease: it is free, ours, or its holder has not renewed it
 * for leaseDurationSeconds as observed on our clock (never the holder's). Pure.
 */
export function mayTake(spec: V1LeaseSpec, observed: Observed, identity: string, now: number): boolean {
  const holder = spec.holderIdentity || undefined;
  if (!holder || holder === identity) return true;
  return observed.at + (spec.leaseDurationSeconds ?? 0) * 1000 <= now;
}

/** The spec that makes `identity` the holder: a renewal keeps acquireTime, a takeover counts a transition. Pure. */
export function claim(
  spec: V1LeaseSpec,
  identity: string,
  now: number,
  durationSeconds: number,
): V1LeaseSpec {
  const renewal = spec.holderIdentity === identity;
  return {
    ...spec,
    holderIdentity: identity,
    leaseDurationSeconds: durationSeconds,
    renewTime: new V1MicroTime(now),
    ...(renewal
      ? {}
      : { acquireTime: new V1MicroTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const jitter = (ms: number): number => ms * (1 + Math.random() * 0.2);

/**
 * Leader election on a coordination.k8s.io Lease, following client-go's leaderelection algorithm:
 * a candidate takes the Lease when it is free or its holder has not renewed it for leaseDuration (as
 * observed on the candidate's own clock); the leader renews every retryPeriod and gives up when it
 * could not renew within renewDeadline; release() hands the Lease over at once on shutdown.
 */
export class LeaderElector {
  private observed: Observed | undefined;
  private leading = false;
  private stopped = false;

  constructor(
    private readonly api: CoordinationV1Api,
    private readonly cfg: LeaderElectionConfig,
    private readonly logger: Logger,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until elected and calls `onStartedLeading`; renews until stop(), or until the Lease could
   * not be renewed within renewDeadline (API server unreachable, partition): then `onStoppedLeading`
   * runs to completion and the candidate campaigns again — the process keeps running.
   */
  async run(
    onStartedLeading: () => Promise<void> | void,
    onStoppedLeading: () => Promise<void> | void,
  ): Promise<void> {
    while (!this.stopped) {
      while (!this.stopped && !(await this.tryAcquireOrRenew())) await sleep(jitter(this.cfg.retryPeriodMs));
      if (this.stopped) return;
      this.leading = true;
      this.logger.info('became leader', {
        lease: `${this.cfg.namespace}/${this.cfg.name}`,
        identity: this.cfg.identity,
      });
      await onStartedLeading();
      await this.renewWhileLeading();
      if (this.stopped) return;
      this.leading = false;
      this.logger.error('lost leadership: the lease could not be renewed in time; campaigning again', {
        renewDeadlineMs: this.cfg.renewDeadlineMs,
      });
      await onStoppedLeading();
    }
  }

  /**
   * Renews every retryPeriod; returns once renewDeadline passed without a renewal. A round that does
   * not answer counts as failed when the deadline comes (it never holds the term past it).
   */
  private async renewWhileLeading(): Promise<void> {
    let lastRenew = Date.now();
    while (!this.stopped) {
      await sleep(this.cfg.retryPeriodMs);
      if (this.stopped) return;
      const left = lastRenew + this.cfg.renewDeadlineMs - Date.now();
      if (await withinMs(this.tryAcquireOrRenew(), left)) lastRenew = Date.now();
      else if (Date.now() - lastRenew >= this.cfg.renewDeadlineMs) return;
    }
  }

  /** Stops campaigning; a leader empties the Lease so a follower takes over without waiting. */
  async release(): Promise<void> {
    this.stopped = true;
    if (!this.leading) return;
    this.leading = false;
    // A renewal still in flight can change the Lease between our read and our write (409): read again.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.emptyLease();
        return;
      } catch (err) {
        if (isConflict(err) && attempt < 5) continue;
        this.logger.warn('could not release the lease; a follower takes over after leaseDuration', {
          error: describe(err),
        });
        return;
      }
    }
  }

  /** Empties the Lease if we still hold it, so a follower takes it at its next try. */
  private async emptyLease(): Promise<void> {
    const { name, namespace } = this.cfg;
    const lease = await this.api.readNamespacedLease({ name, namespace });
    if (lease.spec?.holderIdentity !== this.cfg.identity) return;
    lease.spec = {
      ...lease.spec,
      holderIdentity: undefined,
      leaseDurationSeconds: 1,
      renewTime: new V1MicroTime(),
    };
    await this.api.replaceNamespacedLease({ name, namespace, body: lease });
    this.logger.info('released the lease');
  }

  /** One round of client-go's tryAcquireOrRenew. True when this candidate holds the Lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    const { name, namespace, identity } = this.cfg;
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      return isNotFound(err) ? this.create(now) : this.failed('reading the lease failed', err);
    }
    const spec = lease.spec ?? {};
    this.observed = observe(this.observed, spec, now);
    const judged = { ...spec, leaseDurationSeconds: spec.leaseDurationSeconds ?? this.durationSeconds };
    if (!mayTake(judged, this.observed, identity, now)) return false;
    lease.spec = claim(spec, identity, now, this.durationSeconds);
    try {
      await this.api.replaceNamespacedLease({ name, namespace, body: lease });
    } catch (err) {
      return isConflict(err) ? false : this.failed('updating the lease failed', err);
    }
    this.observed = { holder: identity, renewTime: new Date(now).toISOString(), at: now };
    return true;
  }

  private get durationSeconds(): number {
    return Math.ceil(this.cfg.leaseDurationMs / 1000);
  }

  private async create(now: number): Promise<boolean> {
    const { name, namespace, identity } = this.cfg;
    const spec = { ...claim({}, identity, now, this.durationSeconds), leaseTransitions: 0 };
    try {
      await this.api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec } });
    } catch (err) {
      return this.failed('creating the lease failed', err);
    }
    this.observed = { holder: identity, renewTime: new Date(now).toISOString(), at: now };
    return true;
  }

  private failed(what: string, err: unknown): boolean {
    this.logger.warn(what, { lease: `${this.cfg.namespace}/${this.cfg.name}`, error: describe(err) });
    return false;
  }
}

/** `round`'s answer, or false when it has not answered within `ms`. */
async function withinMs(round: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), Math.max(0, ms))));
  try {
    return await Promise.race([round, late]);
  } finally {
    clearTimeout(timer);
  }
}
