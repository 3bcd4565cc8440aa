import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import http from 'node:http';
import type { Mapping } from '../resources/types.js';
import { localAws } from './env/aws-setup.js';
import { applyDenyPolicy } from './kit/admission-policy.js';
import type { FaultRelay } from './kit/fault-relay.js';
import {
  awsClients,
  createSecret,
  installCrd,
  kc,
  operatorKubeconfig,
  putEvent,
  putSecretValueEvent,
  rotate,
  startOperator,
  testQueue,
  uniqueName,
  waitFor,
  type RunningOperator,
  type Scope,
} from './harness.js';
import { applyMapping, getMapping, mappingEvents, waitReason } from './mapping-helpers.js';
import { createWorkload, templateState } from './workloads-fixtures.js';

export const STAMP = 'secretsrotation.io/secret-version';

/**
 * The ARN pattern naming the secret `name` (any suffix), for the role's RevertSecretArnPattern. On
 * AWS `name-??????` is exact; the local endpoint's matcher takes `*` only (`?` breaks its regex).
 */
export const secretArnPattern = (name: string): string =>
  `arn:aws:secretsmanager:${localAws.region}:${localAws.accountId}:secret:${name}-*`;

/** Where AWSCURRENT is now, as an admin's DescribeSecret shows it. */
export async function currentOf(secretId: string): Promise<string[]> {
  const { sm } = await awsClients();
  const out = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
  return Object.entries(out.VersionIdsToStages ?? {})
    .filter(([, labels]) => labels.includes('AWSCURRENT'))
    .map(([id]) => id);
}

/**
 * A value that breaks the pods, as a bad rotation does: a ValidatingAdmissionPolicy refusing the
 * pods of `namespace` whose template is stamped `stamp`, so a Deployment restarted for that version
 * creates no pod and its rollout fails (progress deadline), and one restarted back to any other
 * version rolls out. Resolves once the API server enforces it (a server-side dry run is refused).
 */
export async function breakingValue(scope: Scope, namespace: string, stamp: string): Promise<void> {
  const name = uniqueName('bad-value');
  scope.cleanups.push(
    await applyDenyPolicy(name, {
      failurePolicy: 'Fail',
      matchConstraints: {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
        resourceRules: [
          { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] },
        ],
      },
      validations: [
        {
          expression: `!has(object.metadata.annotations) || !('${STAMP}' in object.metadata.annotations) || object.metadata.annotations['${STAMP}'] != '${stamp}'`,
          message: `the value of ${stamp} breaks this pod`,
        },
      ],
    }),
  );
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'probe', namespace, annotations: { [STAMP]: stamp } },
    spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] },
  };
  await waitFor('the bad value refused', () =>
    kc(['create', '--dry-run=server', '-f', '-'], JSON.stringify(pod)).then(
      () => false,
      (err: Error) => err.message.includes('breaks this pod'),
    ),
  );
}

/** A policy governing `namespace` that allows `secret`, and lists `revert` in revertSecrets. */
export async function revertPolicy(
  scope: Scope,
  namespace: string,
  secret: string,
  revert: string[],
): Promise<void> {
  const name = uniqueName('revert-policy');
  const body = {
    apiVersion: 'secretsrotation.io/v1alpha1',
    kind: 'SecretsRotationPolicy',
    metadata: { name },
    spec: {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
      allowedSecrets: [secret],
      revertSecrets: revert,
    },
  };
  await kc(['apply', '-f', '-'], JSON.stringify(body));
  scope.cleanups.push(() => kc(['delete', 'srpol', name, '--ignore-not-found']));
}

/** A loopback webhook receiver: the reasons of the notifications it got, in order. */
export async function notifications(scope: Scope): Promise<{ url: string; reasons: () => string[] }> {
  const got: string[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      got.push((JSON.parse(raw) as { data: { reason: string } }).data.reason);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  scope.cleanups.push(() => new Promise((r) => (server.closeAllConnections(), server.close(r))));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`,
    reasons: () => [...got],
  };
}

export interface RevertSetup {
  ns: string;
  name: string;
  arn: string;
  v1: string;
  ops: RunningOperator[];
  hook: { url: string; reasons: () => string[] };
  queueUrl: string;
  kubeconfig: string;
  /** Rotates to a value that breaks the pods of the first workload's stage; resolves with its version. */
  rotateToBadValue: () => Promise<string>;
}

/**
 * Deployments a, b, c (one replica, a 3 s progress deadline), a Staged mapping `m` over them in that
 * order (stage size `stageSize`, default 1; onFailure `onFailure`), a policy (revertSecrets: `revert`, default the
 * secret), and the operator(s), whose role may revert the secret when `iam` (default true).
 */
export async function revertSetup(
  scope: Scope,
  opts: {
    onFailure?: 'Halt' | 'Revert';
    revert?: (name: string, arn: string) => string[];
    iam?: boolean;
    replicas?: number;
    /** Workloads per stage (default 1: a, b and c are three stages). */
    stageSize?: number;
    awsEndpoint?: string;
    /** A relay the operators talk to kube-apiserver through (e2e/kit/fault-relay.ts). */
    kubeRelay?: FaultRelay;
    env?: Record<string, string>;
  } = {},
): Promise<RevertSetup> {
  const ns = scope.namespace;
  await installCrd();
  const name = uniqueName('revert');
  const secret = await createSecret(name);
  for (const n of ['a', 'b', 'c'])
    await createWorkload(
      { kind: 'Deployment', namespace: ns, name: n },
      { app: n },
      { replicas: 1, progressDeadlineSeconds: 3 },
    );
  await revertPolicy(scope, ns, name, opts.revert ? opts.revert(name, secret.arn) : [name]);
  await applyMapping(ns, 'm', {
    secretId: name,
    workloads: ['a', 'b', 'c'].map((n) => ({ kind: 'Deployment' as const, name: n })),
    rollout: { strategy: 'Staged', stageSize: opts.stageSize ?? 1, onFailure: opts.onFailure ?? 'Revert' },
  });
  const hook = await notifications(scope);
  const queue = await testQueue(scope, { withRules: true });
  const kubeconfig = await operatorKubeconfig(scope);
  const ops: RunningOperator[] = [];
  for (let i = 0; i < (opts.replicas ?? 1); i++)
    ops.push(
      await startOperator(scope, {
        kubeconfig: through(opts.kubeRelay, kubeconfig),
        queueUrl: queue.queueUrl,
        awsEndpoint: opts.awsEndpoint,
        env: { NOTIFY_WEBHOOK_URL: hook.url, ...opts.env },
        revertSecretArnPattern: (opts.iam ?? true) ? secretArnPattern(name) : undefined,
        waitReady: i === 0,
      }),
    );
  await waitReason(ns, 'm', 'WatchingSecret');
  const rotateToBadValue = async (): Promise<string> => {
    const v = await rotate(name, secret.arn, { sendEvent: false });
    await breakingValue(scope, ns, `${name}@${v}`);
    await putEvent('AWS API Call via CloudTrail', putSecretValueEvent(name, secret.arn, v));
    return v;
  };
  return {
    ns,
    name,
    arn: secret.arn,
    v1: secret.versionId,
    ops,
    hook,
    queueUrl: queue.queueUrl,
    kubeconfig,
    rotateToBadValue,
  };
}

/** `kubeconfig`, or a copy of it whose server is `relay`. */
const through = (relay: FaultRelay | undefined, kubeconfig: string): string =>
  relay ? relay.kubeconfigThrough(kubeconfig) : kubeconfig;

/** Waits until mapping `name` of `ns` shows its staged rotation in `state`. */
export function rolloutState(ns: string, state: string, name = 'm', timeoutMs = 90_000): Promise<Mapping> {
  return waitFor(
    `${ns}/${name} ${state}`,
    async () => {
      const m = await getMapping(ns, name);
      return m.status?.rollout?.state === state ? m : undefined;
    },
    timeoutMs,
  );
}

/** The messages of mapping `name`'s Events of `reason`. */
export const eventsOf = async (ns: string, reason: string, name = 'm'): Promise<string[]> =>
  (await mappingEvents(ns, name)).filter((e) => e.reason === reason).map((e) => e.message ?? '');

/** A mapping's revert record in one line: `from>to workload moved|refused: why|pending`. */
export function revertOf(m: Mapping): string {
  const r = m.status?.rollout?.revert;
  if (!r) return 'none';
  const outcome = r.movedAt ? 'moved' : r.refused ? `refused: ${r.refused}` : 'pending';
  return `${r.from}>${r.to} ${r.workload} ${outcome}`;
}

/** A condition of the mapping as `status reason`. */
export function conditionOf(m: Mapping, type: string): string {
  const c = m.status?.conditions?.find((x) => x.type === type);
  return c ? `${c.status} ${c.reason}` : 'none';
}

/** Waits until workload `n` is stamped back for the old version and its rollout completed. */
export function restartedBack(s: RevertSetup, n: string): Promise<Mapping> {
  return waitFor(
    `${n} restarted back and rolled out`,
    async () => {
      const m = await getMapping(s.ns, 'm');
      const entry = m.status?.workloads?.find((w) => w.name === n);
      const stamp = (await templateState('Deployment', s.ns, n)).stamp;
      return stamp === `${s.name}@${s.v1}` && entry?.rollout === 'Complete' ? m : undefined;
    },
    60_000,
  );
}
