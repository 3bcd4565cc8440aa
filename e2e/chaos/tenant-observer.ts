import type { Mapping } from '../../resources/types.js';
import { Follower } from './observer.js';
import type { StageLedger } from './stage-ledger.js';
import type { TenancyLedger } from './tenancy-ledger.js';

interface Event {
  metadata?: { uid?: string; resourceVersion?: string };
  involvedObject?: { kind?: string; name?: string };
  reason?: string;
  message?: string;
  note?: string;
}

/**
 * What a hostile namespace is shown: its mappings' statuses and its Events, into the tenancy ledger
 * (did a secret outside its policy show?) and the staged mappings' status.rollout into the stage ledger.
 */
export class TenantObserver {
  private readonly follower = new Follower();
  /**
   * mapping name → every spec the tenant wrote under it, joined: what its status or an Event may echo
   * back. Every one, not the last: a status still of an older generation (the operator has not
   * passed since the edit) quotes the spec of then — the soak's one "leak" (seed 30) was such a
   * NotAllowed message quoting the full ARN the tenant had written before editing the mapping.
   */
  private readonly specs = new Map<string, string>();

  constructor(
    private readonly namespace: string,
    private readonly tenancy: TenancyLedger,
    private readonly stages: StageLedger,
  ) {}

  async start(): Promise<void> {
    const ns = this.namespace;
    await this.follower.follow<Mapping>(
      `/apis/secretsrotation.io/v1alpha1/namespaces/${ns}/secretsrotationmappings`,
      (_, m) => {
        const now = Date.now();
        const written = this.specs.get(m.metadata.name) ?? '';
        const latest = JSON.stringify(m.spec ?? {});
        const spec = written.includes(latest) ? written : `${written}\n${latest}`;
        this.specs.set(m.metadata.name, spec);
        const key = `${ns}/srm/${m.metadata.name}`;
        this.tenancy.showed(ns, key, { text: JSON.stringify(m.status ?? {}), echo: spec }, now);
        this.stages.status(key, m.status?.rollout, now);
      },
    );
    await this.follower.follow<Event>(`/api/v1/namespaces/${ns}/events`, (_, e) => {
      const echo =
        e.involvedObject?.kind === 'SecretsRotationMapping'
          ? this.specs.get(e.involvedObject.name ?? '')
          : '';
      const text = `${e.reason ?? ''} ${e.message ?? ''} ${e.note ?? ''}`;
      this.tenancy.showed(ns, `${ns}/event/${e.metadata?.uid ?? ''}`, { text, echo: echo ?? '' }, Date.now());
    });
  }

  stop(): void {
    this.follower.stop();
  }
}
