import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { awsClientConfig, localAws } from './aws-setup.js';
import { loadTemplate, resolver } from './aws-template.js';

/** The audience EKS's IRSA gives the projected token, and the client id of the IAM OIDC provider. */
export const STS_AUDIENCE = 'sts.amazonaws.com';

/** A cluster's ServiceAccount issuer (its `iss`) and the keys that sign its tokens (/openid/v1/jwks). */
export interface ClusterIssuer {
  issuer: string;
  jwks: unknown;
}

/** The issuer URL without its scheme: the IAM OIDC provider's name and the prefix of its condition keys. */
export const providerName = (issuer: string): string => issuer.replace(/^https:\/\//, '');

/**
 * Makes a cluster's ServiceAccount tokens credentials at the local AWS endpoint, as
 * `eksctl utils associate-iam-oidc-provider` does on AWS: an IAM OIDC provider for its issuer, and
 * its keys where the endpoint's STS reads them (e2e/env/moto_iam.py; AWS would fetch them from the
 * issuer's discovery document, which nothing serves here). Idempotent per issuer.
 */
export async function registerIssuer(
  endpoint: string,
  jwksDir: string,
  cluster: ClusterIssuer,
): Promise<void> {
  fs.mkdirSync(jwksDir, { recursive: true });
  const file = path.join(jwksDir, `${crypto.createHash('sha256').update(cluster.issuer).digest('hex')}.json`);
  const known = fs.existsSync(file);
  fs.writeFileSync(file, JSON.stringify(cluster));
  if (known) return;
  const iam = new IAMClient(awsClientConfig(endpoint));
  await iam.send(
    new CreateOpenIDConnectProviderCommand({
      Url: cluster.issuer,
      ClientIDList: [STS_AUDIENCE],
      // AWS takes the thumbprint of the issuer's TLS certificate; nothing serves the issuer here.
      ThumbprintList: [crypto.createHash('sha1').update(cluster.issuer).digest('hex')],
    }),
  );
  iam.destroy();
}

/** What a stack's role may reach: its queue, the secrets it describes and those it may revert ('' none). */
export interface RoleAccess {
  queueArn: string;
  secretArnPattern: string;
  revertSecretArnPattern?: string;
}

interface TemplateRole {
  trust: (vars: Record<string, string>) => Record<string, unknown>;
  policy: (vars: RoleAccess) => Record<string, unknown>;
  /** The RevertPolicy's document for `pattern` (the stack creates it only with RevertSecretArnPattern). */
  revertPolicy: (pattern: string) => Record<string, unknown>;
}

/** The template's OperatorRole: its IRSA trust statement and its permissions, with the stack's values put in. */
function templateRole(): TemplateRole {
  const role = loadTemplate().Resources.OperatorRole.Properties as {
    AssumeRolePolicyDocument: { 'Fn::If': [string, { 'Fn::Sub': string }, unknown] };
    Policies: { PolicyDocument: Record<string, unknown> }[];
  };
  const irsa = role.AssumeRolePolicyDocument['Fn::If'][1]['Fn::Sub'];
  return {
    trust: (vars) => {
      const doc = JSON.parse(irsa.replace(/\$\{([^}]+)\}/g, (_, k: string) => vars[k] ?? '')) as {
        Statement: { Action: unknown }[];
      };
      return {
        ...doc,
        Statement: doc.Statement.filter((st) => st.Action === 'sts:AssumeRoleWithWebIdentity'),
      };
    },
    revertPolicy: (pattern) =>
      resolver(
        { RevertSecretArnPattern: pattern },
        {},
      )(loadTemplate().Resources.RevertPolicy.Properties.PolicyDocument) as Record<string, unknown>,
    policy: ({ queueArn, secretArnPattern }) =>
      resolver(
        {
          SecretArnPattern: secretArnPattern,
          'AWS::Partition': 'aws',
          'AWS::Region': localAws.region,
          'AWS::AccountId': localAws.accountId,
        },
        { 'RotationQueue.Arn': queueArn },
        { HasSecretArnPattern: secretArnPattern !== '' },
      )(role.Policies[0].PolicyDocument) as Record<string, unknown>,
  };
}

/**
 * The template's operator role for one ServiceAccount and one queue, as a test's own stack would
 * make it: assumable with that ServiceAccount's projected token only (IRSA), allowed what the
 * template allows on that queue and on `secretArnPattern`. Returns its ARN.
 */
export async function createOperatorRole(
  endpoint: string,
  opts: { roleName: string; issuer: string; serviceAccount: { namespace: string; name: string } },
  access: RoleAccess,
): Promise<string> {
  const template = templateRole();
  const iam = new IAMClient(awsClientConfig(endpoint));
  try {
    const role = await iam.send(
      new CreateRoleCommand({
        RoleName: opts.roleName,
        AssumeRolePolicyDocument: JSON.stringify(
          template.trust({
            'AWS::Partition': 'aws',
            'AWS::AccountId': localAws.accountId,
            OidcProvider: providerName(opts.issuer),
            ServiceAccountNamespace: opts.serviceAccount.namespace,
            ServiceAccountName: opts.serviceAccount.name,
          }),
        ),
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: opts.roleName,
        PolicyName: 'secrets-rotation-operator',
        PolicyDocument: JSON.stringify(template.policy(access)),
      }),
    );
    if (access.revertSecretArnPattern)
      await iam.send(
        new PutRolePolicyCommand({
          RoleName: opts.roleName,
          PolicyName: 'secrets-rotation-operator-revert',
          PolicyDocument: JSON.stringify(template.revertPolicy(access.revertSecretArnPattern)),
        }),
      );
    return role.Role?.Arn ?? '';
  } finally {
    iam.destroy();
  }
}
