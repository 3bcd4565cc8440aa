import { TermEndedError, describe } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import type { WorkQueue } from './queue.js';
import type { ReconcileResult } from './pass.js';
import { PendingSignals, type RotationSignal } from './signals.js';

export interface ControllerHooks {
  onResult?: (result: 'success' | 'requeue' | 'error', seconds: number) => void;
  /** What a pass resolved the mapping's secret to (the router takes it). */
  onRoute?: (key: string, route: NonNullable<ReconcileResult['route']>) => void;
  /** The mapping is gone. */
  onGone?: (key: string) => void;
}

export interface ControllerOptions extends ControllerHooks {
  /** How long stop() waits for passes in flight before it returns anyway (they write nothing more). */
  stopGraceMs?: number;
}

const DEFAULT_STOP_GRACE_MS = 10_000;

/**
 * Runs the reconcile loop over ONE keyed queue with `concurrency` workers. This is the single place
 * that decides what an outcome means (as controller-runtime's reconcileHandler): success forgets the
 * backoff and settles signals, requeue-after schedules, an error backs off (a pass never gives up for
 * good: what cannot be fixed by retrying is reported on the mapping's status and returns success).
 */
export class Controller {
  private workers: Promise<void>[] = [];
  /** Every pass running, whether it holds a worker or only writes (stop() waits for them). */
  private readonly passes = new Set<Promise<void>>();
  /** Writing slots: passes past their restarts that write their Events and status (see startWriting). */
  private writers = 0;
  private maxWriters = 1;
  private readonly waitingWriters: (() => void)[] = [];
  /** Signals waiting for a pass of their mapping; settled here, in the one place outcomes are judged. */
  private readonly pending = new PendingSignals();
  /** Aborted when the loop stops: passes give up before their next write (see reconcile.ts). */
  private readonly term = new AbortController();

  constructor(
    private readonly queue: WorkQueue,
    private readonly reconcile: (
      key: string,
      aborted: AbortSignal,
      startWriting: () => Promise<void>,
    ) => Promise<ReconcileResult>,
    private readonly logger: Logger,
    private readonly hooks: ControllerOptions = {},
  ) {}

  /** A mapping to look at (watch events, resync). */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  /**
   * The SQS pipeline's entry point: the mapping `key` may need a restart for `signal`. Resolves once a
   * reconcile pass recorded it (or the mapping is gone), so the caller may acknowledge the message.
   */
  signal(key: string, signal: RotationSignal): Promise<void> {
    const settled = this.pending.add(key, signal);
    this.queue.addFirst(key);
    return settled;
  }

  /**
   * `concurrency` workers decide and restart; as many writing slots let passes that made their
   * restarts write their Events and status without holding a worker (see startWriting).
   */
  start(concurrency: number): void {
    this.maxWriters = concurrency;
    this.workers = Array.from({ length: concurrency }, () => this.work());
  }

  /**
   * Ends the loop (leadership lost or shutdown): passes in flight are abandoned before their next
   * write — another replica may lead already — and pending signals are rejected at once, so their
   * messages go back to SQS for the next leader instead of staying hidden. Keys still queued are
   * discarded (the next leader visits every mapping). Resolves once no pass runs, or after the grace
   * period: a pass stuck in I/O can write nothing more, and must not hold the elector or shutdown.
   */
  async stop(): Promise<void> {
    this.term.abort(new TermEndedError());
    this.queue.shutDown();
    this.pending.rejectAll(new TermEndedError());
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), this.hooks.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
    });
    const outcome = await Promise.race([Promise.all([...this.workers, ...this.passes]), grace]);
    clearTimeout(timer);
    if (outcome === 'timeout')
      this.logger.warn('passes still running at the end of the term; abandoned (they write nothing more)', {
        graceMs: this.hooks.stopGraceMs ?? DEFAULT_STOP_GRACE_MS,
      });
  }

  /**
   * Takes keys one after the other. A pass holds its worker until it ends or until it calls
   * startWriting: from then on it only writes what it did (Events, then the status), and the worker
   * takes the next key — at 50 rotations/s those writes held the four workers longer than the
   * restarts did, and the next mapping's restart waited behind them. The key stays in process until
   * the pass ends, so no second pass of a mapping starts before its status is written.
   */
  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      let writing = false;
      let freeWorker: () => void = () => {};
      const workerFreed = new Promise<void>((r) => (freeWorker = r));
      const startWriting = async (): Promise<void> => {
        if (writing) return;
        writing = true;
        await this.writingSlot();
        freeWorker();
      };
      const pass = this.process(key, startWriting).finally(() => {
        if (writing) this.releaseWritingSlot();
        this.queue.done(key);
        this.passes.delete(pass);
      });
      this.passes.add(pass);
      await Promise.race([pass, workerFreed]);
      // A pass served from the caches never waits on I/O, so a worker could run thousands of them
      // in one stretch of microtasks while SQS messages and watch events wait: yield between passes.
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Resolves once a writing slot is this pass's: at most `concurrency` passes write at once. */
  private writingSlot(): Promise<void> {
    if (this.writers < this.maxWriters) {
      this.writers++;
      return Promise.resolve();
    }
    // The slot passes from the pass that ends to the one waiting longest (the count stays).
    return new Promise((r) => this.waitingWriters.push(r));
  }

  private releaseWritingSlot(): void {
    const next = this.waitingWriters.shift();
    if (next) next();
    else this.writers--;
  }

  private async process(key: string, startWriting: () => Promise<void>): Promise<void> {
    const started = process.hrtime.bigint();
    const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      this.conclude(key, await this.reconcile(key, this.term.signal, startWriting), seconds());
    } catch (err) {
      if (err instanceof TermEndedError) {
        this.logger.debug('pass abandoned: the leadership term ended', { mapping: key });
        return;
      }
      this.backOff(key, describe(err), seconds());
    }
  }

  /** What a pass's result means for the queue, the signals and the router. */
  private conclude(key: string, result: ReconcileResult, seconds: number): void {
    if (result.gone) {
      this.forgetMapping(key, seconds);
      return;
    }
    if (result.route) this.hooks.onRoute?.(key, result.route);
    // Settled whatever the pass then did: what the signal asked for is recorded in status.
    if (result.observedAt !== undefined) this.pending.settle(key, result.observedAt);
    if (result.failed !== undefined) {
      this.backOff(key, result.failed, seconds);
      return;
    }
    this.queue.forget(key);
    if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
    this.hooks.onResult?.(result.requeueAfterMs !== undefined ? 'requeue' : 'success', seconds);
  }

  private forgetMapping(key: string, seconds: number): void {
    this.queue.remove(key);
    this.pending.forget(key);
    this.hooks.onGone?.(key);
    this.hooks.onResult?.('success', seconds);
  }

  private backOff(key: string, error: string, seconds: number): void {
    const delay = this.queue.addRateLimited(key);
    this.logger.warn('reconcile failed; will retry', { mapping: key, error, retryInMs: delay });
    this.hooks.onResult?.('error', seconds);
  }
}
