import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createOperatorRole, registerIssuer, STS_AUDIENCE } from '../env/aws-identity.js';
import { awsClientConfig, localAws } from '../env/aws-setup.js';
import type { EnvState } from '../env/env.js';
import { stateDir } from '../env/paths.js';
import { environment, kc } from './clients.js';

/** A cluster an operator's ServiceAccount lives in: its state (issuer) and a kubectl for it. */
export interface IdentityCluster {
  state: EnvState;
  kubectl: (args: string[]) => Promise<string> | string;
}

/** The ARN the stack names a secret by, for `SecretArnPattern` (the environment's stack allows every secret). */
export const ANY_SECRET = `arn:aws:secretsmanager:${localAws.region}:*:secret:*`;

/**
 * AWS credentials for an operator process as IRSA gives a pod: the template's role for `queueUrl`
 * (kit-made, one per namespace and queue, trusting only that namespace's `secrets-rotation-operator`
 * ServiceAccount), and a projected token of that ServiceAccount, audience sts.amazonaws.com, in a
 * file. No static key: the SDK exchanges the token at the endpoint's STS. `aws` is the environment
 * whose AWS endpoint the operator uses; a cluster from another environment is registered there first.
 */
export async function operatorRoleEnv(
  namespace: string,
  opts: {
    queueUrl: string;
    awsEndpoint: string;
    aws?: EnvState;
    cluster?: IdentityCluster;
    secretArnPattern?: string;
    /** The stack's RevertSecretArnPattern: secrets whose AWSCURRENT the role may move (default none). */
    revertSecretArnPattern?: string;
  },
): Promise<Record<string, string>> {
  const aws = opts.aws ?? (await environment());
  const cluster = opts.cluster ?? { state: await environment(), kubectl: kc };
  const issuer = cluster.state.oidcIssuer;
  if (!issuer || !aws.jwksDir)
    throw new Error('the environment has no OIDC issuer: restart it (npm run env:down && npm run env:up)');
  if (issuer !== aws.oidcIssuer) {
    const jwks = JSON.parse(String(await cluster.kubectl(['get', '--raw', '/openid/v1/jwks']))) as unknown;
    await registerIssuer(aws.awsEndpoint, aws.jwksDir, { issuer, jwks });
  }
  const sqs = new SQSClient(awsClientConfig(aws.awsEndpoint));
  const queueArn =
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: opts.queueUrl, AttributeNames: ['QueueArn'] })))
      .Attributes?.QueueArn ?? '';
  sqs.destroy();
  const revert = opts.revertSecretArnPattern ?? '';
  const roleName = `sro-${crypto.createHash('sha256').update(`${issuer} ${namespace} ${queueArn} ${revert}`).digest('hex').slice(0, 24)}`;
  const roleArn = await createOperatorRole(
    aws.awsEndpoint,
    { roleName, issuer, serviceAccount: { namespace, name: 'secrets-rotation-operator' } },
    { queueArn, secretArnPattern: opts.secretArnPattern ?? ANY_SECRET, revertSecretArnPattern: revert },
  ).catch((err: Error) => {
    if (err.name !== 'EntityAlreadyExistsException' && err.name !== 'EntityAlreadyExists') throw err;
    return `arn:aws:iam::${localAws.accountId}:role/${roleName}`;
  });
  const token = String(
    await cluster.kubectl([
      '-n',
      namespace,
      'create',
      'token',
      'secrets-rotation-operator',
      `--audience=${STS_AUDIENCE}`,
      '--duration=8h',
    ]),
  ).trim();
  const tokenFile = path.join(stateDir, 'tokens', `${roleName}-${process.pid}-${Date.now()}`);
  fs.mkdirSync(path.dirname(tokenFile), { recursive: true });
  fs.writeFileSync(tokenFile, token, { mode: 0o600 });
  return {
    AWS_ROLE_ARN: roleArn,
    AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
    AWS_ROLE_SESSION_NAME: namespace.slice(0, 64),
  };
}

/** A role's credentials as the operator's SDK gets them: a ServiceAccount token exchanged at STS. */
export async function assumeRole(
  endpoint: string,
  roleArn: string,
  token: string,
): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string }> {
  const sts = new STSClient({ endpoint, region: localAws.region });
  const out = await sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: roleArn,
      RoleSessionName: 'test',
      WebIdentityToken: token,
    }),
  );
  sts.destroy();
  const c = out.Credentials;
  return {
    accessKeyId: c?.AccessKeyId ?? '',
    secretAccessKey: c?.SecretAccessKey ?? '',
    sessionToken: c?.SessionToken ?? '',
  };
}
