import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { MappingSpec } from '../../resources/types.js';
import { ODD_ZONES } from '../../operator/loop/windows-testkit.js';
import { adminClients, rotate, testQueue, waitFor } from '../harness.js';
import { getMapping, waitReason } from '../mapping-helpers.js';
import {
  benchOperator,
  benchScope,
  createDeployments,
  createMappings,
  createSecrets,
  teardown,
} from './fixtures.js';
import { apiRequests, metric, progress, requestDelta, rss, sum } from './measure.js';

/** What the worst mapping a tenant may write costs the operator: a pass's time, and its memory. */
export interface TenantResult {
  /** Workloads the worst-case mapping targets (spec.workloads at its bound). */
  targets: number;
  /** Passes of that mapping woken by its own Deployment's relabels, and their mean duration. */
  passes: number;
  meanPassMs: number;
  /** The duration of the same passes for a plain mapping of one Deployment. */
  plainMeanPassMs: number;
  /** RSS before the worst-case mapping and after it settled (MiB). */
  rssBeforeMiB: number;
  rssAfterMiB: number;
  /** Its staged rotation of 100 stages, one workload each (replicas 0: each rollout ends at once). */
  stagedRotationMs: number;
  /** Status writes those passes sent (none: nothing the status reports changed). */
  statusWrites: number;
}

const long = (c: string, n: number): string => c.repeat(n);

/**
 * Every field at the bound the CRD allows: 100 explicit workloads, a selector of 32 labels and 32
 * expressions of 64 values each (all matching), 16 restart windows of `* * * * *` lasting 168h in
 * zones with odd offsets, a staged rollout, every kind.
 */
export function worstSpec(secretId: string, names: string[]): MappingSpec {
  const labels = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`t${i}`, long('v', 63)]));
  return {
    secretId,
    workloads: names.slice(0, 100).map((name) => ({ kind: 'Deployment' as const, name })),
    selector: {
      matchLabels: labels,
      matchExpressions: Array.from({ length: 32 }, (_, i) => ({
        key: `x${i}`,
        operator: 'NotIn' as const,
        values: Array.from({ length: 64 }, (_, j) => `${j}${long('n', 60)}`),
      })),
    },
    kinds: ['Deployment', 'StatefulSet', 'DaemonSet'],
    restartWindows: Array.from({ length: 16 }, (_, i) => ({
      schedule: '* * * * *',
      duration: '168h',
      timeZone: ODD_ZONES[i % ODD_ZONES.length],
    })),
    rollout: { strategy: 'Staged', stageSize: 1, pause: '0s', onFailure: 'Halt' },
  };
}

/** Δsum / Δcount of the reconcile duration histogram while `drive` runs (ms per pass). */
async function passCost(
  metrics: () => Promise<string>,
  drive: () => Promise<void>,
): Promise<{ passes: number; meanMs: number }> {
  const read = async (): Promise<[number, number]> => {
    const text = await metrics();
    return [
      metric(text, 'secrets_rotation_reconcile_duration_seconds_sum'),
      metric(text, 'secrets_rotation_reconcile_duration_seconds_count'),
    ];
  };
  const [s0, c0] = await read();
  await drive();
  const [s1, c1] = await read();
  return { passes: c1 - c0, meanMs: c1 > c0 ? ((s1 - s0) / (c1 - c0)) * 1000 : 0 };
}

/** Relabels Deployment `name` `times` times: each change wakes the mappings that target it. */
async function relabel(namespace: string, name: string, times: number): Promise<void> {
  const { apps } = await adminClients();
  for (let i = 0; i < times; i++)
    await apps.patchNamespacedDeployment(
      { namespace, name, body: { metadata: { labels: { churn: String(i) } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
}

export async function tenant(): Promise<TenantResult> {
  const sc = await benchScope('bench-tenant');
  const [worst, plain] = await createSecrets('tenant', 2);
  const names = Array.from({ length: 100 }, (_, i) => `w${i}`);
  const labels = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`t${i}`, long('v', 63)]));
  await createDeployments(sc.namespace, [...names, 'plain'], (i) => (i < 100 ? labels : {}), {
    replicas: 0,
  });
  const queue = await testQueue(sc, { withRules: true });
  const op = await benchOperator(sc, queue.queueUrl, { RESYNC_INTERVAL: '0s' });
  try {
    await createMappings(sc.namespace, [
      { secretId: plain.name, workloads: [{ kind: 'Deployment', name: 'plain' }] },
    ]);
    await waitReason(sc.namespace, 'm-0', 'WatchingSecret');
    const plainCost = await passCost(
      () => op.metrics(),
      () => relabel(sc.namespace, 'plain', 50),
    );
    const pid = op.process.pid ?? 0;
    const rssBeforeMiB = rss(pid).rss;
    const { custom } = await adminClients();
    await custom.createNamespacedCustomObject({
      group: 'secretsrotation.io',
      version: 'v1alpha1',
      namespace: sc.namespace,
      plural: 'secretsrotationmappings',
      body: {
        apiVersion: 'secretsrotation.io/v1alpha1',
        kind: 'SecretsRotationMapping',
        metadata: { name: 'worst' },
        spec: worstSpec(worst.name, names),
      },
    });
    await waitReason(sc.namespace, 'worst', 'WatchingSecret');
    // A rotation through its 100 stages, then the tenant's churn: passes with nothing to restart.
    const v2 = await rotate(worst.name, worst.arn);
    const rotationStart = Date.now();
    await waitFor(
      'the worst-case mapping rolled out all 100 stages',
      async () => {
        const r = (await getMapping(sc.namespace, 'worst')).status?.rollout;
        return r?.versionId === v2 && r.state === 'Complete' ? true : undefined;
      },
      300_000,
    );
    const stagedRotationMs = Date.now() - rotationStart;
    const before = await apiRequests();
    const worstCost = await passCost(
      () => op.metrics(),
      () => relabel(sc.namespace, 'w50', 50),
    );
    const delta = requestDelta(before, await apiRequests(), /^secretsrotationmappings\/status$/);
    const statusWrites = sum(delta) - (delta['GET secretsrotationmappings/status'] ?? 0);
    const rssAfterMiB = rss(pid).rss;
    const out: TenantResult = {
      targets: names.length,
      passes: worstCost.passes,
      meanPassMs: worstCost.meanMs,
      plainMeanPassMs: plainCost.meanMs,
      rssBeforeMiB,
      rssAfterMiB,
      stagedRotationMs,
      statusWrites,
    };
    progress(`tenant worst case: ${JSON.stringify(out)}`);
    return out;
  } finally {
    await teardown(sc, [op]);
  }
}
