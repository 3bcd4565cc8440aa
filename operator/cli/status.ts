import type { Mapping, StagedRolloutStatus, WorkloadStatus } from '../../resources/types.js';
import { READY } from '../loop/status.js';
import { windowVerdict } from '../loop/windows.js';
import type { Args } from './args.js';
import { Cluster, contextNamespace } from './cluster.js';
import type { Io } from './io.js';
import { age, render, renderTable } from './output.js';
import { byKey, readableMappings } from './scope.js';

/** Where one mapping stands, from its status (and spec.restartWindows, for when a window opens). */
export interface Standing {
  namespace: string;
  name: string;
  secretId: string;
  secretArn?: string;
  ready: { status: string; reason?: string; message?: string };
  /** The status describes the current spec (status.observedGeneration = metadata.generation). */
  observed: boolean;
  workloads: number;
  /** When the operator last restarted workloads for a new version. */
  lastRotationTime?: string;
  /** A Staged mapping's rotation (status.rollout). */
  rollout?: Pick<StagedRolloutStatus, 'versionId' | 'stage' | 'stages' | 'state' | 'progress'>;
  /** Workloads whose rollout for the current version is still in progress. */
  inFlight: string[];
  /** Set when a staged rotation halted: run `resume` to continue. */
  halted?: { stage: number; versionId: string; message: string };
  /** Restarts due, held until a restart window opens. */
  waitingForWindow?: { workloads: string[]; opensAt?: string };
  /** Restarts waiting for External Secrets Operator to sync the new value (timed out or not). */
  waitingForSync?: { workloads: string[]; timedOut: string[] };
  /** Workloads a staged rotation has not reached yet. */
  held: string[];
  suspended: boolean;
}

const id = (w: WorkloadStatus): string => `${w.kind}/${w.name}`;
const where = (ws: WorkloadStatus[] | undefined, keep: (w: WorkloadStatus) => boolean): string[] =>
  (ws ?? []).filter(keep).map(id);

/** A Pending entry the windows stage deferred (its message is the operator's, see stages/windows.ts). */
const waitsForWindow = (w: WorkloadStatus): boolean =>
  w.state === 'Pending' && /restart window/.test(w.message ?? '');

/** When the next window opens after `now`, as the operator decides it; undefined when open or unknown. */
function opensAt(m: Mapping, now: number): string | undefined {
  try {
    const v = windowVerdict(m.spec.restartWindows, now);
    return v.open || v.opensAt === undefined ? undefined : new Date(v.opensAt).toISOString();
  } catch {
    return undefined; // windows the operator refuses: its Ready condition says why
  }
}

const NOT_REPORTED = { status: 'Unknown', message: 'the operator has not reported on this mapping yet' };

/** What waits: restarts deferred to a window, restarts waiting for External Secrets to sync. */
function waits(m: Mapping, now: number): Pick<Standing, 'waitingForWindow' | 'waitingForSync'> {
  const ws = m.status?.workloads;
  const windowed = where(ws, waitsForWindow);
  const syncing = where(ws, (w) => w.state === 'WaitingForSync' || w.state === 'SyncTimedOut');
  return {
    waitingForWindow: windowed.length ? { workloads: windowed, opensAt: opensAt(m, now) } : undefined,
    waitingForSync: syncing.length
      ? { workloads: syncing, timedOut: where(ws, (w) => w.state === 'SyncTimedOut') }
      : undefined,
  };
}

/** A Staged mapping's rotation, and its halt. */
function staged(r: StagedRolloutStatus | undefined): Pick<Standing, 'rollout' | 'halted'> {
  if (!r) return {};
  const { versionId, stage, stages, state, progress } = r;
  return {
    rollout: { versionId, stage, stages, state, progress },
    halted: state === 'Halted' ? { stage, versionId, message: r.message ?? 'halted' } : undefined,
  };
}

/** Where `m` stands at `now`. Pure. */
export function standingOf(m: Mapping, now: number): Standing {
  const s = m.status ?? {};
  const ready = s.conditions?.find((c) => c.type === READY);
  return {
    namespace: m.metadata.namespace,
    name: m.metadata.name,
    secretId: m.spec.secretId,
    secretArn: s.secretArn,
    ready: ready ? { status: ready.status, reason: ready.reason, message: ready.message } : NOT_REPORTED,
    observed: s.observedGeneration !== undefined && s.observedGeneration === m.metadata.generation,
    workloads: s.matchedWorkloads ?? 0,
    lastRotationTime: s.lastRotationTime,
    ...staged(s.rollout),
    inFlight: where(s.workloads, (w) => w.rollout === 'InProgress' && w.versionId === s.currentVersionId),
    ...waits(m, now),
    held: where(s.workloads, (w) => w.state === 'Held'),
    suspended: m.spec.suspend === true,
  };
}

/** Ready means the Ready condition is True (what `kubectl wait --for=condition=Ready` waits for). */
export const isReady = (s: Standing): boolean => s.ready.status === 'True';

function waiting(s: Standing): string {
  const parts: string[] = [];
  if (s.waitingForWindow)
    parts.push(`window${s.waitingForWindow.opensAt ? ` ${s.waitingForWindow.opensAt}` : ''}`);
  if (s.waitingForSync) parts.push(`ESO sync (${s.waitingForSync.workloads.length})`);
  return parts.join(', ') || '-';
}

/** The status table, with a line under it per mapping that needs a look (not Ready, halted). Pure. */
export function statusText(standings: Standing[], now: number): string {
  if (!standings.length) return 'No SecretsRotationMappings found.';
  const table = renderTable({
    headers: [
      'NAMESPACE',
      'NAME',
      'READY',
      'REASON',
      'WORKLOADS',
      'ROLLOUT',
      'IN-FLIGHT',
      'WAITING',
      'LAST ROTATION',
    ],
    rows: standings.map((s) => [
      s.namespace,
      s.name,
      s.ready.status,
      s.ready.reason ?? '-',
      String(s.workloads),
      s.rollout?.progress ?? '-',
      String(s.inFlight.length),
      waiting(s),
      age(s.lastRotationTime, now) || '-',
    ]),
  });
  const notes = standings.flatMap((s) => {
    const key = `${s.namespace}/${s.name}`;
    const out: string[] = [];
    if (!isReady(s))
      out.push(`${key} is not Ready: ${s.ready.message ?? s.ready.reason ?? 'no reason given'}`);
    if (s.halted)
      out.push(
        `${key} ${s.halted.message.replace(/; set the annotation.*$/, '')}: kubectl secretsrotation resume -n ${s.namespace} ${s.name} --version ${s.halted.versionId}`,
      );
    if (s.waitingForSync?.timedOut.length)
      out.push(`${key} waits past the sync timeout for ${s.waitingForSync.timedOut.join(', ')}`);
    return out;
  });
  return notes.length ? `${table}\n\n${notes.join('\n')}` : table;
}

/** `status`: prints every readable mapping's standing; 1 when any is not Ready, else 0. */
export async function runStatus(args: Args, cluster: Cluster, now: number, io: Io): Promise<number> {
  const { mappings, refused } = await readableMappings(cluster, {
    namespace: args.namespace,
    fallback: contextNamespace(cluster.kc),
  });
  const standings = mappings.sort(byKey).map((m) => standingOf(m, now));
  const notReady = standings.filter((s) => !isReady(s)).length;
  const data = {
    apiVersion: 'v1',
    kind: 'List',
    items: standings,
    summary: { mappings: standings.length, notReady, refusedNamespaces: refused },
  };
  io.out(render(args.output, data, () => statusText(standings, now)));
  if (refused.length) io.err(`not allowed to list mappings in namespace(s) ${refused.join(', ')}\n`);
  return notReady ? 1 : 0;
}
