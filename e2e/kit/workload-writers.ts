import { Watch } from '@kubernetes/client-node';
import fs from 'node:fs';
import { auditLogPath } from '../env/audit.js';
import { adminClients, kc } from './clients.js';

/*
 * Who changed a workload's pod template: what a test that counts restarts prints when the count is
 * wrong. Every spec change seen by a watch (with the managed fields that name its writer), the
 * ReplicaSets with the stamp each was made for, the Lease, the mapping's Events, the API server's
 * audit entries for the namespace (e2e/env/audit.ts). The operator pods' logs: pod-logs.ts.
 */

const STAMP = 'secretsrotation.io/secret-version';
const RESTARTED_AT = 'secretsrotation.io/restartedAt';

interface Obj {
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    generation?: number;
    resourceVersion?: string;
    creationTimestamp?: string | Date;
    annotations?: Record<string, string>;
    managedFields?: { manager?: string; operation?: string; time?: string | Date; subresource?: string }[];
  };
  spec?: { template?: { metadata?: { annotations?: Record<string, string> } } };
}

/** One spec change of a workload as a watch saw it. */
export interface SpecChange {
  at: string;
  workload: string;
  generation: number;
  stamp?: string;
  restartedAt?: string;
  /** Managed-field entries (manager/operation/time) of the object at that generation, newest first. */
  managers: string;
}

const templateAnnotations = (o: Obj): Record<string, string> => o.spec?.template?.metadata?.annotations ?? {};

const iso = (t: string | Date | undefined): string => (t instanceof Date ? t.toISOString() : (t ?? '-'));

const managers = (o: Obj): string =>
  [...(o.metadata?.managedFields ?? [])]
    .sort((a, b) => iso(b.time).localeCompare(iso(a.time)))
    .map(
      (f) =>
        `${f.manager ?? '?'}/${f.operation ?? '?'}${f.subresource ? `(${f.subresource})` : ''}@${iso(f.time)}`,
    )
    .join(' ');

/**
 * Every generation change of the namespace's Deployments and StatefulSets, from a watch started
 * now: the count of template changes per workload, and the record of each for a failure report.
 */
export class SpecChanges {
  readonly changes: SpecChange[] = [];
  private readonly generations = new Map<string, number>();
  private readonly aborts: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly namespace: string) {}

  async start(): Promise<void> {
    for (const plural of ['deployments', 'statefulsets']) await this.follow(plural, '');
  }

  stop(): void {
    this.stopped = true;
    for (const a of this.aborts) a();
  }

  /** Spec changes of `workload` (Kind/name) seen since start, beyond the generation first seen. */
  count(workload: string): number {
    return this.changes.filter((c) => c.workload === workload).length;
  }

  report(): string {
    return this.changes
      .map(
        (c) =>
          `${c.at} ${c.workload} gen ${c.generation} ${c.stamp ?? '-'} @${c.restartedAt ?? '-'} by ${c.managers}`,
      )
      .join('\n');
  }

  private async follow(plural: string, from: string): Promise<void> {
    const { config } = await adminClients();
    let last = from;
    const again = (): void => {
      if (!this.stopped) setTimeout(() => void this.follow(plural, last).catch(again), 500);
    };
    const kind = plural === 'deployments' ? 'Deployment' : 'StatefulSet';
    const req = await new Watch(config).watch(
      `/apis/apps/v1/namespaces/${this.namespace}/${plural}`,
      last ? { resourceVersion: last } : {},
      (phase: string, o: Obj) => {
        if (phase === 'ERROR') return void (last = '');
        last = o.metadata?.resourceVersion ?? last;
        this.saw(`${kind}/${o.metadata?.name ?? ''}`, o);
      },
      again,
    );
    this.aborts.push(() => req.abort());
  }

  private saw(workload: string, o: Obj): void {
    const generation = o.metadata?.generation ?? 0;
    const before = this.generations.get(workload);
    if (before !== undefined && generation <= before) return;
    this.generations.set(workload, generation);
    if (before === undefined) return;
    const a = templateAnnotations(o);
    this.changes.push({
      at: new Date().toISOString(),
      workload,
      generation,
      stamp: a[STAMP],
      restartedAt: a[RESTARTED_AT],
      managers: managers(o),
    });
  }
}

/** The value at `path` (keys separated by `|`) in a parsed object, as text; `-` when absent. */
function at(o: unknown, path: string): string {
  let v: unknown = o;
  for (const key of path.split('|'))
    v = v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  if (v === undefined || v === null) return '-';
  if (v instanceof Date) return v.toISOString();
  return typeof v === 'string' ? v : JSON.stringify(v);
}

const T = 'spec|template|metadata|annotations|';

/** The namespace's ReplicaSets, oldest first: owner, revision, the stamp and restartedAt each was made for. */
async function replicaSets(namespace: string): Promise<string> {
  const { apps } = await adminClients();
  const list = await apps.listNamespacedReplicaSet({ namespace });
  return list.items
    .map((rs) =>
      [
        at(rs, 'metadata|creationTimestamp'),
        at(rs, 'metadata|ownerReferences|0|name'),
        `rs ${at(rs, 'metadata|name')} rev ${at(rs, 'metadata|annotations|deployment.kubernetes.io/revision')}`,
        `${at(rs, T + STAMP)} @${at(rs, T + RESTARTED_AT)} replicas ${at(rs, 'spec|replicas')}`,
      ].join(' '),
    )
    .sort()
    .join('\n');
}

/** The workloads' managed fields (who last wrote which fields, when). */
async function managedFields(namespace: string): Promise<string> {
  const { apps } = await adminClients();
  const [d, s] = await Promise.all([
    apps.listNamespacedDeployment({ namespace }),
    apps.listNamespacedStatefulSet({ namespace }),
  ]);
  return [
    ...d.items.map((o) => ['Deployment', o] as const),
    ...s.items.map((o) => ['StatefulSet', o] as const),
  ]
    .map(
      ([kind, o]) =>
        `${kind}/${o.metadata?.name ?? ''} gen ${o.metadata?.generation ?? 0}: ${managers(o as Obj)}`,
    )
    .join('\n');
}

/** One audit entry as a line: when, who, what, the answer; for a workload its patch and generation after. */
function auditLine(e: unknown): string {
  const who = [
    'stageTimestamp',
    'user|username',
    'verb',
    'objectRef|resource',
    'objectRef|namespace',
    'objectRef|name',
    'responseStatus|code',
  ]
    .map((p) => at(e, p))
    .join(' ');
  if (at(e, 'objectRef|resource') === 'leases')
    return `${who} holder ${at(e, 'responseObject|spec|holderIdentity')}`;
  const after = `gen ${at(e, 'responseObject|metadata|generation')} ${at(e, `responseObject|${T}${STAMP}`)}`;
  return `${who} ${after} patch ${at(e, 'requestObject').slice(0, 400)}`;
}

/**
 * The audit entries (see e2e/env/audit.ts) for workloads of `namespace`, and for the Leases of
 * `leaseNamespaces` when their holder changed: who wrote, the patch, the generation after.
 */
export function auditTrail(namespace: string, leaseNamespaces: string[] = [namespace]): string {
  if (!fs.existsSync(auditLogPath))
    return `(no audit log at ${auditLogPath}: kube-apiserver runs without the policy)`;
  const holders = new Map<string, string>();
  const out: string[] = [];
  for (const line of fs.readFileSync(auditLogPath, 'utf8').split('\n')) {
    if (!line.includes(`"namespace":"${namespace}"`) && !leaseNamespaces.some((n) => line.includes(n)))
      continue;
    const e = parseJson(line);
    const ns = at(e, 'objectRef|namespace');
    if (at(e, 'objectRef|resource') !== 'leases') {
      if (ns === namespace) out.push(auditLine(e));
      continue;
    }
    if (leaseNamespaces.includes(ns) && newHolder(holders, e)) out.push(auditLine(e));
  }
  return out.join('\n');
}

/** A Lease write that changed its holder (renewals every few seconds say nothing); remembers it. */
function newHolder(holders: Map<string, string>, e: unknown): boolean {
  const key = `${at(e, 'objectRef|namespace')}/${at(e, 'objectRef|name')}`;
  const holder = at(e, 'responseObject|spec|holderIdentity');
  if (at(e, 'responseStatus|code') !== '200' || holders.get(key) === holder) return false;
  holders.set(key, holder);
  return true;
}

const parseJson = (line: string): unknown => {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
};

/** Everything above about `namespace` (and the Lease in `leaseNamespace`), for a failure message. */
export async function writersReport(
  namespace: string,
  opts: { leaseNamespace?: string; mapping?: string; changes?: SpecChanges } = {},
): Promise<string> {
  const leaseNs = opts.leaseNamespace ?? namespace;
  const safe = (p: Promise<string>): Promise<string> => p.catch((err: unknown) => `(${String(err)})`);
  const events = await safe(
    kc([
      '-n',
      namespace,
      'get',
      'events',
      '--sort-by=.lastTimestamp',
      '--field-selector',
      `involvedObject.kind=SecretsRotationMapping${opts.mapping ? `,involvedObject.name=${opts.mapping}` : ''}`,
      '-o',
      'custom-columns=FIRST:.firstTimestamp,LAST:.lastTimestamp,COUNT:.count,REASON:.reason,FROM:.reportingInstance,MESSAGE:.message',
    ]),
  );
  return [
    '--- spec changes seen by the watch',
    opts.changes?.report() ?? '(not watched)',
    '--- ReplicaSets (oldest first)',
    await safe(replicaSets(namespace)),
    '--- managed fields',
    await safe(managedFields(namespace)),
    `--- Lease ${leaseNs}/secrets-rotation-operator`,
    await safe(kc(['-n', leaseNs, 'get', 'lease', 'secrets-rotation-operator', '-o', 'yaml'])),
    '--- mapping Events',
    events,
    '--- audit: workload writes and Lease holders',
    auditTrail(namespace, [leaseNs]),
  ].join('\n');
}
