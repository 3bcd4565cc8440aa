import type { PolicyStatus } from '../../resources/policy-types.js';
import { describe } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';

/** One policy as the tenancy cache sees it now. */
export interface Governance {
  name: string;
  generation?: number;
  namespaces: string[];
  status?: PolicyStatus;
}

export interface PolicyStatusOptions {
  governance: () => Iterable<Governance>;
  /** The secretIds of the mappings of `namespace`. */
  secretIdsIn: (namespace: string) => string[];
  /** Whether a mapping of `namespace` may watch `secretId` (undefined: not decided yet). */
  allowed: (namespace: string, secretId: string) => boolean | undefined;
  write: (name: string, status: PolicyStatus) => Promise<void>;
  logger: Logger;
  /** Changes within this long are written together. */
  debounceMs?: number;
}

/** The status a policy should show: what it governs now. Pure. */
export function policyStatus(
  g: Governance,
  secretIdsIn: (ns: string) => string[],
  allowed: (ns: string, id: string) => boolean | undefined,
): PolicyStatus {
  let mappings = 0;
  let notAllowed = 0;
  for (const ns of g.namespaces) {
    for (const id of secretIdsIn(ns)) {
      mappings++;
      if (allowed(ns, id) === false) notAllowed++;
    }
  }
  return { observedGeneration: g.generation, namespaces: g.namespaces.length, mappings, notAllowed };
}

const same = (a: PolicyStatus = {}, b: PolicyStatus): boolean =>
  a.observedGeneration === b.observedGeneration &&
  a.namespaces === b.namespaces &&
  a.mappings === b.mappings &&
  a.notAllowed === b.notAllowed;

/**
 * Keeps `kubectl get srpol` true: after any change to policies, namespaces or mappings (debounced),
 * writes the status of each policy whose counts changed. Leader only: one per leadership term.
 */
export class PolicyStatusWriter {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private dirty = false;
  private stopped = false;

  constructor(private readonly opts: PolicyStatusOptions) {}

  schedule(delayMs = this.opts.debounceMs ?? 500): void {
    if (this.stopped) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.timer ??= setTimeout(() => void this.run(), delayMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    this.running = true;
    let retry = false;
    for (const g of this.opts.governance()) {
      const status = policyStatus(g, this.opts.secretIdsIn, this.opts.allowed);
      if (this.stopped || same(g.status, status)) continue;
      try {
        await this.opts.write(g.name, status);
      } catch (err) {
        retry = true;
        this.opts.logger.warn('could not write the status of a policy; will retry', {
          policy: g.name,
          error: describe(err),
        });
      }
    }
    this.running = false;
    if (retry) this.schedule(5000);
    else if (this.dirty) {
      this.dirty = false;
      this.schedule();
    }
  }
}
