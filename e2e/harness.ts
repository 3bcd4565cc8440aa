import { DeleteRuleCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteQueueCommand } from '@aws-sdk/client-sqs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { createRotationQueue, type RotationQueue } from './env/aws-setup.js';
import { logDir } from './env/paths.js';
import { tail } from './env/processes.js';
import { awsClients, environment, kc, nodesHealthy, uniqueName, waitFor } from './kit/clients.js';
import type { Owner } from './kit/operator-process.js';

/*
 * The test-only part of the e2e kit: a real-environment test with its own namespace, queue and
 * cleanups. Everything else tests use comes from kit/ and is re-exported here.
 */
export * from './kit/clients.js';
export * from './kit/aws-actions.js';
export * from './kit/operator-process.js';

/** What a test gets: its own namespace, its own queue, cleanup registered, logs printed on failure. */
export interface Scope extends Owner {
  t: TestContext;
}

/**
 * A real-environment test: its own namespace (deleted afterwards, even on failure); when it fails,
 * the tails of the operator's and the components' logs are printed.
 */
export function e2eTest(
  name: string,
  fn: (scope: Scope) => Promise<void>,
  opts: { timeout?: number } = {},
): void {
  test(name, { timeout: opts.timeout ?? 180_000 }, async (t) => {
    await environment();
    await waitFor('Nodes Ready and untainted', () => nodesHealthy(), 120_000);
    const namespace = uniqueName(name);
    await kc(['create', 'namespace', namespace]);
    // As the Kubernetes e2e framework does: pods cannot be created before the namespace's default
    // ServiceAccount exists (slow right after an API server restart).
    await waitFor(
      'default ServiceAccount',
      () => kc(['-n', namespace, 'get', 'serviceaccount', 'default']),
      60_000,
    );
    const scope: Scope = { t, namespace, cleanups: [], logs: [] };
    try {
      await fn(scope);
    } catch (err) {
      const components = ['kube-apiserver', 'kube-controller-manager'].map((c) =>
        path.join(logDir, `${c}.log`),
      );
      console.error(
        [...scope.logs.map((f) => tail(f, 60)), ...components.map((f) => tail(f, 15))].join('\n'),
      );
      console.error(await namespaceState(namespace));
      throw err;
    } finally {
      await releaseMappings(namespace);
      for (const c of scope.cleanups.reverse()) await c().catch(() => undefined);
      await kc(['delete', 'namespace', namespace, '--wait=false']).catch(() => undefined);
    }
  });
}

/**
 * What a failed test's namespace holds (workloads with their rollout counts, ReplicaSets, pods,
 * mappings' status): a timeout says what was awaited, this says where the cluster stood.
 */
async function namespaceState(namespace: string): Promise<string> {
  const get = (args: string[]): Promise<string> =>
    kc(['-n', namespace, 'get', ...args]).catch((err: unknown) => `(${String(err)})`);
  return [
    `--- ${namespace}: workloads, ReplicaSets, pods`,
    await get(['deployments,statefulsets,daemonsets,replicasets,pods', '-o', 'wide']),
    '--- mappings',
    await get(['srm', '-o', 'yaml']),
  ].join('\n');
}

/**
 * Deletes the namespace's mappings while its operator may still run (it removes its finalizer); a
 * mapping left with the finalizer because no operator runs any more gets it stripped, so neither the
 * namespace nor a later CRD deletion hangs.
 */
export async function releaseMappings(namespace: string, operatorRunning = true): Promise<void> {
  const names = await kc(['-n', namespace, 'get', 'srm', '-o', 'name']).catch(() => '');
  if (!names.trim()) return;
  const strip = async (): Promise<void> => {
    for (const n of names.trim().split('\n')) {
      await kc(['-n', namespace, 'patch', n, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']).catch(
        () => undefined,
      );
    }
  };
  if (!operatorRunning) return strip();
  await kc(['-n', namespace, 'delete', 'srm', '--all', '--timeout=10s']).catch(strip);
}

/** A queue (+DLQ) for this test alone, with the template's EventBridge rules when `withRules`. */
export async function testQueue(
  scope: Owner,
  opts: { withRules?: boolean; maxReceiveCount?: number; visibilityTimeout?: number; redrive?: boolean } = {},
): Promise<RotationQueue> {
  const s = await environment();
  const q = await createRotationQueue(s.awsEndpoint, scope.namespace, {
    ...opts,
    withRules: opts.withRules ?? false,
    maxReceiveCount: opts.maxReceiveCount ?? 2,
  });
  scope.cleanups.push(async () => {
    const { sqs, events } = await awsClients();
    for (const rule of q.ruleNames) {
      await events.send(new RemoveTargetsCommand({ Rule: rule, Ids: ['queue'] }));
      await events.send(new DeleteRuleCommand({ Name: rule }));
    }
    await sqs.send(new DeleteQueueCommand({ QueueUrl: q.queueUrl }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: q.dlqUrl }));
  });
  return q;
}
