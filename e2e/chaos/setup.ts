import type { MappingSpec } from '../../resources/types.js';
import { benchScope, createSecrets } from '../bench/fixtures.js';
import { installCrd, operatorKubeconfig, rotate, testQueue, waitFor, type Owner } from '../harness.js';
import { applyMapping, getMapping } from '../mapping-helpers.js';
import type { RotationQueue } from '../env/aws-setup.js';
import { createWorkload } from '../workloads-fixtures.js';
import { primarySpec, type ChaosSecret } from './faults.js';
import { Ledger } from './ledger.js';
import { Observer } from './observer.js';
import { REFUSED_LABEL } from './platform-faults.js';
import { QuietTenant } from './quiet.js';
import { Replicas } from './replicas.js';
import type { Rng } from './rng.js';
import { StageLedger } from './stage-ledger.js';
import { TenancyLedger } from './tenancy-ledger.js';
import { TenantObserver } from './tenant-observer.js';
import { setUpTenants, type Tenants } from './tenants.js';

/** The tracked workloads of one secret: every kind, and the ones that do not roll by themselves. */
const TRACKED = [
  { suffix: 'deploy', kind: 'Deployment', opts: { replicas: 2 } },
  { suffix: 'sts', kind: 'StatefulSet', opts: { replicas: 1 } },
  { suffix: 'ds', kind: 'DaemonSet', opts: {} },
  { suffix: 'paused', kind: 'Deployment', opts: { replicas: 1, paused: true } },
  { suffix: 'ondelete', kind: 'StatefulSet', opts: { replicas: 1, onDelete: true } },
] as const;

/** Everything a run acts on and watches. */
export interface World {
  scope: Owner;
  secrets: ChaosSecret[];
  /** Workloads that must end on their secret's current version: key → secret name. */
  tracked: Map<string, string>;
  ledger: Ledger;
  tenancy: TenancyLedger;
  stages: StageLedger;
  observers: { stop(): void }[];
  main: Observer;
  hostile: Observer[];
  quiet: QuietTenant;
  tenants: Tenants;
  queue: RotationQueue;
  replicas: Replicas;
  primaries: Map<string, MappingSpec>;
}

const log = (msg: string): void => console.error(`[chaos] ${msg}`);

/**
 * The run's namespaces: the tracked one (faults act there), two hostile tenants' (tenants.ts) and the
 * quiet one (quiet.ts, no fault touches it); the replicas watch them all.
 */
export async function setUpWorld(rng: Rng, nSecrets: number, seed: number): Promise<World> {
  await installCrd();
  const scope = await benchScope('chaos');
  const ns = scope.namespace;
  const ledger = new Ledger();
  const tenancy = new TenancyLedger();
  const stages = new StageLedger();
  const all = (await createSecrets('chaos', nSecrets + 4)).map((s, i) => ({ ...s, label: `s${i}` }));
  const secrets = all.slice(0, nSecrets);
  const [h0, h1, forbidden, quietSecret] = all.slice(nSecrets);
  const tracked = new Map<string, string>();
  for (const [i, s] of secrets.entries())
    for (const t of TRACKED) {
      const name = `${s.label}-${t.suffix}`;
      // The first secret's Deployment and StatefulSet are the ones an admission-refusal refuses.
      const refused = i === 0 && (t.suffix === 'deploy' || t.suffix === 'sts');
      await createWorkload(
        { kind: t.kind, namespace: ns, name },
        { chaos: s.label, ...(refused ? { [REFUSED_LABEL]: 'true' } : {}) },
        t.opts,
      );
      tracked.set(`${ns}/${t.kind}/${name}`, s.name);
    }
  for (const s of all) {
    const calledAt = Date.now();
    const v = await rotate(s.name, s.arn, { sendEvent: false });
    ledger.rotated(s.name, v, calledAt, Date.now());
    tenancy.identifies(s.name, s.arn);
    tenancy.identifies(s.name, v);
  }
  const main = new Observer(ns, (w, stamp, at) => ledger.saw(w, stamp, at));
  await main.start();
  const tenants = await setUpTenants(
    scope,
    rng,
    { hostile: [h0, h1], forbidden, tracked: secrets },
    { tenancy, stages },
  );
  const seen = new Set<string>();
  const hostile = tenants.namespaces.map(
    (hns) =>
      new Observer(hns, (w, stamp, at) => {
        ledger.saw(w, stamp, at);
        stages.saw(w, stamp, at);
        if (!stamp || !at || seen.has(`${w}|${at}`)) return;
        seen.add(`${w}|${at}`);
        tenancy.restarted(hns, w, stamp.slice(0, stamp.lastIndexOf('@')), Date.parse(at));
      }),
  );
  const tenantObservers = tenants.namespaces.map((hns) => new TenantObserver(hns, tenancy, stages));
  for (const o of [...hostile, ...tenantObservers]) await o.start();
  const quiet = new QuietTenant(scope, quietSecret);
  await quiet.setUp((w, stamp, at) => ledger.saw(w, stamp, at));
  tracked.set(quiet.tracked, quietSecret.name);

  const queue = await testQueue(scope, { withRules: true, visibilityTimeout: 10, maxReceiveCount: 5 });
  const replicas = new Replicas(scope, {
    count: 2,
    seed,
    kubeconfig: await operatorKubeconfig(scope),
    queueUrl: queue.queueUrl,
    env: {
      LEASE_DURATION: '6s',
      RENEW_DEADLINE: '4s',
      RETRY_PERIOD: '1s',
      SQS_WAIT_TIME_SECONDS: '5',
      KUBE_REQUEST_TIMEOUT: '10s',
      ROLLOUT_DEADLINE: '30s',
      LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'info',
    },
  });
  const primaries = new Map(secrets.map((s) => [`m-${s.label}`, primarySpec(s)]));
  for (const [name, spec] of primaries) await applyMapping(ns, name, spec);
  await replicas.start();
  await waitFor(
    'every mapping watching its secret',
    async () => {
      for (const [mns, name] of [
        ...[...primaries.keys()].map((n) => [ns, n]),
        [quiet.namespace, 'healthy'],
      ]) {
        const ready = (await getMapping(mns, name)).status?.conditions?.find((c) => c.type === 'Ready');
        if (ready?.status !== 'True') return false;
      }
      return true;
    },
    60_000,
  );
  log(
    `namespace ${ns}: ${secrets.length} secrets, ${tracked.size} tracked workloads, 2 replicas; hostile ${tenants.namespaces.join(', ')}; quiet ${quiet.namespace}`,
  );
  return {
    scope,
    secrets,
    tracked,
    ledger,
    tenancy,
    stages,
    observers: [main, ...hostile, ...tenantObservers, quiet],
    main,
    hostile,
    quiet,
    tenants,
    queue,
    replicas,
    primaries,
  };
}
