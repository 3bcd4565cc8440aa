import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { awsClients, createSecret } from '../harness.js';
import { applyDenyPolicy } from '../kit/admission-policy.js';
import type { FaultContext } from './faults.js';

/** The label of the tracked workloads an admission-refusal fault refuses to restart for a while. */
export const REFUSED_LABEL = 'chaos-refuse';

/**
 * A ValidatingAdmissionPolicy (and its binding) refusing the operator's updates of the namespace's
 * workloads labelled REFUSED_LABEL for a few seconds, then removed: the operator must take the refusal
 * as a retry with backoff, and the rotation must reach them after (the missing check says so).
 */
export async function admissionRefusal(ctx: FaultContext): Promise<void> {
  const name = `chaos-refuse-${ctx.namespace}`.slice(0, 63);
  const user = `system:serviceaccount:${ctx.namespace}:secrets-rotation-operator`;
  const ms = ctx.rng.int(5000, 12_000);
  ctx.note(`${ms} ms`);
  const remove = await applyDenyPolicy(name, {
    failurePolicy: 'Fail',
    matchConstraints: {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ctx.namespace } },
      resourceRules: [
        {
          apiGroups: ['apps'],
          apiVersions: ['v1'],
          operations: ['UPDATE'],
          resources: ['deployments', 'statefulsets', 'daemonsets'],
        },
      ],
    },
    matchConditions: [{ name: 'operator', expression: `request.userInfo.username == '${user}'` }],
    validations: [
      {
        expression: `!has(object.metadata.labels) || !('${REFUSED_LABEL}' in object.metadata.labels)`,
        message: 'chaos: restarts of this workload are refused for a while',
      },
    ],
  });
  try {
    await new Promise((r) => setTimeout(r, ms));
  } finally {
    await remove();
  }
}

/**
 * A tracked secret deleted (ForceDeleteWithoutRecovery) and created again under its name: a new ARN,
 * a new current version, announced by the CloudTrail CreateSecret event (sent to the queue as
 * EventBridge would; see e2e/secret-recreate.test.ts). Its workloads must restart once for it.
 */
export async function secretRecreate(ctx: FaultContext): Promise<void> {
  const s = ctx.rng.pick(ctx.secrets);
  await ctx.lock(s.name, async () => {
    const { sm, sqs } = await awsClients();
    await sm.send(new DeleteSecretCommand({ SecretId: s.name, ForceDeleteWithoutRecovery: true }));
    const calledAt = Date.now();
    const again = await createSecret(s.name, 'recreated');
    ctx.recordRotation(s.name, again.versionId, calledAt, Date.now());
    ctx.note(`${s.name}: ${s.arn.slice(-6)} → ${again.arn.slice(-6)}`);
    s.arn = again.arn;
    ctx.identifies(s.name, again.arn);
    const detail = {
      eventSource: 'secretsmanager.amazonaws.com',
      eventName: 'CreateSecret',
      requestParameters: { name: s.name },
      responseElements: { arn: again.arn, name: s.name, versionId: again.versionId },
    };
    const body = { source: 'aws.secretsmanager', 'detail-type': 'AWS API Call via CloudTrail', detail };
    await sqs.send(new SendMessageCommand({ QueueUrl: ctx.queueUrl, MessageBody: JSON.stringify(body) }));
  });
}

/**
 * An in-place upgrade of the replicas as a Deployment's RollingUpdate (maxSurge 1, maxUnavailable 0)
 * does it: a new replica started beside the old ones, then an old one terminated with SIGTERM (the
 * leader hands its Lease over), one replica at a time. The replicas are local processes of one build;
 * the chart's upgrade itself (new image, Helm) is covered by the helm-chart and operator-pod tests
 * (e2e/helm-chart.test.ts, e2e/operator-pod.test.ts).
 */
export async function operatorUpgrade(ctx: FaultContext): Promise<void> {
  const steps: string[] = [];
  await ctx.replicas.upgrade((s) => steps.push(s));
  ctx.note(steps.join('; '));
}
