import type { Mapping } from '../resources/types.js';
import { ConcernIndex } from './kube/concern-index.js';
import type { PodTemplateUses } from './kube/consumption.js';
import { followsConsumers } from './kube/wakeups.js';
import type { WorkloadInfo } from './kube/workload-cache.js';

export interface MappingWakeupsOptions {
  /** The cached mappings of a namespace. */
  mappingsIn(namespace: string): Iterable<Mapping>;
  /** Whether this process leads: a follower queues nothing, so it looks for nothing to wake. */
  leading(): boolean;
  enqueue(key: string): void;
}

/**
 * Which mappings a workload or consumer change wakes. It owns the index from workloads to the
 * mappings they can concern (kube/concern-index.ts), kept from the mapping events on every replica,
 * and the names each mapping's last pass found carrying its secret: a workload event costs the
 * mappings it may concern, not every mapping of its namespace.
 */
export class MappingWakeups {
  private readonly index = new ConcernIndex();

  constructor(private readonly opts: MappingWakeupsOptions) {}

  /** A mapping appeared or changed. */
  mappingChanged(key: string, mapping: Mapping): void {
    this.index.set(key, mapping.metadata.namespace, mapping.spec);
  }

  /** A mapping went. */
  mappingGone(key: string): void {
    this.index.delete(key);
  }

  /** What carries the mapping's secret, as its pass found (see concerns). */
  carriedNames(key: string, names: PodTemplateUses): void {
    this.index.setCarried(key, names);
  }

  /**
   * A workload changed in a way decisions see: enqueue the mappings it concerns, before or after the
   * change (a workload that stopped consuming the secret leaves the mapping's status too).
   */
  workloadChanged(old: WorkloadInfo | undefined, w: WorkloadInfo | undefined): void {
    if (!this.opts.leading()) return;
    const keys = new Set<string>();
    for (const x of [old, w]) if (x) for (const k of this.index.concerned(x)) keys.add(k);
    for (const k of keys) this.opts.enqueue(k);
  }

  /**
   * A SecretProviderClass or ExternalSecret of `namespace` changed (an ExternalSecret's sync too):
   * enqueue the mappings there that discover, or whose targets consume the secret through one.
   */
  consumerChanged(namespace: string): void {
    if (!this.opts.leading()) return;
    for (const m of this.opts.mappingsIn(namespace))
      if (followsConsumers(m)) this.opts.enqueue(`${m.metadata.namespace}/${m.metadata.name}`);
  }
}
