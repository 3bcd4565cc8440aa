import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../runtime/logger.js';
import { describe, statusCode } from '../runtime/errors.js';
import { Store } from './store.js';
import type { ListPage, RawObject } from './list-page.js';
import { watchRequest } from './watch-request.js';
import {
  afterWatch,
  cutCapFor,
  freshBackoff,
  type WatchBackoff,
  type WatchBackoffLimits,
  type WatchEnd,
} from './watch-backoff.js';

export { Store, olderThan, sameProjection } from './store.js';
export { listPage, watchPath, type ListPage, type RawObject, type ResourceRef } from './list-page.js';

/** What an informer keeps of each object: a projection with at least its key and resourceVersion. */
export interface Cached {
  key: string;
  resourceVersion?: string;
}

export interface InformerHandlers<T> {
  /** A new key, from a (re)list or a watch event. */
  onAdd?(obj: T): void;
  onUpdate?(old: T, obj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions<T extends Cached> extends InformerHandlers<T> {
  /** For logs: what is watched, e.g. "mappings", "Deployments". */
  what: string;
  kubeConfig: KubeConfig;
  /** One page of the list (limit/continue), as plain JSON; `signal` aborts it (the informer stopped). */
  list(continueToken: string | undefined, signal: AbortSignal): Promise<ListPage>;
  /** The watch path, e.g. /apis/apps/v1/namespaces/x/deployments. */
  watchPath: string;
  /** The pruned projection kept in memory: never the whole object unless the decisions need it. */
  project(raw: RawObject): T;
  logger: Logger;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Says what a 404 on the list means (e.g. the CRD is not installed). */
  notServedHint?: string;
}

/**
 * An informer, as client-go's: list then watch, an in-memory store of projections, handlers on each
 * change, relist after an expired resourceVersion (410) or any watch failure, with backoff. It never
 * exits the process (the framework's own watch calls process.exit(1) on an error).
 */
export class Informer<T extends Cached> {
  private readonly store: Store<T>;
  private abort: AbortController | undefined;
  private stopped = false;
  private synced = false;
  /** Why the last LIST failed, until one succeeds (see listFailure). */
  private failure: string | undefined;
  /** One promise for every waiter (a cache that never lists must not collect one per caller). */
  private readonly listed: Promise<void>;
  private markListed: () => void = () => {};
  /** Resolves once the first LIST answered, listed or failed (see settled), or once stopped. */
  private readonly answered: Promise<void>;
  private markAnswered: () => void = () => {};

  constructor(private readonly opts: InformerOptions<T>) {
    this.store = new Store((raw) => opts.project(raw), opts);
    this.listed = new Promise((resolve) => (this.markListed = resolve));
    this.answered = new Promise((resolve) => (this.markAnswered = resolve));
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Why the last LIST failed (its answer, e.g. 403 or 500), while no LIST has succeeded since. */
  get listFailure(): string | undefined {
    return this.failure;
  }

  /** Whether the first LIST has answered, either way: listed, or failed (and is being retried). */
  get settled(): boolean {
    return this.synced || this.failure !== undefined;
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  values(): IterableIterator<T> {
    return this.store.values();
  }

  keys(): string[] {
    return this.store.keys();
  }

  /** Starts list+watch in the background; the promise resolves after the first complete list. */
  start(): Promise<void> {
    void this.loop();
    return this.waitSynced();
  }

  /** Resolves after the first complete list, or once stopped (a waiter then looks at what replaced it). */
  waitSynced(): Promise<void> {
    return this.listed;
  }

  /** Resolves once the first LIST has answered, listed or failed (see settled), or once stopped. */
  waitSettled(): Promise<void> {
    return this.answered;
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    this.markListed();
    this.markAnswered();
  }

  /** Read-your-writes: the object a write of ours returned (see Store.apply). */
  observe(raw: RawObject): void {
    this.store.observe(raw);
  }

  /** Lists every page, replaces the store; returns the list's resourceVersion. */
  private async relist(): Promise<string> {
    // Projected page by page: a list of thousands of workloads is never held whole.
    const items: T[] = [];
    let token: string | undefined;
    let resourceVersion = '';
    // Stopped (its namespace released) while a page is on the way: that request is aborted too.
    const abort = new AbortController();
    this.abort = abort;
    if (this.stopped) abort.abort();
    do {
      let page: ListPage;
      try {
        page = await this.opts.list(token, abort.signal);
      } catch (err) {
        if (this.stopped) throw err;
        this.failure = describe(err);
        this.markAnswered();
        throw err;
      }
      // Stopped (its namespace released) while a page was on the way: no further page is asked for.
      if (this.stopped) return resourceVersion;
      for (const raw of page.items) items.push(this.opts.project(raw));
      resourceVersion = page.resourceVersion;
      token = page.continue || undefined;
    } while (token);
    this.failure = undefined;
    this.store.replace(items);
    if (!this.synced) {
      this.synced = true;
      this.markListed();
      this.markAnswered();
    }
    return resourceVersion;
  }

  private async loop(): Promise<void> {
    let backoff = freshBackoff(this.limits());
    let resourceVersion: string | undefined;
    while (!this.stopped) {
      try {
        resourceVersion ??= await this.relist();
        const from = resourceVersion;
        const end = await this.watchOnce(from);
        resourceVersion = end.resourceVersion;
        // client-go logs this too: a relist costs a LIST and a pass over every object.
        if (resourceVersion === undefined)
          this.opts.logger.info('watch expired; relisting', { what: this.opts.what, resourceVersion: from });
        backoff = await this.afterWatch(end, backoff);
      } catch (err) {
        if (this.stopped) break;
        resourceVersion = undefined;
        const message =
          statusCode(err) === 404 && this.opts.notServedHint
            ? this.opts.notServedHint
            : `${this.opts.what} watch failed; will relist`;
        this.opts.logger.warn(message, { error: describe(err), retryInMs: backoff.emptyMs });
        await new Promise((r) => setTimeout(r, backoff.emptyMs));
        backoff = { ...backoff, emptyMs: Math.min(backoff.emptyMs * 2, this.limits().maxMs) };
      }
    }
  }

  private limits(): WatchBackoffLimits {
    const minMs = this.opts.minBackoffMs ?? 1000;
    return { minMs, maxMs: this.opts.maxBackoffMs ?? 30_000, cutMaxMs: cutCapFor(minMs) };
  }

  /** Waits as afterWatch (watch-backoff.ts) decides after a watch that ended; the backoffs to carry. */
  private async afterWatch(end: WatchEnd, backoff: WatchBackoff): Promise<WatchBackoff> {
    const next = afterWatch(end, backoff, this.limits());
    if (next.waitMs === 0) return next.backoff;
    this.opts.logger.debug('very short watch; resuming after backoff', {
      what: this.opts.what,
      retryInMs: next.waitMs,
      cutMidEvent: end.bytes > 0,
    });
    await new Promise((r) => setTimeout(r, next.waitMs));
    return next.backoff;
  }

  /**
   * One watch request: the last resourceVersion seen (undefined when it expired: relist), and how it
   * ended (how long it lasted, whole events, bytes).
   */
  private async watchOnce(from: string): Promise<WatchEnd & { resourceVersion: string | undefined }> {
    const started = Date.now();
    let events = 0;
    let last: string | undefined = from;
    let failure: Error | undefined;
    const abort = new AbortController();
    this.abort = abort;
    // Stopped while its list ran: the watch must not start (nothing would end it).
    if (this.stopped) abort.abort();
    const params = { resourceVersion: from, allowWatchBookmarks: 'true' };
    const received = await watchRequest(
      this.opts.kubeConfig,
      { path: this.opts.watchPath, params, signal: abort.signal },
      (phase, raw) => {
        const obj = raw as RawObject & { code?: number; message?: string };
        if (phase === 'ERROR') {
          failure = new Error(`watch error: ${obj.message ?? ''}`, { cause: { code: obj.code } });
          return;
        }
        events++;
        last = obj.metadata?.resourceVersion ?? last;
        if (phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED') this.store.apply(phase, obj);
      },
    );
    const end = { lastedMs: Date.now() - started, events, bytes: received.bytes };
    if (failure) {
      if (statusCode(failure.cause) === 410) return { ...end, resourceVersion: undefined };
      throw failure;
    }
    return { ...end, resourceVersion: last };
  }
}
