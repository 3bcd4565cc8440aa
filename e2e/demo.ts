import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { kubectl } from './env/cluster.js';
import { up } from './env/env.js';
import { repoRoot } from './env/paths.js';
import { delay } from './env/processes.js';
import { createSecret, rotate } from './kit/aws-actions.js';
import { awsClients, useEnvironment } from './kit/clients.js';
import { installCrd, operatorKubeconfig, startOperator, type Owner } from './kit/operator-process.js';
import { REAL_NODE, REAL_NODE_TAINT, STATIC_WEB } from './env/real-node.js';
import type { Mapping, WorkloadStatus } from '../resources/types.js';

/**
 * `npm run demo`: the product end to end on the local environment. Starts (or reuses) the environment,
 * runs the operator (as a pod on the real node when there is one, else as a process) under its ServiceAccount, applies manifests/samples, rotates the secret the way AWS
 * would (PutSecretValue, then the EventBridge event) and shows the pods rolling and the mapping's status.
 */
const NS = 'demo';
const SECRET = 'eks-controller-test-secret';
const say = (msg: string): void => console.log(`\n\x1b[1m▶ ${msg}\x1b[0m`);

async function main(): Promise<void> {
  say(
    'Starting the local environment (the first run builds Kubernetes and its tools from source: ~17 minutes on 2 cores)',
  );
  // A cold machine does not wait five more minutes for External Secrets Operator: it builds in the
  // background, and the consumers part of the demo comes with the next run.
  process.env.SRO_ESO_IN_BACKGROUND ??= '1';
  const env = await up();
  useEnvironment(env);
  const k = (args: string[], input?: string): string => kubectl(env.binDir, env.kubeconfig, args, input);

  say('Installing the CRD and a fresh "demo" namespace');
  await installCrd();
  k(['delete', 'namespace', NS, '--ignore-not-found', '--timeout=60s']);
  k(['delete', 'clusterrolebinding', `sro-${NS}`, '--ignore-not-found']);
  k(['create', 'namespace', NS]);

  say(`Creating the secret "${SECRET}" in the local Secrets Manager`);
  const arn = await ensureSecret();

  const owner: Owner = { namespace: NS, cleanups: [], logs: [] };
  if (env.noRealNode) {
    say(`Starting the operator as its own ServiceAccount (no real node here: ${env.noRealNode})`);
    const op = await startOperator(owner, {
      kubeconfig: await operatorKubeconfig(owner),
      queueUrl: env.queueUrl,
      // Every namespace here; its Lease lives where its ServiceAccount may write.
      watchNamespace: '',
      env: { LEADER_ELECTION_NAMESPACE: NS, LOG_LEVEL: 'info' },
    });
    console.log(`operator pid ${op.process.pid}, logs in ${path.relative(process.cwd(), op.log)}`);
  } else {
    say(
      'Deploying the operator as a pod on real-node: npm run deploy (skaffold run -p local, buildah, local registry)',
    );
    deployOperatorPod();
    console.log(k(['-n', 'secrets-rotation-operator', 'get', 'pods', '-o', 'wide']));
  }

  say('Applying manifests/samples: nginx (3 replicas, environment=operatortest) and the mapping');
  k(['-n', NS, 'apply', '-k', path.join(repoRoot, 'manifests', 'samples')]);
  if (!env.noRealNode) {
    say(`…with nginx played by real containers on real-node (${STATIC_WEB.tag}, built locally)`);
    k(['-n', NS, 'patch', 'deployment', 'nginx', '--type=strategic', '-p', JSON.stringify(onRealNode())]);
  }
  k(['-n', NS, 'rollout', 'status', 'deployment/nginx', '--timeout=60s']);
  k(['-n', NS, 'wait', '--for=condition=Ready', 'srm/nginx-db', '--timeout=60s']);
  console.log(k(['-n', NS, 'get', 'srm,pods', '-o', 'wide']));
  const consumers = env.processes.some((p) => p.name === 'external-secrets');
  if (consumers) setUpConsumers(k);
  else
    say(
      'External Secrets Operator is still building in the background: the consumers part comes on the next run',
    );

  say(
    'Rotating the secret as AWS would: PutSecretValue, then the EventBridge event (CloudTrail PutSecretValue)',
  );
  const versionId = await rotate(SECRET, arn, { value: `{"password":"${Date.now()}"}` });
  console.log(`new AWSCURRENT version: ${versionId}`);

  say('Watching the pods roll and the mapping change');
  await watchRollout(k, versionId);
  k(['-n', NS, 'wait', '--for=condition=RolloutComplete', 'srm/nginx-db', '--timeout=60s']);
  console.log(k(['-n', NS, 'describe', 'srm', 'nginx-db']).split('\n').slice(-8).join('\n'));
  if (consumers) await watchConsumers(k, versionId);
  for (const stop of owner.cleanups.reverse()) await stop();

  say('Done. The environment is still running:');
  console.log(`  source .e2e/env && kubectl -n ${NS} get srm,pods -o wide    # explore
  kubectl -n secrets-rotation-operator get pods -o wide              # the operator pods (with a real node)
  npm start                                          # run the operator yourself (see README)
  npm run env:down                                   # clean up: stops every process, removes .e2e/env`);
}

/**
 * Consumers that never read the secret themselves: `api` reads the Secret External Secrets Operator
 * fills from it (an ExternalSecret, dataFrom.extract of its JSON), `worker` mounts it through the
 * CSI driver (a SecretProviderClass). One mapping discovers both (both on kwok).
 */
function setUpConsumers(k: (args: string[], input?: string) => string): void {
  say('Consumption-aware restarts: an ExternalSecret consumer and a CSI consumer, found by spec.discover');
  const objects = [
    {
      apiVersion: 'external-secrets.io/v1',
      kind: 'SecretStore',
      metadata: { name: 'aws' },
      spec: { provider: { aws: { service: 'SecretsManager', region: 'us-east-1' } } },
    },
    {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name: 'db' },
      spec: {
        refreshInterval: '1h',
        secretStoreRef: { name: 'aws', kind: 'SecretStore' },
        target: { name: 'db-creds' },
        dataFrom: [{ extract: { key: SECRET } }],
      },
    },
    {
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name: 'db-csi' },
      spec: {
        provider: 'aws',
        parameters: { objects: `- objectName: ${SECRET}\n  objectType: secretsmanager` },
      },
    },
    consumer('api', {
      containers: [{ name: 'api', image: 'nginx:1.27', envFrom: [{ secretRef: { name: 'db-creds' } }] }],
    }),
    consumer('worker', {
      containers: [
        { name: 'worker', image: 'nginx:1.27', volumeMounts: [{ name: 'db', mountPath: '/mnt/db' }] },
      ],
      volumes: [
        {
          name: 'db',
          csi: {
            driver: 'secrets-store.csi.k8s.io',
            readOnly: true,
            volumeAttributes: { secretProviderClass: 'db-csi' },
          },
        },
      ],
    }),
    {
      apiVersion: 'secretsrotation.io/v1alpha1',
      kind: 'SecretsRotationMapping',
      metadata: { name: 'db-consumers' },
      spec: { secretId: SECRET, discover: true },
    },
  ];
  k(['-n', NS, 'apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  k(['-n', NS, 'wait', '--for=condition=Ready', 'externalsecret/db', '--timeout=60s']);
  k(['-n', NS, 'wait', '--for=condition=Ready', 'srm/db-consumers', '--timeout=60s']);
  console.log(
    k([
      '-n',
      NS,
      'get',
      'srm',
      'db-consumers',
      '-o',
      'jsonpath={range .status.workloads[*]}{.kind}/{.name} via {.via}{"\\n"}{end}',
    ]),
  );
}

const consumer = (name: string, podSpec: object): object => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: podSpec },
  },
});

/**
 * The same rotation as the consumers saw it: the CSI one restarted at once, the ESO one only after
 * ESO had synced the new value (the times from the mapping's status and the ExternalSecret's).
 */
async function watchConsumers(k: (args: string[]) => string, versionId: string): Promise<void> {
  say('The same rotation for the consumers: the CSI one restarted at once, the ESO one after ESO synced');
  const started = Date.now();
  while (Date.now() - started < 60_000) {
    const m = JSON.parse(k(['-n', NS, 'get', 'srm', 'db-consumers', '-o', 'json'])) as Mapping;
    const entry = (name: string): WorkloadStatus | undefined =>
      m.status?.workloads?.find((w) => w.name === name);
    const [api, worker] = [entry('api'), entry('worker')];
    if (api?.versionId === versionId && worker?.versionId === versionId) {
      const refreshed = k(['-n', NS, 'get', 'externalsecret', 'db', '-o', 'jsonpath={.status.refreshTime}']);
      console.log(`  rotation detected, worker restarted   ${worker.restartedAt ?? '?'}  (CSI: nothing to wait for)
  force-sync of ExternalSecret db asked  ${api.sync?.requestedAt ?? '?'}
  ESO refreshed db-creds                 ${refreshed}
  api restarted                          ${api.restartedAt ?? '?'}  (after the refresh: its new pods read the new value)`);
      console.log(k(['-n', NS, 'describe', 'srm', 'db-consumers']).split('\n').slice(-6).join('\n'));
      return;
    }
    await delay(200);
  }
  throw new Error('the consumers were not restarted within 60 s');
}

/** skaffold run -p local, as `npm run deploy` does; the pod keeps running after the demo. */
function deployOperatorPod(): void {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'e2e', 'env', 'deploy.js')], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error(`npm run deploy failed (exit ${result.status ?? '?'})`);
}

/** The samples' nginx as containers of the locally built web server, on the real node. */
const onRealNode = (): object => ({
  spec: {
    template: {
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': REAL_NODE },
        tolerations: [{ key: REAL_NODE_TAINT, operator: 'Exists', effect: 'NoSchedule' }],
        containers: [{ name: 'nginx', image: STATIC_WEB.tag, imagePullPolicy: 'Never' }],
      },
    },
  },
});

/** The demo's secret, created on the first run (JSON: External Secrets Operator extracts its keys). */
async function ensureSecret(): Promise<string> {
  const { sm } = await awsClients();
  try {
    return (await sm.send(new DescribeSecretCommand({ SecretId: SECRET }))).ARN ?? '';
  } catch {
    return (await createSecret(SECRET, '{"password":"initial"}')).arn;
  }
}

async function watchRollout(k: (args: string[]) => string, versionId: string): Promise<void> {
  const started = Date.now();
  let last = '';
  while (Date.now() - started < 90_000) {
    const pods = k([
      '-n',
      NS,
      'get',
      'pods',
      '--no-headers',
      '-o',
      'custom-columns=POD:.metadata.name,STATUS:.status.phase,READY:.status.containerStatuses[0].ready',
      '-l',
      'app=nginx',
    ]);
    const srm = k(['-n', NS, 'get', 'srm', 'nginx-db', '--no-headers', '-o', 'wide']);
    const frame = `${pods.trim()}\n${srm.trim()}`;
    if (frame !== last) {
      console.log(`--- t+${((Date.now() - started) / 1000).toFixed(1)}s\n${frame}`);
      last = frame;
    }
    const [stamp, done] = k([
      '-n',
      NS,
      'get',
      'deployment',
      'nginx',
      '-o',
      'jsonpath={.spec.template.metadata.annotations.secretsrotation\\.io/secret-version} {.status.updatedReplicas}/{.status.readyReplicas}/{.status.replicas}',
    ]).split(' ');
    if (stamp === `${SECRET}@${versionId}` && done === '3/3/3' && pods.trim().split('\n').length === 3)
      return;
    await delay(300);
  }
  throw new Error('the rollout did not complete within 90 s');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
