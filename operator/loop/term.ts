import type { Mapping } from '../../resources/types.js';
import type { RotationSignal } from '../aws/rotation-signal.js';
import type { Logger } from '../runtime/logger.js';
import { Controller, type ControllerHooks } from './controller.js';
import type { ReconcileResult, TermState } from './pass.js';
import { WorkQueue } from './queue.js';
import { RolloutSlots } from './rollout-slots.js';
import { UnansweredRestarts } from './unanswered-restarts.js';

export interface TermLoopOptions {
  concurrency: number;
  maxConcurrentRollouts: number;
  /** See RolloutSlots: default, the global cap. */
  maxRolloutsPerNamespace?: number;
  reconcile(key: string, term: TermState): Promise<ReconcileResult>;
  /** The cached mappings at term start: every one is visited, and their status rebuilds the slots. */
  mappings(): Iterable<Mapping>;
  /** Told the secrets of the first round, in its order, before it starts (see start). */
  warm?(secretIds: string[]): void;
  logger: Logger;
  hooks?: ControllerHooks & { queueDepth?: (n: number) => void };
  /** See ControllerOptions.stopGraceMs. */
  stopGraceMs?: number;
}

/**
 * The reconcile loop of ONE leadership term, owner of everything that lives as long as the term:
 * the keyed queue, its workers, the signals waiting for passes and the rollout slots. Created when
 * the term starts — slots rebuilt from what the mappings' status says is rolling — and dropped when
 * it ends: queued keys are discarded, pending signals rejected (their messages go back to SQS), and
 * stop() returns within its grace period whatever a pass is waiting on.
 */
export class TermLoop {
  private readonly queue = new WorkQueue();
  private readonly slots: RolloutSlots;
  private readonly unanswered = new UnansweredRestarts();
  /** Mappings whose pass ended because a cache had not listed: visited again once it has. */
  private readonly waitingForCaches = new Set<string>();
  private readonly controller: Controller;
  private readonly startedAt = Date.now();

  constructor(private readonly opts: TermLoopOptions) {
    this.slots = new RolloutSlots(
      opts.maxConcurrentRollouts,
      (keys) => keys.forEach((k) => this.enqueue(k)),
      opts.maxRolloutsPerNamespace,
    );
    const hooks = opts.hooks ?? {};
    this.controller = new Controller(
      this.queue,
      (key, aborted, startWriting) =>
        opts.reconcile(key, {
          aborted,
          startWriting,
          termStartedAt: this.startedAt,
          rolloutSlots: this.slots,
          unansweredRestarts: this.unanswered,
          lookAgainWhen: (k, ready) => this.lookAgainWhen(k, ready),
        }),
      opts.logger,
      {
        ...hooks,
        onResult: (result, seconds) => {
          hooks.onResult?.(result, seconds);
          hooks.queueDepth?.(this.queue.length);
        },
        stopGraceMs: opts.stopGraceMs,
      },
    );
  }

  /**
   * Rebuilds the slots from status, starts the workers and visits every cached mapping, those of one
   * secret one after the other: the first pass's DescribeSecret answers the others from the cache,
   * instead of expiring before the round comes back to that secret (5,000 mappings of 500 secrets
   * made 939 calls). `warm` is told the secrets in that order, so their lookups run ahead of the passes.
   */
  start(): void {
    const keys: string[] = [];
    const mappings = [...this.opts.mappings()].sort(bySecret);
    this.opts.warm?.([...new Set(mappings.map((m) => m.spec.secretId))]);
    for (const m of mappings) {
      const key = `${m.metadata.namespace}/${m.metadata.name}`;
      keys.push(key);
      const rolling = (m.status?.workloads ?? [])
        .filter((w) => w.rollout === 'InProgress')
        .map((w) => `${m.metadata.namespace}/${w.kind}/${w.name}`);
      if (rolling.length) this.slots.holdOnly(key, new Set(rolling));
    }
    this.controller.start(this.opts.concurrency);
    for (const key of keys) this.controller.enqueue(key);
  }

  /** See TermState.lookAgainWhen: one wait per key, whatever the passes that ask. */
  private lookAgainWhen(key: string, ready: () => Promise<unknown>): void {
    if (this.waitingForCaches.has(key)) return;
    this.waitingForCaches.add(key);
    void ready()
      .catch(() => undefined)
      .then(() => {
        this.waitingForCaches.delete(key);
        this.enqueue(key);
      });
  }

  /** A mapping to look at (watch, resync, a freed rollout slot). */
  enqueue(key: string): void {
    this.controller.enqueue(key);
  }

  /** Resolves once a pass recorded `signal` for mapping `key` (the message may then be deleted). */
  signal(key: string, signal: RotationSignal): Promise<void> {
    return this.controller.signal(key, signal);
  }

  /** Rollout slots held now (for tests and metrics). */
  get rolloutsInProgress(): number {
    return this.slots.size;
  }

  stop(): Promise<void> {
    return this.controller.stop();
  }
}

/** Mappings of the same secret together (code-unit order: no locale data needed). */
function bySecret(a: Mapping, b: Mapping): number {
  const x = a.spec.secretId;
  const y = b.spec.secretId;
  return x < y ? -1 : x > y ? 1 : 0;
}
