import fs from 'node:fs';
import path from 'node:path';
import { localAws } from './aws-setup.js';
import { kubectl, type ControlPlane, type Toolchain } from './cluster.js';
import { waitForCrdsEstablished } from './crds-established.js';
import { freePort, startDetached, tcpOpen, waitUntil, type Started } from './processes.js';

/**
 * The projects the operator works with: their CRDs as their Go modules ship them (External Secrets
 * Operator, the Secrets Store CSI driver's SecretProviderClass, Argo Rollouts' Rollout), and the
 * External Secrets Operator controller itself, built by build.sh, against moto.
 */
export async function installPeerCrds(tools: Toolchain, cp: ControlPlane): Promise<void> {
  const dir = path.join(tools.cacheDir, 'crds');
  if (!fs.existsSync(dir)) throw new Error(`${dir} is missing: run e2e/env/build.sh`);
  kubectl(tools.binDir, cp.kubeconfig, ['apply', '--server-side', '--force-conflicts', '-f', dir]);
  await waitForCrdsEstablished(
    (args) => kubectl(tools.binDir, cp.kubeconfig, args),
    [
      'externalsecrets.external-secrets.io',
      'secretstores.external-secrets.io',
      'secretproviderclasses.secrets-store.csi.x-k8s.io',
      'rollouts.argoproj.io',
    ],
    60_000,
  );
}

/**
 * The ESO controller as its Deployment would run it (one replica, no leader election), with the
 * admin kubeconfig and the local AWS endpoint; SecretStores without auth use these credentials.
 */
export async function startEso(tools: Toolchain, cp: ControlPlane, awsEndpoint: string): Promise<Started> {
  const metricsPort = await freePort();
  const proc = startDetached(
    'external-secrets',
    path.join(tools.binDir, 'external-secrets'),
    [
      `--metrics-addr=127.0.0.1:${metricsPort}`,
      '--enable-leader-election=false',
      '--concurrent=2',
      '--zap-time-encoding=iso8601',
    ],
    {
      KUBECONFIG: cp.kubeconfig,
      AWS_REGION: localAws.region,
      AWS_ACCESS_KEY_ID: localAws.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localAws.secretAccessKey,
      AWS_SECRETSMANAGER_ENDPOINT: awsEndpoint,
      AWS_STS_ENDPOINT: awsEndpoint,
    },
  );
  await waitUntil('external-secrets metrics', () => tcpOpen(metricsPort), {
    pid: proc.pid,
    log: proc.log,
    timeoutMs: 60_000,
  });
  return proc;
}
