import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AppsV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import fs from 'node:fs';
import { withRequestTimeout, withSharedAgents } from '../../operator/kube/kube.js';
import { localAws } from '../env/aws-setup.js';
import { assumeRole, operatorRoleEnv } from '../kit/aws-role.js';
import { environment, type Owner } from '../harness.js';
import { now, percentiles, STAMP } from './measure.js';

/** The clients of the latency floor: what the operator's own calls go through. */
export interface FloorClients {
  sm: SecretsManagerClient;
  sqs: SQSClient;
  apps: AppsV1Api;
}

/** The content type of the floor's PATCHes (the one `kubectl rollout restart` sends). */
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

const appsClient = (kubeconfig: string): AppsV1Api => {
  const kcfg = new KubeConfig();
  kcfg.loadFromFile(kubeconfig);
  // The operator's timeout too: a PATCH never answered must not hold its secret's turn for ever.
  return withRequestTimeout(withSharedAgents(kcfg), 10_000).makeApiClient(AppsV1Api);
};

/**
 * The floor acts as the operator does, so the ratio measures the operator's own work and not its
 * identity: the PATCH goes as the operator's ServiceAccount (its token, its RBAC, the admission guard
 * that judges only that identity's writes), the AWS calls with the template's role for the floor's
 * queue, from that ServiceAccount's token. What the identity costs is printed apart (patchCost).
 */
export async function floorClients(sc: Owner, queueUrl: string, kubeconfig: string): Promise<FloorClients> {
  const { awsEndpoint } = await environment();
  const role = await operatorRoleEnv(sc.namespace, { queueUrl, awsEndpoint });
  const token = fs.readFileSync(role.AWS_WEB_IDENTITY_TOKEN_FILE, 'utf8');
  const credentials = await assumeRole(awsEndpoint, role.AWS_ROLE_ARN, token);
  const cfg = {
    endpoint: awsEndpoint,
    region: localAws.region,
    credentials,
    requestHandler: { connectionTimeout: 5000, requestTimeout: 15_000, throwOnRequestTimeout: true },
  };
  return { sm: new SecretsManagerClient(cfg), sqs: new SQSClient(cfg), apps: appsClient(kubeconfig) };
}

/** PATCH p50 (ms) of one Deployment's stamp, one at a time, as the admin and as the operator's ServiceAccount. */
export interface PatchCost {
  adminMs: number;
  serviceAccountMs: number;
  n: number;
}

/**
 * What the operator's identity adds to a PATCH (authentication of its token, RBAC, and above all the
 * admission guard's CEL, which only that identity's writes meet): `n` patches of `name` as each,
 * alternating, on an otherwise idle pipeline.
 */
export async function patchCost(
  namespace: string,
  name: string,
  clients: { admin: AppsV1Api; operator: AppsV1Api },
  n = 100,
): Promise<PatchCost> {
  const samples = { admin: [] as number[], operator: [] as number[] };
  for (let i = -10; i < n; i++) {
    for (const who of ['admin', 'operator'] as const) {
      const body = { spec: { template: { metadata: { annotations: { [STAMP]: `cost-${who}-${i}` } } } } };
      const t0 = now();
      await clients[who].patchNamespacedDeployment({ namespace, name, body }, MERGE_PATCH);
      // The first ten of each warm the connections and the server's caches.
      if (i >= 0) samples[who].push(now() - t0);
    }
  }
  return {
    adminMs: percentiles(samples.admin).p50,
    serviceAccountMs: percentiles(samples.operator).p50,
    n,
  };
}
