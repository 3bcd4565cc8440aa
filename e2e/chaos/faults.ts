import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { parseMessage } from '../../operator/aws/event-parser.js';
import type { MappingSpec } from '../../resources/types.js';
import { eventBody } from '../bench/fixtures.js';
import { freezeComponent, restartComponent } from '../env/env.js';
import { adminClients, awsClients, kc, waitFor } from '../harness.js';
import { applyMapping } from '../mapping-helpers.js';
import { createWorkload } from '../workloads-fixtures.js';
import { HOSTILE_KINDS, hostileBody } from './hostile.js';
import type { Ledger } from './ledger.js';
import { admissionRefusal, operatorUpgrade, secretRecreate } from './platform-faults.js';
import { FAULT_CLASSES, REQUEST_KINDS } from '../kit/wire-faults.js';
import type { Replicas } from './replicas.js';
import type { Rng } from './rng.js';
import type { TenancyLedger } from './tenancy-ledger.js';
import { hostileTenant, policyChurn, type Tenants } from './tenants.js';

export const FAULT_KINDS = [
  'apiserver-restart',
  'aws-freeze',
  'operator-kill',
  'leader-kill',
  'leader-partition',
  'redelivery-storm',
  'hostile-messages',
  'mapping-churn',
  'workload-churn',
  'hostile-tenant',
  'policy-churn',
  'admission-refusal',
  'secret-recreate',
  'operator-upgrade',
  'write-faults',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * Faults that stop every tenant while they last (the API server, AWS, the leader): the healthy
 * tenant's latency is not judged across them (health.ts). Every other kind is a tenant's or a
 * message's doing, which the healthy tenant must not feel.
 */
export const GLOBAL_FAULTS: readonly FaultKind[] = [
  'apiserver-restart',
  'aws-freeze',
  'operator-kill',
  'leader-kill',
  'leader-partition',
  'operator-upgrade',
  'write-faults',
];

export interface ChaosSecret {
  name: string;
  arn: string;
  label: string;
}

/** What the faults act on, and the tallies they keep. */
export interface FaultContext {
  rng: Rng;
  namespace: string;
  queueUrl: string;
  secrets: ChaosSecret[];
  replicas: Replicas;
  ledger: Ledger;
  /** Workloads that may be relabelled or deleted (never counted as missing). */
  churn: string[];
  badInputs: Map<string, number>;
  /** Hostile messages the parser calls malformed: they must end in the dead-letter queue. */
  expectDeadLettered: { n: number };
  /** Spec of every primary mapping (by name), to recreate it. */
  primaries: Map<string, MappingSpec>;
  extras: string[];
  tenants: Tenants;
  tenancy: TenancyLedger;
  /** Runs `fn` with no rotation of `secret` in between (a recreation is not raced by a PutSecretValue). */
  lock: (secret: string, fn: () => Promise<void>) => Promise<void>;
  /** A version became current (into the ledgers). */
  recordRotation: (secret: string, version: string, calledAt: number, returnedAt: number) => void;
  /** An ARN of `secret`, for the tenancy ledger to look for. */
  identifies: (secret: string, id: string) => void;
  /** Fault-specific detail for the log. */
  note: (s: string) => void;
}

export const primarySpec = (s: ChaosSecret): MappingSpec => ({
  secretId: s.name,
  selector: { matchLabels: { chaos: s.label } },
});

async function sendRaw(queueUrl: string, bodies: string[]): Promise<void> {
  const { sqs } = await awsClients();
  for (let i = 0; i < bodies.length; i += 10) {
    const Entries = bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: String(j), MessageBody }));
    const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries }));
    if (out.Failed?.length) throw new Error(`SendMessageBatch failed: ${JSON.stringify(out.Failed)}`);
  }
}

const apiserverReady = async (): Promise<boolean> =>
  (await kc(['get', '--raw', '/readyz']).catch(() => '')).trim() === 'ok';

export const FAULTS: Record<FaultKind, (ctx: FaultContext) => Promise<void>> = {
  'write-faults': async (ctx) => {
    // Every request kind, every class, on both replicas' wires and AWS's, for a while.
    const ms = ctx.rng.int(5000, 15_000);
    const probability = ctx.rng.pick([0.1, 0.2, 0.3]);
    ctx.note(`${ms} ms, ${probability * 100} % of requests`);
    await ctx.replicas.wireFaults(
      { kinds: REQUEST_KINDS, faults: FAULT_CLASSES, probability, delayMs: [300, 5000] },
      ms,
    );
  },
  'apiserver-restart': async (ctx) => {
    const down = ctx.rng.int(1000, 4000);
    ctx.note(`down ${down} ms`);
    await restartComponent('kube-apiserver', down, apiserverReady);
  },
  'aws-freeze': async (ctx) => {
    const ms = ctx.rng.int(3000, 8000);
    ctx.note(`${ms} ms`);
    await freezeComponent('moto', ms);
  },
  'operator-kill': async (ctx) => {
    const i = ctx.rng.int(0, ctx.replicas.size - 1);
    ctx.note(`replica ${i}`);
    await ctx.replicas.kill(i);
  },
  'leader-kill': async (ctx) => {
    const i = (await ctx.replicas.leader()) ?? 0;
    ctx.note(`replica ${i}`);
    await ctx.replicas.kill(i);
  },
  'leader-partition': async (ctx) => {
    const i = (await ctx.replicas.leader()) ?? 0;
    const ms = ctx.rng.int(5000, 10_000);
    ctx.note(`replica ${i} cut off ${ms} ms`);
    await ctx.replicas.partition(i, ms);
  },
  'redelivery-storm': async (ctx) => {
    // Copies of the current version's event and of older ones, all at once.
    const s = ctx.rng.pick(ctx.secrets);
    const versions = ctx.ledger.versionsOf(s.name);
    const bodies = Array.from({ length: 30 }, () => eventBody(s, ctx.rng.pick(versions)));
    ctx.note(`${bodies.length} copies for ${s.name}`);
    await sendRaw(ctx.queueUrl, bodies);
  },
  'hostile-messages': async (ctx) => {
    const kinds = ctx.rng.shuffle(HOSTILE_KINDS).slice(0, ctx.rng.int(2, HOSTILE_KINDS.length));
    const secret = ctx.rng.pick(ctx.secrets);
    const bodies = kinds.map((k) => hostileBody(k, secret));
    for (const [i, k] of kinds.entries()) {
      ctx.badInputs.set(k, (ctx.badInputs.get(k) ?? 0) + 1);
      if (parseMessage(bodies[i]).kind === 'malformed') ctx.expectDeadLettered.n++;
    }
    ctx.note(kinds.join(', '));
    await sendRaw(ctx.queueUrl, bodies);
  },
  'mapping-churn': async (ctx) => {
    const action = ctx.rng.pick(['add-extra', 'delete-extra', 'edit-primary', 'recreate-primary'] as const);
    const s = ctx.rng.pick(ctx.secrets);
    ctx.note(`${action} (${s.label})`);
    if (action === 'add-extra' || (action === 'delete-extra' && !ctx.extras.length)) {
      // A second mapping over the same workloads: both must agree on one restart per version.
      const name = `extra-${ctx.extras.length}-${s.label}`;
      ctx.extras.push(name);
      return applyMapping(ctx.namespace, name, primarySpec(s));
    }
    if (action === 'delete-extra') {
      const name = ctx.extras.splice(ctx.rng.int(0, ctx.extras.length - 1), 1)[0];
      await kc(['-n', ctx.namespace, 'delete', 'srm', name, '--wait=false']);
      return;
    }
    const name = `m-${s.label}`;
    const spec = ctx.primaries.get(name) ?? primarySpec(s);
    if (action === 'edit-primary') {
      const next = { ...spec, minRestartInterval: spec.minRestartInterval === '1s' ? '0s' : '1s' };
      ctx.primaries.set(name, next);
      return applyMapping(ctx.namespace, name, next);
    }
    // GitOps replace: deleted (the operator removes its finalizer), then created again.
    await kc(['-n', ctx.namespace, 'delete', 'srm', name, '--wait=false']);
    await waitFor(
      `${name} gone`,
      async () => !(await kc(['-n', ctx.namespace, 'get', 'srm', name, '-o', 'name']).catch(() => '')),
      60_000,
    );
    await applyMapping(ctx.namespace, name, spec);
  },
  'workload-churn': async (ctx) => {
    const { apps } = await adminClients();
    const action = ctx.rng.pick(['relabel', 'delete', 'create'] as const);
    const s = ctx.rng.pick(ctx.secrets);
    if (action === 'create' || !ctx.churn.length) {
      const name = `churn-${ctx.churn.length}-${s.label}`;
      ctx.churn.push(name);
      ctx.note(`create ${name}`);
      return createWorkload(
        { kind: 'Deployment', namespace: ctx.namespace, name },
        { chaos: s.label },
        { replicas: 1 },
      );
    }
    const name = ctx.rng.pick(ctx.churn);
    ctx.note(`${action} ${name}`);
    if (action === 'delete') {
      await apps.deleteNamespacedDeployment({ namespace: ctx.namespace, name }).catch(() => undefined);
      return;
    }
    await kc(['-n', ctx.namespace, 'label', 'deployment', name, 'chaos-', '--overwrite']).catch(
      () => undefined,
    );
  },
  'hostile-tenant': (ctx) => hostileTenant(ctx.tenants, ctx.rng, ctx.note),
  'policy-churn': (ctx) => policyChurn(ctx.tenants, ctx.rng, ctx.tenancy, ctx.note),
  'admission-refusal': admissionRefusal,
  'secret-recreate': secretRecreate,
  'operator-upgrade': operatorUpgrade,
};
