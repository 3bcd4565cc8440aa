import type { MappingSpec } from '../../resources/types.js';
import { environment, installCrd, operatorKubeconfig, rotate, testQueue, type Scope } from '../harness.js';
import { createSecret } from './aws-actions.js';
import { kc, uniqueName, waitFor } from './clients.js';
import { FaultRelay } from './fault-relay.js';
import { FAST_LEASE, startOperator, type RunningOperator } from './operator-process.js';
import { applyMapping, getMapping, mappingEvents, waitReason } from '../mapping-helpers.js';
import { createDeployments, templateState } from '../workloads-fixtures.js';

/** The operator (one or more replicas) talking to the API server and AWS through fault relays. */
export interface Wired {
  ns: string;
  name: string;
  arn: string;
  /** The first replica's relay to kube-apiserver (each replica has its own: `kubes`). */
  kube: FaultRelay;
  kubes: FaultRelay[];
  /** The relay to the AWS endpoint, shared by the replicas. */
  aws: FaultRelay;
  ops: RunningOperator[];
  queueUrl: string;
  /** PutSecretValue and its event; resolves with the new version. */
  rotate: () => Promise<string>;
}

/**
 * Deployments `names`, a mapping `m` over them of a new secret, and `replicas` operators (fast
 * Lease) whose kubeconfig and AWS_ENDPOINT_URL point at seeded fault relays with no rule yet.
 */
export async function wiredOperator(
  scope: Scope,
  names: string[],
  opts: {
    seed: number;
    replicas?: number;
    rollout?: MappingSpec['rollout'];
    /** A Deployment whose new pods no Node accepts, with a 3 s progress deadline: its rollout fails. */
    failing?: string;
    env?: Record<string, string>;
  },
): Promise<Wired> {
  const ns = scope.namespace;
  await installCrd();
  const name = uniqueName('wire');
  const secret = await createSecret(name);
  await createDeployments(ns, names, opts.failing);
  await applyMapping(ns, 'm', {
    secretId: name,
    workloads: names.map((n) => ({ kind: 'Deployment' as const, name: n })),
    ...(opts.rollout ? { rollout: opts.rollout } : {}),
  });
  const env = await environment();
  const aws = await FaultRelay.aws(env.awsEndpoint, opts.seed);
  scope.cleanups.push(() => aws.close());
  const queue = await testQueue(scope, { withRules: true, visibilityTimeout: 5, maxReceiveCount: 10 });
  const kubeconfig = await operatorKubeconfig(scope);
  const kubes: FaultRelay[] = [];
  const ops: RunningOperator[] = [];
  for (let i = 0; i < (opts.replicas ?? 1); i++) {
    const kube = await FaultRelay.kube(env, opts.seed + 1 + i);
    scope.cleanups.push(() => kube.close());
    kubes.push(kube);
    ops.push(
      await startOperator(scope, {
        kubeconfig: kube.kubeconfigThrough(kubeconfig),
        awsEndpoint: aws.url,
        queueUrl: queue.queueUrl,
        env: { KUBE_REQUEST_TIMEOUT: '4s', ...FAST_LEASE, ...opts.env },
        waitReady: i === 0,
      }),
    );
  }
  await waitReason(ns, 'm', 'WatchingSecret');
  return {
    ns,
    name,
    arn: secret.arn,
    kube: kubes[0],
    kubes,
    aws,
    ops,
    queueUrl: queue.queueUrl,
    rotate: () => rotate(name, secret.arn),
  };
}

/** Waits until the mapping's current version is `version` with every one of `names` stamped for it. */
export async function applied(w: Wired, names: string[], version: string, timeoutMs = 90_000): Promise<void> {
  await waitFor(
    `${names.join(', ')} restarted for ${version}`,
    async () => {
      const m = await getMapping(w.ns, 'm');
      if (m.status?.currentVersionId !== version) return false;
      for (const n of names)
        if ((await templateState('Deployment', w.ns, n)).stamp !== `${w.name}@${version}`) return false;
      return true;
    },
    timeoutMs,
  );
}

/** Template changes of each Deployment so far (a restart is one; creation is generation 1). */
export async function restarts(ns: string, names: string[]): Promise<Record<string, number>> {
  const generations = await Promise.all(names.map((n) => templateState('Deployment', ns, n)));
  return Object.fromEntries(names.map((n, i) => [n, generations[i].generation - 1]));
}

/** Messages of the Events of `reason` about mapping `m`. */
export const reasons = async (ns: string, reason: string): Promise<string[]> =>
  (await mappingEvents(ns, 'm')).filter((e) => e.reason === reason).map((e) => e.message ?? '');

/**
 * Deletes mapping `name` of `w` and waits until it is gone. kubectl runs synchronously in this
 * process, where the relays run too: it must not wait itself (the operator could not answer through
 * them meanwhile), so the wait is an async poll.
 */
export async function deleteMapping(w: Wired, name: string): Promise<void> {
  await kc(['-n', w.ns, 'delete', 'srm', name, '--wait=false']);
  await waitFor(
    `${name} gone`,
    () =>
      getMapping(w.ns, name).then(
        () => false,
        () => true,
      ),
    60_000,
  );
}
