import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { eventBody } from '../bench/fixtures.js';
import { adminClients, awsClients, kc, releaseMappings, rotate, testQueue, type Owner } from '../harness.js';
import { applyMapping } from '../mapping-helpers.js';
import { createWorkload } from '../workloads-fixtures.js';
import type { ChaosSecret } from './faults.js';
import type { Sample } from './health.js';
import { Observer, type WorkloadSink } from './observer.js';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const SEEN_WITHIN_MS = 15_000;

/**
 * The healthy tenant: a namespace no fault touches, one mapping of one Deployment, its secret rotated
 * every ~2 s; each rotation timed from SendMessage to the restart seen on a watch. Beside it, on the
 * same schedule, the floor: what any operator must spend on that path — an SQS long-poll wake, one
 * DescribeSecret, one PATCH seen on the same watch — done by the run itself (as e2e/bench's floor).
 */
export class QuietTenant {
  readonly healthy: Sample[] = [];
  readonly floor: Sample[] = [];
  private readonly seen = new Map<string, number>();
  private observer: Observer | undefined;
  private floorQueue = '';

  constructor(
    private readonly scope: Owner,
    readonly secret: ChaosSecret,
  ) {}

  get namespace(): string {
    return `${this.scope.namespace}-quiet`;
  }

  /** Its namespace, Deployments and mapping; `sink` hears its template changes (not the floor's). */
  async setUp(sink: WorkloadSink): Promise<void> {
    const ns = this.namespace;
    await kc(['create', 'namespace', ns]);
    this.scope.cleanups.push(() =>
      releaseMappings(ns, false).then(() => kc(['delete', 'namespace', ns, '--wait=false'])),
    );
    for (const name of ['healthy', 'floor'])
      await createWorkload({ kind: 'Deployment', namespace: ns, name }, {}, { replicas: 1 });
    await applyMapping(ns, 'healthy', {
      secretId: this.secret.name,
      workloads: [{ kind: 'Deployment', name: 'healthy' }],
    });
    this.floorQueue = (await testQueue({ ...this.scope, namespace: `${ns}-floor` })).queueUrl;
    this.observer = new Observer(ns, (w, stamp, at) => {
      if (stamp && !this.seen.has(stamp)) this.seen.set(stamp, Date.now());
      if (!w.endsWith('/floor')) sink(w, stamp, at);
    });
    await this.observer.start();
  }

  /** The key of the healthy Deployment, for the missing check. */
  get tracked(): string {
    return `${this.namespace}/Deployment/healthy`;
  }

  /** Rotations and floor round trips, alternately, until `done()`. */
  async run(
    queueUrl: string,
    rotated: (v: string, calledAt: number, returnedAt: number) => void,
    done: () => boolean,
  ): Promise<void> {
    const { sqs } = await awsClients();
    for (let i = 0; !done(); i++) {
      const calledAt = Date.now();
      const v = await rotate(this.secret.name, this.secret.arn, { sendEvent: false });
      rotated(v, calledAt, Date.now());
      const start = Date.now();
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: eventBody(this.secret, v) }));
      this.healthy.push({ start, end: await this.until(`${this.secret.name}@${v}`, start) });
      this.floor.push(await this.floorTrip(i).catch(() => ({ start: Date.now(), end: Infinity })));
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  async finalStamps(): Promise<Map<string, string | undefined>> {
    return (await this.observer?.finalStamps()) ?? new Map();
  }

  stop(): void {
    this.observer?.stop();
  }

  private async floorTrip(i: number): Promise<Sample> {
    const { sqs, sm } = await awsClients();
    const { apps } = await adminClients();
    const start = Date.now();
    await sqs.send(new SendMessageCommand({ QueueUrl: this.floorQueue, MessageBody: String(i) }));
    let handle: string | undefined;
    while (!handle && Date.now() - start < SEEN_WITHIN_MS) {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: this.floorQueue, WaitTimeSeconds: 1 }),
      );
      handle = out.Messages?.[0]?.ReceiptHandle;
    }
    const d = await sm.send(new DescribeSecretCommand({ SecretId: this.secret.arn }));
    const stamp = `floor@${i}-${d.Name}`;
    const annotations = {
      'secretsrotation.io/secret-version': stamp,
      'secretsrotation.io/restartedAt': String(start),
    };
    await apps.patchNamespacedDeployment(
      {
        namespace: this.namespace,
        name: 'floor',
        body: { spec: { template: { metadata: { annotations } } } },
      },
      MERGE,
    );
    const end = await this.until(stamp, start);
    if (handle)
      await sqs.send(new DeleteMessageCommand({ QueueUrl: this.floorQueue, ReceiptHandle: handle }));
    return { start, end };
  }

  /** When `stamp` was seen on the watch, or Infinity if not within SEEN_WITHIN_MS of `start`. */
  private async until(stamp: string, start: number): Promise<number> {
    while (!this.seen.has(stamp) && Date.now() - start < SEEN_WITHIN_MS)
      await new Promise((r) => setTimeout(r, 5));
    return this.seen.get(stamp) ?? Infinity;
  }
}
