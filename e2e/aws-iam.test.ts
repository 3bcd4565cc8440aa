import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { localAws } from './env/aws-setup.js';
import { assumeRole, operatorRoleEnv } from './kit/aws-role.js';
import {
  createSecret,
  e2eTest,
  environment,
  installCrd,
  kc,
  operatorKubeconfig,
  rotate,
  startOperator,
  testQueue,
  uniqueName,
} from './harness.js';
import { mapDeployment, ready, waitReason } from './mapping-helpers.js';

/** What AWS answers a call: 'allowed', or the error's name. */
const outcome = (call: Promise<unknown>): Promise<string> =>
  call.then(
    () => 'allowed',
    (err: Error) => err.name,
  );

e2eTest(
  "the template's role, from the ServiceAccount's token: DescribeSecret inside SecretArnPattern only, no GetSecretValue, its own queue only",
  async (scope) => {
    const s = await environment();
    await operatorKubeconfig(scope); // the ServiceAccount whose token the role trusts
    const queue = await testQueue(scope);
    const other = await testQueue({ ...scope, namespace: `${scope.namespace}-other` });
    const inside = uniqueName(`${scope.namespace}-in`);
    const outside = uniqueName(`${scope.namespace}-out`);
    await createSecret(`${inside}/db`);
    await createSecret(outside);
    const role = await operatorRoleEnv(scope.namespace, {
      queueUrl: queue.queueUrl,
      awsEndpoint: s.awsEndpoint,
      secretArnPattern: `arn:aws:secretsmanager:${localAws.region}:${localAws.accountId}:secret:${inside}/*`,
    });
    const token = fs.readFileSync(role.AWS_WEB_IDENTITY_TOKEN_FILE, 'utf8');
    const credentials = await assumeRole(s.awsEndpoint, role.AWS_ROLE_ARN, token);
    const cfg = { endpoint: s.awsEndpoint, region: localAws.region, credentials };
    const sm = new SecretsManagerClient(cfg);
    const sqs = new SQSClient(cfg);
    try {
      assert.equal(
        await outcome(sm.send(new DescribeSecretCommand({ SecretId: `${inside}/db` }))),
        'allowed',
      );
      assert.equal(
        await outcome(sm.send(new DescribeSecretCommand({ SecretId: outside }))),
        'AccessDeniedException',
      );
      assert.equal(
        await outcome(sm.send(new GetSecretValueCommand({ SecretId: `${inside}/db` }))),
        'AccessDeniedException',
        'the value is never readable',
      );
      const receive = (url: string): Promise<string> =>
        outcome(sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 0 })));
      assert.equal(await receive(queue.queueUrl), 'allowed');
      assert.equal(await receive(other.queueUrl), 'AccessDeniedException', "another cluster's queue");
    } finally {
      sm.destroy();
      sqs.destroy();
    }
  },
);

e2eTest(
  'the role trusts one ServiceAccount of one cluster, with the sts.amazonaws.com audience, and a token it signed',
  async (scope) => {
    const s = await environment();
    const ns = scope.namespace;
    await operatorKubeconfig(scope);
    const queue = await testQueue(scope);
    const role = await operatorRoleEnv(ns, { queueUrl: queue.queueUrl, awsEndpoint: s.awsEndpoint });
    const token = fs.readFileSync(role.AWS_WEB_IDENTITY_TOKEN_FILE, 'utf8');
    const tries = async (t: string): Promise<string> =>
      outcome(assumeRole(s.awsEndpoint, role.AWS_ROLE_ARN, t));
    assert.equal(await tries(token), 'allowed');
    // Another ServiceAccount of the same namespace (its own token, the right audience).
    await kc(['-n', ns, 'create', 'serviceaccount', 'intruder']);
    const intruder = (
      await kc(['-n', ns, 'create', 'token', 'intruder', '--audience=sts.amazonaws.com'])
    ).trim();
    assert.equal(await tries(intruder), 'AccessDenied');
    // The operator's ServiceAccount, but a token for the API server (the default audience).
    const apiToken = (await kc(['-n', ns, 'create', 'token', 'secrets-rotation-operator'])).trim();
    assert.equal(await tries(apiToken), 'AccessDenied');
    // A token the cluster did not sign: its signature altered.
    const [h, p, sig] = token.split('.');
    const forged = `${h}.${p}.${sig.slice(0, -4)}${sig.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    assert.equal(await tries(forged), 'InvalidIdentityTokenException');
  },
);

e2eTest(
  'an operator with no static key: a secret outside its SecretArnPattern reaches the mapping as AccessDenied, one inside is watched',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const inside = uniqueName(`${ns}-in`);
    const outside = uniqueName(`${ns}-out`);
    await createSecret(`${inside}/db`);
    await createSecret(outside);
    await mapDeployment(ns, 'allowed', `${inside}/db`);
    await mapDeployment(ns, 'denied', outside);
    const op = await startOperator(scope, {
      kubeconfig: await operatorKubeconfig(scope),
      queueUrl: (await testQueue(scope)).queueUrl,
      secretArnPattern: `arn:aws:secretsmanager:${localAws.region}:${localAws.accountId}:secret:${inside}/*`,
    });
    const environ = fs.readFileSync(`/proc/${op.process.pid}/environ`, 'utf8').split('\0');
    assert.ok(!environ.some((v) => v.startsWith('AWS_ACCESS_KEY_ID=')), 'no static key');
    assert.ok(environ.some((v) => v.startsWith('AWS_WEB_IDENTITY_TOKEN_FILE=')));
    await waitReason(ns, 'allowed', 'WatchingSecret');
    const denied = await waitReason(ns, 'denied', 'AccessDenied');
    assert.match(ready(denied).message ?? '', new RegExp(`DescribeSecret denied for "${outside}"`));
  },
);

e2eTest(
  "the template's role may move AWSCURRENT only with RevertSecretArnPattern, and only on those secrets: without it UpdateSecretVersionStage is denied",
  async (scope) => {
    const s = await environment();
    await operatorKubeconfig(scope);
    const queue = await testQueue(scope);
    const inside = uniqueName(`${scope.namespace}-rev`);
    const outside = uniqueName(`${scope.namespace}-norev`);
    const secrets = { inside: await createSecret(inside), outside: await createSecret(outside) };
    const v2 = { inside: await rotate(inside, secrets.inside.arn, { sendEvent: false }) };
    const moveBack = async (role: Record<string, string>, name: string, to: string, from: string) => {
      const token = fs.readFileSync(role.AWS_WEB_IDENTITY_TOKEN_FILE, 'utf8');
      const credentials = await assumeRole(s.awsEndpoint, role.AWS_ROLE_ARN, token);
      const sm = new SecretsManagerClient({ endpoint: s.awsEndpoint, region: localAws.region, credentials });
      try {
        return await outcome(
          sm.send(
            new UpdateSecretVersionStageCommand({
              SecretId: name,
              VersionStage: 'AWSCURRENT',
              MoveToVersionId: to,
              RemoveFromVersionId: from,
            }),
          ),
        );
      } finally {
        sm.destroy();
      }
    };
    const base = { queueUrl: queue.queueUrl, awsEndpoint: s.awsEndpoint };
    // The template's default: no write permission at all.
    const readOnly = await operatorRoleEnv(scope.namespace, base);
    assert.equal(
      await moveBack(readOnly, inside, secrets.inside.versionId, v2.inside),
      'AccessDeniedException',
    );
    const reverting = await operatorRoleEnv(scope.namespace, {
      ...base,
      revertSecretArnPattern: `arn:aws:secretsmanager:${localAws.region}:${localAws.accountId}:secret:${inside}-*`,
    });
    const v2out = await rotate(outside, secrets.outside.arn, { sendEvent: false });
    assert.equal(
      await moveBack(reverting, outside, secrets.outside.versionId, v2out),
      'AccessDeniedException',
      'a secret outside the pattern',
    );
    assert.equal(await moveBack(reverting, inside, secrets.inside.versionId, v2.inside), 'allowed');
  },
);
