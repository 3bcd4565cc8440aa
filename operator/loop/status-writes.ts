import type { Mapping, MappingStatus } from '../../resources/types.js';
import { TermEndedError } from '../runtime/errors.js';
import { CONDITIONS_OWNED } from './status.js';

/** Where the statuses go: the API server (a server-side apply of the status this operator owns). */
export interface StatusApplier {
  applyStatus(m: Mapping, status: MappingStatus): Promise<Mapping>;
  /** The answer of a write: the watch cache takes it at once. */
  observe(written: Mapping): void;
}

interface Deferred {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A status decided and not yet written. */
interface Decided {
  /** The mapping the pass read (its spec, its resourceVersion); status: as decided. */
  mapping: Mapping;
  owned: MappingStatus;
  /** Decided from an object this chain did not write (an edit): its precondition is that read's. */
  precondition?: string;
  /** The Events the passes recorded before it: a status is written after its Events. */
  after: Promise<unknown>;
  /** `after` settled: it may take a write slot (until then, a newer status still merges into it). */
  ready: boolean;
  waiters: Deferred[];
}

/** One mapping's statuses decided and not yet written: at most one in flight and one waiting. */
interface Chain {
  /** The newest decided status, as the mapping will read once it is written (what passes read). */
  view: Mapping;
  /** The resourceVersions this chain's statuses follow from: the first read, then each answer. */
  readonly versions: Set<string>;
  /** The newest answer's resourceVersion: the next write's precondition. */
  head: string | undefined;
  writing: boolean;
  waiting?: Decided;
  /**
   * Passes running that read this chain's status: a status written meanwhile must not end the chain,
   * or their writes would go from their read's resourceVersion, now stale (409).
   */
  readers: number;
}

/**
 * The statuses passes decided, written one mapping at a time, at most `maxInFlight` at once, owner of
 * every status decided and not yet written. A pass hands its status here and ends: its mapping's next
 * pass — a rotation that came meanwhile — starts at once and reads the status as decided (view), not
 * as last written. At 50 rotations/s a mapping's next restart waited for its previous status write
 * (115 ms at p50, traced), and four workers held through it served 20 passes/s.
 *
 * - Per mapping one write is in flight; statuses decided meanwhile are merged into one (the newest:
 *   a pass reads the one before it, so the newest holds all they decided), written from the answer's
 *   resourceVersion — so a spec edit since the first read still fails it (409).
 * - A write that fails fails those that follow from it; what they did is on the workloads (their
 *   stamps), so the pass that retries finds it as it finds a status write whose answer was lost.
 * - Once the term ends nothing more is written (a new leader may be writing).
 */
export class StatusWrites {
  private readonly chains = new Map<string, Chain>();
  /** Mappings whose waiting status waits for a write slot, oldest first. */
  private readonly queued: string[] = [];
  private inFlight = 0;

  constructor(
    private readonly applier: StatusApplier,
    private readonly maxInFlight: number,
    private readonly aborted: AbortSignal,
  ) {}

  /**
   * The mapping as a pass reads it: `cached`, with the status decided for it while that is not
   * written, and what to call when the pass ends. A cached object not from this chain (edited
   * meanwhile) is read as it is: the writes decided before the edit will fail on its resourceVersion.
   */
  read(key: string, cached: Mapping | undefined): [Mapping | undefined, () => void] {
    const chain = this.chains.get(key);
    if (!cached || !chain || !chain.versions.has(cached.metadata.resourceVersion ?? ''))
      return [cached, () => {}];
    chain.readers++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      chain.readers--;
      this.dropIfIdle(key, chain);
    };
    return [{ ...cached, status: chain.view.status }, release];
  }

  /**
   * Writes `owned` as the status of `read` (the mapping as the pass read it), once `after` (the pass's
   * Events) settled; resolves once it, or a status decided after it, is written; rejects if that write
   * fails.
   */
  write(
    key: string,
    read: Mapping,
    owned: MappingStatus,
    after: Promise<unknown> = Promise.resolve(),
  ): Promise<void> {
    const rv = read.metadata.resourceVersion ?? '';
    let chain = this.chains.get(key);
    if (!chain) {
      chain = { view: read, versions: new Set([rv]), head: rv, writing: false, readers: 0 };
      this.chains.set(key, chain);
    }
    // Decided from an object this chain did not write (edited meanwhile): its own read is the precondition.
    const precondition = chain.versions.has(rv) ? undefined : rv;
    chain.versions.add(rv);
    chain.view = { ...read, status: afterApply(read.status, owned) };
    return new Promise((resolve, reject) => {
      const c = chain;
      // The newest decision holds the older ones' (it read them), so their waiters wait for it.
      const waiters = [...(c.waiting?.waiters ?? []), { resolve, reject }];
      const events = c.waiting ? Promise.all([c.waiting.after, after]) : after;
      const decided: Decided = { mapping: read, owned, precondition, after: events, ready: false, waiters };
      c.waiting = decided;
      const ready = (): void => {
        decided.ready = true;
        if (c.waiting === decided && !c.writing) this.queue(key);
      };
      void events.then(ready, ready);
    });
  }

  /** The term ended: statuses not yet sent are dropped (their passes' work is on the workloads). */
  stop(): void {
    for (const [key, chain] of this.chains) {
      chain.waiting?.waiters.forEach((w) => w.reject(new TermEndedError()));
      chain.waiting = undefined;
      chain.readers = 0;
      this.dropIfIdle(key, chain);
    }
    this.queued.length = 0;
  }

  /** Mappings with a status decided and not yet written (for tests). */
  get size(): number {
    return this.chains.size;
  }

  private queue(key: string): void {
    this.queued.push(key);
    this.next();
  }

  private next(): void {
    while (this.inFlight < this.maxInFlight) {
      const key = this.queued.shift();
      if (key === undefined) return;
      const chain = this.chains.get(key);
      const decided = chain?.waiting;
      if (!chain || !decided?.ready || chain.writing) continue;
      chain.waiting = undefined;
      chain.writing = true;
      this.inFlight++;
      void this.send(key, chain, decided);
    }
  }

  private async send(key: string, chain: Chain, decided: Decided): Promise<void> {
    let failure: unknown;
    try {
      this.aborted.throwIfAborted();
      const resourceVersion = decided.precondition ?? chain.head;
      const base = { ...decided.mapping, metadata: { ...decided.mapping.metadata, resourceVersion } };
      const answer = await this.applier.applyStatus(base, decided.owned);
      this.applier.observe(answer);
      chain.head = answer.metadata.resourceVersion;
      if (chain.head !== undefined) chain.versions.add(chain.head);
      decided.waiters.forEach((w) => w.resolve());
    } catch (err) {
      failure = err;
      decided.waiters.forEach((w) => w.reject(err));
    }
    this.inFlight--;
    chain.writing = false;
    if (failure !== undefined && chain.waiting && chain.waiting.precondition === undefined) {
      // Decided from a status that was not written: the retry decides again from what is.
      chain.waiting.waiters.forEach((w) => w.reject(failure));
      chain.waiting = undefined;
    }
    // One not ready yet is queued once its Events are written (see write).
    if (chain.waiting?.ready) this.queued.push(key);
    else this.dropIfIdle(key, chain);
    this.next();
  }

  /** A chain nobody writes, waits for or reads is forgotten: the cache holds its last answer. */
  private dropIfIdle(key: string, chain: Chain): void {
    if (chain.writing || chain.waiting || chain.readers > 0) return;
    if (this.chains.get(key) === chain) this.chains.delete(key);
  }
}

/**
 * The status a server-side apply of `owned` leaves: the fields this operator owns as applied (one it
 * no longer sets is removed), the conditions other writers own as they were. Pure.
 */
export function afterApply(before: MappingStatus | undefined, owned: MappingStatus): MappingStatus {
  const others = (before?.conditions ?? []).filter((c) => !CONDITIONS_OWNED.includes(c.type));
  const conditions = [...(owned.conditions ?? []), ...others];
  return { ...owned, ...(conditions.length ? { conditions } : {}) };
}
