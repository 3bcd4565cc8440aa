/**
 * A cap on rollouts in progress across all mappings, so one burst of rotations cannot roll the whole
 * cluster at once. In memory: a new leader rebuilds it from the InProgress entries mappings report.
 */
export class RolloutSlots {
  /** workload key (namespace/Kind/name) → mapping key that started its rollout. */
  private readonly inProgress = new Map<string, string>();

  constructor(private readonly max: number) {}

  /** True when `workload` may start (or already holds) a rollout now; it then holds a slot. */
  acquire(workload: string, mapping: string): boolean {
    if (this.inProgress.has(workload)) return true;
    if (this.inProgress.size >= this.max) return false;
    this.inProgress.set(workload, mapping);
    return true;
  }

  /** Records a rollout found in progress (e.g. after a leader change) without checking the cap. */
  hold(workload: string, mapping: string): void {
    this.inProgress.set(workload, mapping);
  }

  release(workload: string): void {
    this.inProgress.delete(workload);
  }

  /** The mapping is gone: its rollouts no longer count. */
  releaseMapping(mapping: string): void {
    for (const [w, m] of this.inProgress) if (m === mapping) this.inProgress.delete(w);
  }

  get size(): number {
    return this.inProgress.size;
  }
}
