import { EventReason } from '../kube/events.js';
import type { ExternalSecretInfo } from '../kube/consumption.js';
import type { Mapping, WorkloadStatus } from '../../resources/types.js';
import { parseDuration } from '../runtime/duration.js';
import { describe, isNotFound } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import type { SecretVersion } from '../aws/secret-versions.js';
import type { PassDeps } from './pass.js';
import { keptEntry, type Planned } from './restart-plan.js';
import { syncGate, type SyncGate, type SyncRequest } from './sync-gate.js';

/** See MappingSpec.externalSecretSync. */
export const DEFAULT_SYNC_TIMEOUT = '2m';

export interface ExternalSecretSyncOptions {
  mapping: Mapping;
  deps: Pick<PassDeps, 'consumers' | 'externalSecrets' | 'aborted' | 'onSyncWait'>;
  log: Logger;
  /** The pass's Event queue (sent after its restarts). */
  event(
    type: 'Normal' | 'Warning',
    reason: EventReason,
    message: string,
    details?: { version?: string; workload?: string },
  ): Promise<void>;
  /** Ask the pass to look again after this many ms. */
  wakeIn(ms: number): void;
}

/**
 * The I/O around sync-gate.ts for one pass: reads the ExternalSecrets a target consumes from the
 * cache, writes ESO's force-sync annotation, records the Events, and gives the waiting entry.
 */
export class ExternalSecretSync {
  /** The force-sync request each waiting or just restarted target (kind/name) goes by. */
  readonly requests = new Map<string, SyncRequest>();

  constructor(private readonly opts: ExternalSecretSyncOptions) {}

  /**
   * A workload reading an ExternalSecret's Secret restarts only once ESO has copied the new value:
   * ask for a sync (force-sync), and return the waiting entry until every ExternalSecret has synced
   * — or, past the timeout, go ahead if the spec says Restart. Undefined: restart now.
   */
  async beforeRestart(p: Planned, secret: SecretVersion): Promise<WorkloadStatus | undefined> {
    const cache = this.opts.deps.consumers;
    const names = p.target.externalSecrets ?? [];
    if (!cache || !names.length) return undefined;
    const ns = this.opts.mapping.metadata.namespace;
    const spec = this.opts.mapping.spec.externalSecretSync ?? {};
    const externalSecrets = names.flatMap((n) => cache.externalSecret(ns, n) ?? []);
    const gate = syncGate({
      versionId: secret.currentVersionId,
      previous: p.previous?.sync,
      externalSecrets,
      now: Date.now(),
      timeoutMs: parseDuration(this.syncTimeout),
      onTimeout: spec.onTimeout ?? 'Wait',
    });
    this.requests.set(`${p.target.kind}/${p.target.name}`, gate.request);
    const failed = await this.requestSync(p, gate.annotate, gate.forceSyncValue);
    if (failed) return failed;
    await this.announceSync(p, gate, secret.currentVersionId);
    this.measure(p, gate);
    if (gate.restart) return undefined;
    if (gate.waitMs !== undefined) this.opts.wakeIn(gate.waitMs);
    return this.waitingEntry(p, gate, externalSecrets, secret.currentVersionId);
  }

  /** The entry of a restart that waits for ExternalSecrets to sync. */
  private waitingEntry(
    p: Planned,
    gate: SyncGate,
    externalSecrets: ExternalSecretInfo[],
    version: string,
  ): WorkloadStatus {
    const unsynced = gate.unsynced.map((n) => `ExternalSecret/${n}`).join(', ');
    return {
      ...keptEntry(p),
      state: gate.timedOut ? 'SyncTimedOut' : 'WaitingForSync',
      message: [
        gate.timedOut
          ? `${unsynced} did not sync version ${version} within ${this.syncTimeout}; restarts when it does`
          : `restart for version ${version} waits for ${unsynced} to sync`,
        ...externalSecrets.flatMap((es) =>
          es.noRefresh ? [`ExternalSecret/${es.name}: ${es.noRefresh}`] : [],
        ),
      ].join('; '),
    };
  }

  private get syncTimeout(): string {
    return this.opts.mapping.spec.externalSecretSync?.timeout ?? DEFAULT_SYNC_TIMEOUT;
  }

  /** Reports how long a wait lasted when it ends: synced (the restart goes), or past its timeout (once). */
  private measure(p: Planned, gate: SyncGate): void {
    const report = this.opts.deps.onSyncWait;
    if (!report) return;
    const waited = (Date.now() - Date.parse(gate.request.requestedAt)) / 1000;
    if (gate.timedOut && p.previous?.state !== 'SyncTimedOut') report('timed_out', waited);
    else if (gate.restart && !gate.timedOut && gate.request === p.previous?.sync) report('synced', waited);
  }

  /** Events for a new sync request and for a timeout, each once. */
  private async announceSync(p: Planned, gate: SyncGate, version: string): Promise<void> {
    const workload = `${p.target.kind}/${p.target.name}`;
    const unsynced = gate.unsynced.map((n) => `ExternalSecret/${n}`).join(', ');
    if (gate.request !== p.previous?.sync && !gate.restart) {
      this.opts.log.info('restart waits for ExternalSecret sync', {
        workload,
        externalSecrets: gate.unsynced,
      });
      await this.opts.event(
        'Normal',
        EventReason.SyncRequested,
        `${workload} restarts for version ${version} once ${unsynced} synced (force-sync requested)`,
        { workload },
      );
    }
    if (gate.timedOut && p.previous?.state !== 'SyncTimedOut') {
      const next = gate.restart ? `restarting ${workload} anyway` : `${workload} keeps waiting`;
      this.opts.log.warn('ExternalSecret sync timed out', { workload, externalSecrets: gate.unsynced, next });
      await this.opts.event(
        'Warning',
        EventReason.SyncTimedOut,
        `${unsynced} did not sync version ${version} within ${this.syncTimeout}: ${next}`,
        { version, workload },
      );
    }
  }

  /** Annotates the ExternalSecrets with force-sync; a Failed entry when that is refused. */
  private async requestSync(p: Planned, names: string[], value: number): Promise<WorkloadStatus | undefined> {
    const ns = this.opts.mapping.metadata.namespace;
    for (const es of names) {
      this.opts.deps.aborted?.throwIfAborted();
      try {
        const written = await this.opts.deps.externalSecrets?.forceSync(ns, es, value);
        if (written) this.opts.deps.consumers?.observeExternalSecret(written);
        this.opts.log.info('force-sync requested', { externalSecret: es, value });
      } catch (err) {
        if (isNotFound(err)) continue;
        const message = `force-sync of ExternalSecret/${es} failed: ${describe(err)}`;
        this.opts.log.error('force-sync failed', { externalSecret: es, error: describe(err) });
        await this.opts.event(
          'Warning',
          EventReason.RestartFailed,
          `${p.target.kind}/${p.target.name}: ${message}`,
          { workload: `${p.target.kind}/${p.target.name}` },
        );
        return { ...keptEntry(p), state: 'Failed', message };
      }
    }
    return undefined;
  }
}
