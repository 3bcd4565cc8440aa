import type { StagedRolloutStatus } from '../../resources/types.js';
import { split } from './ledger.js';

/** A staged mapping the run checks: an explicit workload list it never edits, an integer stage size. */
export interface StagedMapping {
  secret: string;
  /** Workload keys (namespace/Kind/name) in spec.workloads order. */
  workloads: string[];
  stageSize: number;
  pauseMs: number;
}

/**
 * A staged rotation never starts stage n+1 before stage n is Complete plus its pause, and never after
 * it halted: judged from the watched templates' restartedAt and the mapping's status.rollout. Pure.
 */
export class StageLedger {
  private readonly mappings = new Map<string, StagedMapping>();
  /** `${mapping}|${version}|${stage}` → the earliest completedAt the status showed. */
  private readonly completed = new Map<string, number>();
  /** `${mapping}|${version}` → the stage it halted at and when we first saw it. */
  private readonly halts = new Map<string, { stage: number; at: number }>();
  private readonly restarts: { mapping: string; version: string; stage: number; at: number; w: string }[] =
    [];

  track(mapping: string, m: StagedMapping): void {
    this.mappings.set(mapping, m);
  }

  /** A status.rollout of `mapping` as a watch showed it at `at`. */
  status(mapping: string, r: StagedRolloutStatus | undefined, at: number): void {
    if (!r || !this.mappings.has(mapping)) return;
    if (r.completedStage && r.completedAt) {
      const key = `${mapping}|${r.versionId}|${r.completedStage}`;
      const t = Date.parse(r.completedAt);
      this.completed.set(key, Math.min(t, this.completed.get(key) ?? t));
    }
    const hk = `${mapping}|${r.versionId}`;
    if (r.state === 'Halted' && !this.halts.has(hk)) this.halts.set(hk, { stage: r.stage, at });
  }

  /** A workload restart seen on a template (the main ledger's input, passed on). */
  saw(workload: string, stamp: string | undefined, restartedAt: string | undefined): void {
    if (!stamp || !restartedAt) return;
    const [secret, version] = split(stamp);
    for (const [mapping, m] of this.mappings) {
      const i = m.workloads.indexOf(workload);
      if (i < 0 || m.secret !== secret) continue;
      const stage = Math.floor(i / m.stageSize) + 1;
      const at = Date.parse(restartedAt);
      if (!this.restarts.some((r) => r.w === workload && r.version === version && r.at === at))
        this.restarts.push({ mapping, version, stage, at, w: workload });
    }
  }

  verdict(): StageVerdict {
    const early: string[] = [];
    const afterHalt: string[] = [];
    for (const r of this.restarts) {
      const m = this.mappings.get(r.mapping) as StagedMapping;
      const halt = this.halts.get(`${r.mapping}|${r.version}`);
      if (halt && r.stage > halt.stage && r.at > halt.at)
        afterHalt.push(`${r.w} (stage ${r.stage}) for ${r.version} after the halt at stage ${halt.stage}`);
      if (r.stage === 1) continue;
      const done = this.completed.get(`${r.mapping}|${r.version}|${r.stage - 1}`);
      if (done === undefined)
        early.push(`${r.w} (stage ${r.stage}) for ${r.version}: stage ${r.stage - 1} never Complete`);
      // completedAt and restartedAt are the operator's clock, in ms.
      else if (r.at < done + m.pauseMs)
        early.push(`${r.w} (stage ${r.stage}) for ${r.version} ${done + m.pauseMs - r.at} ms early`);
    }
    return { restarts: this.restarts.length, halts: this.halts.size, early, afterHalt };
  }
}

export interface StageVerdict {
  /** Restarts of checked staged mappings' workloads. */
  restarts: number;
  /** Rotations seen halting. */
  halts: number;
  early: string[];
  afterHalt: string[];
}
