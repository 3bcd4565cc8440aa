import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { adminClients, awsClients, queueCounts, testQueue, waitFor } from '../harness.js';
import {
  benchOperator,
  benchScope,
  createDeployments,
  createMappings,
  createSecrets,
  eventBody,
  teardown,
} from './fixtures.js';
import { apiRequests, forEachLimit, metric, progress, requestDelta, rss, STAMP, sum } from './measure.js';

export interface BurstResult {
  valves: 'default' | 'opened';
  events: number;
  secrets: number;
  workloads: number;
  restarts: number;
  /** Workloads restarted more than once for the one version, and workloads never restarted. */
  duplicated: number;
  missing: number;
  allRestartedMs: number;
  drainedMs: number;
  /** Writes on the objects themselves: Deployment patches, mapping patches (status, finalizer). */
  objectWrites: number;
  eventWrites: number;
  writes: Record<string, number>;
  describeSecretCalls: number;
  peakRssMiB: number;
}

const OPENED = { RESTART_RATE_LIMIT: '10000', MAX_CONCURRENT_ROLLOUTS: '100000' };

/**
 * `events` events (duplicates included) for one rotation of each of `secrets` secrets, whose mappings
 * select `workloads` Deployments (1 pod each, kwok rolls them): what it costs and how long it takes.
 */
export async function burst(
  valves: 'default' | 'opened',
  size: { events: number; secrets: number; workloads: number },
): Promise<BurstResult> {
  const sc = await benchScope(`bench-burst-${valves}`);
  const ns = sc.namespace;
  const secrets = await createSecrets('burst', size.secrets);
  const names = Array.from({ length: size.workloads }, (_, i) => `w-${i}`);
  await createDeployments(ns, names, (i) => ({ secret: `s${i % size.secrets}` }), { replicas: 1 });
  await createMappings(
    ns,
    secrets.map((s, i) => ({ secretId: s.name, selector: { matchLabels: { secret: `s${i}` } } })),
  );
  const q = await testQueue(sc);
  progress(`burst (${valves} valves): ${size.secrets} mappings over ${size.workloads} Deployments`);
  const op = await benchOperator(sc, q.queueUrl, valves === 'opened' ? OPENED : {});
  const { custom, apps } = await adminClients();
  await waitFor(
    'every mapping Ready',
    async () => {
      const list = (await custom.listNamespacedCustomObject({
        group: 'secretsrotation.io',
        version: 'v1alpha1',
        namespace: ns,
        plural: 'secretsrotationmappings',
      })) as { items: { status?: { currentVersionId?: string } }[] };
      return list.items.filter((m) => m.status?.currentVersionId).length === size.secrets;
    },
    300_000,
  );
  const { sm, sqs } = await awsClients();
  const versions: string[] = [];
  await forEachLimit(secrets, 8, async (s, i) => {
    versions[i] =
      (await sm.send(new PutSecretValueCommand({ SecretId: s.name, SecretString: 'b' }))).VersionId ?? '';
  });
  const bodies = Array.from({ length: size.events }, (_, i) =>
    eventBody(secrets[i % size.secrets], versions[i % size.secrets]),
  );
  const requestsBefore = await apiRequests();
  const describeBefore = metric(await op.metrics(), 'secrets_rotation_aws_calls_total', 'DescribeSecret');
  const t0 = Date.now();
  const batches = Array.from({ length: Math.ceil(bodies.length / 10) }, (_, b) =>
    bodies.slice(b * 10, b * 10 + 10),
  );
  await forEachLimit(batches, 4, (batch) =>
    sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: q.queueUrl,
        Entries: batch.map((MessageBody, j) => ({ Id: String(j), MessageBody })),
      }),
    ),
  );
  const expected = new Set(
    names.map((n, i) => `${n}=${secrets[i % size.secrets].name}@${versions[i % size.secrets]}`),
  );
  const restartedNow = async (): Promise<number> =>
    (await apps.listNamespacedDeployment({ namespace: ns })).items.filter((d) =>
      expected.has(`${d.metadata?.name}=${d.spec?.template.metadata?.annotations?.[STAMP]}`),
    ).length;
  await waitFor(
    'every workload restarted',
    async () => (await restartedNow()) === size.workloads,
    300_000,
  ).catch(() => undefined);
  const allRestartedMs = Date.now() - t0;
  await waitFor(
    'queue drained',
    async () => {
      const c = await queueCounts(q.queueUrl);
      return c.visible + c.inflight === 0;
    },
    300_000,
  ).catch(() => undefined);
  const drainedMs = Date.now() - t0;
  const writes = requestDelta(
    requestsBefore,
    await apiRequests(),
    /^(deployments|secretsrotationmappings|events)/,
  );
  const list = await apps.listNamespacedDeployment({ namespace: ns });
  const gens = list.items.map((d) => (d.metadata?.generation ?? 1) - 1);
  const describeSecretCalls =
    metric(await op.metrics(), 'secrets_rotation_aws_calls_total', 'DescribeSecret') - describeBefore;
  const peakRssMiB = rss(op.process.pid ?? 0).peak;
  const { core } = await adminClients();
  const ours = (await core.listNamespacedEvent({ namespace: ns })).items.filter(
    (e) => e.reportingComponent === 'secrets-rotation-operator',
  );
  await teardown(sc, [op]);
  // Only this operator PATCHes or APPLYs (the controller-manager PUTs): those are its object writes.
  const patchWrites = Object.fromEntries(Object.entries(writes).filter(([k]) => /^(PATCH|APPLY) /.test(k)));
  return {
    valves,
    ...size,
    restarts: gens.reduce((a, b) => a + b, 0),
    duplicated: gens.filter((g) => g > 1).length,
    missing: gens.filter((g) => g < 1).length,
    allRestartedMs,
    drainedMs,
    objectWrites: sum(patchWrites),
    eventWrites: ours.length,
    writes: patchWrites,
    describeSecretCalls,
    peakRssMiB,
  };
}
