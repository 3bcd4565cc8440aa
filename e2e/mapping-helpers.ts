import type { Mapping, MappingSpec } from '../resources/types.js';
import { metric } from './bench/measure.js';
import { adminClients, createSecret, kc, uniqueName, waitFor, type RunningOperator } from './harness.js';
import { createWorkload } from './workloads-fixtures.js';

export async function applyMapping(namespace: string, name: string, spec: MappingSpec): Promise<void> {
  const body = {
    apiVersion: 'secretsrotation.io/v1alpha1',
    kind: 'SecretsRotationMapping',
    metadata: { name, namespace },
    spec,
  };
  await kc(['apply', '-f', '-'], JSON.stringify(body));
}

export async function getMapping(namespace: string, name: string): Promise<Mapping> {
  const { custom } = await adminClients();
  return (await custom.getNamespacedCustomObject({
    group: 'secretsrotation.io',
    version: 'v1alpha1',
    namespace,
    plural: 'secretsrotationmappings',
    name,
  })) as Mapping;
}

export function ready(m: Mapping): { status?: string; reason?: string; message?: string } {
  return m.status?.conditions?.find((c) => c.type === 'Ready') ?? {};
}

/** Waits until the mapping's Ready condition has `reason` (and its status is for the current generation). */
export async function waitReason(
  namespace: string,
  name: string,
  reason: string,
  timeoutMs = 30_000,
): Promise<Mapping> {
  return waitFor(
    `mapping ${namespace}/${name} Ready reason ${reason}`,
    async () => {
      const m = await getMapping(namespace, name);
      return ready(m).reason === reason && m.status?.observedGeneration === m.metadata.generation
        ? m
        : undefined;
    },
    timeoutMs,
  );
}

/**
 * The Events recorded on the mapping, oldest first, each as many times as it counts: occurrences the
 * operator merged into one Event (operator/kube/event-series.ts) all carry the newest one's message,
 * so a test that tells occurrences by message must not run where Event writes back up.
 */
export async function mappingEvents(
  namespace: string,
  name: string,
): Promise<{ reason: string; message: string }[]> {
  const { core } = await adminClients();
  const list = await core.listNamespacedEvent({
    namespace,
    fieldSelector: `involvedObject.name=${name},involvedObject.kind=SecretsRotationMapping`,
  });
  const at = (t: Date | string | undefined): number => (t ? new Date(t).getTime() : 0);
  return list.items
    .sort((a, b) => at(a.firstTimestamp) - at(b.firstTimestamp))
    .flatMap((e) =>
      Array.from({ length: Math.max(1, e.count ?? 1) }, () => ({
        reason: e.reason ?? '',
        message: e.message ?? '',
      })),
    );
}

/** Reasons of the Events recorded on the mapping, oldest first. */
export async function eventReasons(namespace: string, name: string): Promise<string[]> {
  return (await mappingEvents(namespace, name)).map((e) => e.reason);
}

/** A one-replica Deployment `name` labelled `labels` and mapping `name` listing it, for `secretId`. */
export async function mapDeployment(
  namespace: string,
  name: string,
  secretId: string,
  opts: { labels?: Record<string, string>; unschedulable?: boolean } = {},
): Promise<void> {
  await createWorkload({ kind: 'Deployment', namespace, name }, opts.labels ?? { app: name }, {
    replicas: 1,
    unschedulable: opts.unschedulable,
  });
  await applyMapping(namespace, name, { secretId, workloads: [{ kind: 'Deployment', name }] });
}

/**
 * A fresh secret, a one-replica Deployment `name` labelled `labels`, and mapping `name` listing it;
 * returns the secret's name and what CreateSecret answered.
 */
export async function mappedDeployment(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  opts: { unschedulable?: boolean } = {},
): Promise<{ secret: string; arn: string; versionId: string }> {
  const secret = uniqueName(name);
  const created = await createSecret(secret);
  await mapDeployment(namespace, name, secret, { labels, ...opts });
  return { secret, ...created };
}

/**
 * Two mapped Deployments for the rollout-slot tests: `stuck`, whose pods no Node accepts (its
 * rollout never ends, holding a slot), and `next`, which waits for that slot.
 */
export async function stuckAndNext(namespace: string): Promise<{
  stuck: { secret: string; arn: string; versionId: string };
  next: { secret: string; arn: string; versionId: string };
}> {
  const stuck = await mappedDeployment(namespace, 'stuck', { app: 'stuck' }, { unschedulable: true });
  const next = await mappedDeployment(namespace, 'next', { app: 'next' });
  return { stuck, next };
}

/** DescribeSecret calls the operator made, whatever their result (its aws_calls_total). */
export const describeCalls = async (op: RunningOperator): Promise<number> =>
  metric(await op.metrics(), 'secrets_rotation_aws_calls_total', 'operation="DescribeSecret"');
