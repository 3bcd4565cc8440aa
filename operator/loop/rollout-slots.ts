/**
 * A cap on rollouts in progress across all mappings, so one burst of rotations cannot roll the whole
 * cluster at once, and a cap per namespace, so one tenant's rollouts that never end (pods that never
 * become ready) cannot take every slot: the others keep theirs until ROLLOUT_DEADLINE frees it. Owned
 * by the loop of one leadership term (term.ts): built at term start from the rollouts the mappings'
 * status shows InProgress, dropped at its end.
 */
export class RolloutSlots {
  /** workload key (namespace/Kind/name) → mapping key that started its rollout. */
  private readonly inProgress = new Map<string, string>();
  /** Mappings refused a slot: woken (onFree) when one frees, instead of polling. */
  private readonly waiting = new Set<string>();

  constructor(
    private readonly max: number,
    private readonly onFree: (mappings: string[]) => void = () => {},
    /** Slots one namespace may take (MAX_ROLLOUTS_PER_NAMESPACE). */
    private readonly perNamespace: number = max,
  ) {}

  /** True when `workload` may start (or already holds) a rollout now; it then holds a slot. */
  acquire(workload: string, mapping: string): boolean {
    if (this.inProgress.has(workload)) return true;
    if (!this.room(workload)) {
      this.waiting.add(mapping);
      return false;
    }
    this.inProgress.set(workload, mapping);
    return true;
  }

  /**
   * `mapping` holds slots for exactly the workloads in `rolling`; the slots of workloads it no longer
   * follows (rollout ended, workload deleted or relabelled away) are freed. At term start (status's
   * rollouts, all running) every one is recorded; after a pass (`capped`), a rollout it found rather
   * than started through acquire — a template stamped by a lost write, another mapping, or a tenant
   * stamping its own templates — takes a slot only within the caps, and is followed without one
   * otherwise: stamping templates must not take the cluster's slots.
   */
  holdOnly(mapping: string, rolling: ReadonlySet<string>, opts: { capped?: boolean } = {}): void {
    const freed = this.freeAllBut(mapping, rolling);
    for (const w of rolling) {
      if (opts.capped && !this.inProgress.has(w) && !this.room(w)) continue;
      this.inProgress.set(w, mapping);
    }
    if (freed) this.wake();
  }

  /** Frees the slots `mapping` holds for workloads not in `keep`; whether any was freed. */
  private freeAllBut(mapping: string, keep: ReadonlySet<string>): boolean {
    let freed = false;
    for (const [w, m] of this.inProgress)
      if (m === mapping && !keep.has(w)) freed = this.inProgress.delete(w) || freed;
    return freed;
  }

  release(workload: string): void {
    if (this.inProgress.delete(workload)) this.wake();
  }

  /** The mapping is gone: its rollouts no longer count. */
  releaseMapping(mapping: string): void {
    this.waiting.delete(mapping);
    this.holdOnly(mapping, new Set());
  }

  get size(): number {
    return this.inProgress.size;
  }

  /** Whether a slot is free for `workload`, in the cluster and in its namespace. */
  private room(workload: string): boolean {
    return this.inProgress.size < this.max && this.heldIn(namespaceOf(workload)) < this.perNamespace;
  }

  /** Slots held by workloads of `namespace` (a scan: the cap is small, and acquire runs once per restart). */
  private heldIn(namespace: string): number {
    let n = 0;
    for (const w of this.inProgress.keys()) if (namespaceOf(w) === namespace) n++;
    return n;
  }

  /** Every waiting mapping looks again: the freed slot may be its namespace's, or the global one. */
  private wake(): void {
    if (this.waiting.size === 0 || this.inProgress.size >= this.max) return;
    const mappings = [...this.waiting];
    this.waiting.clear();
    this.onFree(mappings);
  }
}

/** The namespace of a workload key (namespace/Kind/name). */
const namespaceOf = (workload: string): string => workload.slice(0, workload.indexOf('/'));
