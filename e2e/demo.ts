import {
  CreateSecretCommand,
  DescribeSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { awsClientConfig, localAwsEnv } from './env/aws-setup.js';
import { kubectl } from './env/cluster.js';
import { up, type EnvState } from './env/env.js';
import { operatorIdentity } from './env/identity.js';
import { logDir, operatorEntry, repoRoot } from './env/paths.js';
import { delay, tail } from './env/processes.js';
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
  say('Starting the local environment (the first run builds Kubernetes from source: ~12 minutes on 2 cores)');
  const env = await up();
  const k = (args: string[], input?: string): string => kubectl(env.binDir, env.kubeconfig, args, input);

  say('Installing the CRD and a fresh "demo" namespace');
  k(['apply', '--server-side', '-f', path.join(repoRoot, 'resources', 'secretsrotationmapping.crd.yaml')]);
  k(['wait', '--for=condition=Established', 'crd/secretsrotationmappings.secretsrotation.io']);
  k(['delete', 'namespace', NS, '--ignore-not-found', '--timeout=60s']);
  k(['delete', 'clusterrolebinding', `sro-${NS}`, '--ignore-not-found']);
  k(['create', 'namespace', NS]);

  say(`Creating the secret "${SECRET}" in the local Secrets Manager`);
  const sm = new SecretsManagerClient(awsClientConfig(env.awsEndpoint));
  const arn = await ensureSecret(sm);

  let stopOperator = (): void => {};
  if (env.noRealNode) {
    say(`Starting the operator as its own ServiceAccount (no real node here: ${env.noRealNode})`);
    const id = await operatorIdentity(k, env, NS);
    stopOperator = startOperator(env, id.kubeconfig);
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

  say(
    'Rotating the secret as AWS would: PutSecretValue, then the EventBridge event (CloudTrail PutSecretValue)',
  );
  const versionId = await rotate(env, sm, arn);
  console.log(`new AWSCURRENT version: ${versionId}`);

  say('Watching the pods roll and the mapping change');
  await watchRollout(k, versionId);
  k(['-n', NS, 'wait', '--for=condition=RolloutComplete', 'srm/nginx-db', '--timeout=60s']);
  console.log(k(['-n', NS, 'describe', 'srm', 'nginx-db']).split('\n').slice(-8).join('\n'));
  if (consumers) await watchConsumers(k, versionId);
  stopOperator();

  say('Done. The environment is still running:');
  console.log(`  source .e2e/env && kubectl -n ${NS} get srm,pods -o wide    # explore
  kubectl -n secrets-rotation-operator get pods -o wide              # the operator pod (with a real node)
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

async function ensureSecret(sm: SecretsManagerClient): Promise<string> {
  try {
    return (await sm.send(new DescribeSecretCommand({ SecretId: SECRET }))).ARN ?? '';
  } catch {
    return (
      (await sm.send(new CreateSecretCommand({ Name: SECRET, SecretString: '{"password":"initial"}' })))
        .ARN ?? ''
    );
  }
}

function startOperator(env: EnvState, kubeconfig: string): () => void {
  const log = path.join(logDir, 'operator-demo.log');
  const fd = fs.openSync(log, 'w');
  const child = spawn(process.execPath, [operatorEntry], {
    stdio: ['ignore', fd, fd],
    env: {
      ...process.env,
      KUBECONFIG: kubeconfig,
      SQS_QUEUE_URL: env.queueUrl,
      ...localAwsEnv(env.awsEndpoint),
      METRICS_PORT: '0',
      // The operator watches every namespace here; its Lease lives where its ServiceAccount may write.
      LEADER_ELECTION_NAMESPACE: NS,
    },
  });
  fs.closeSync(fd);
  child.on('exit', (code) => {
    if (code) console.error(`operator exited with ${code}\n${tail(log)}`);
  });
  console.log(`operator pid ${child.pid}, logs in ${path.relative(process.cwd(), log)}`);
  return () => child.kill('SIGTERM');
}

async function rotate(env: EnvState, sm: SecretsManagerClient, arn: string): Promise<string> {
  const out = await sm.send(
    new PutSecretValueCommand({ SecretId: SECRET, SecretString: `{"password":"${Date.now()}"}` }),
  );
  const events = new EventBridgeClient(awsClientConfig(env.awsEndpoint));
  await events.send(
    new PutEventsCommand({
      Entries: [
        {
          Source: 'aws.secretsmanager',
          DetailType: 'AWS API Call via CloudTrail',
          Detail: JSON.stringify({
            eventSource: 'secretsmanager.amazonaws.com',
            eventName: 'PutSecretValue',
            requestParameters: { secretId: SECRET },
            responseElements: { arn, versionId: out.VersionId },
          }),
        },
      ],
    }),
  );
  return out.VersionId ?? '';
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
