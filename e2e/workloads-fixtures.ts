import type { V1DaemonSet, V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import { adminClients } from './harness.js';

const podTemplate = (app: string, unschedulable = false): V1Deployment['spec'] => ({
  selector: { matchLabels: { app } },
  template: {
    metadata: { labels: { app } },
    spec: {
      // Pods that no Node accepts: a rollout that never ends.
      nodeSelector: unschedulable ? { 'no-such-node': 'true' } : undefined,
      containers: [{ name: 'c', image: 'nginx:1.27' }],
    },
  },
});

/** Creates a workload of `kind` in `namespace`, labelled `labels`, with `replicas` pods (kwok runs them). */
export async function createWorkload(
  {
    kind,
    namespace,
    name,
  }: { kind: 'Deployment' | 'StatefulSet' | 'DaemonSet'; namespace: string; name: string },
  labels: Record<string, string>,
  opts: {
    replicas?: number;
    paused?: boolean;
    onDelete?: boolean;
    unschedulable?: boolean;
    progressDeadlineSeconds?: number;
  } = {},
): Promise<void> {
  const { apps } = await adminClients();
  const metadata = { name, namespace, labels };
  const spec = podTemplate(name, opts.unschedulable);
  if (!spec) return;
  if (kind === 'Deployment') {
    const body: V1Deployment = {
      metadata,
      spec: {
        ...spec,
        replicas: opts.replicas ?? 2,
        paused: opts.paused,
        progressDeadlineSeconds: opts.progressDeadlineSeconds,
      },
    };
    await apps.createNamespacedDeployment({ namespace, body });
  } else if (kind === 'StatefulSet') {
    const body: V1StatefulSet = {
      metadata,
      spec: {
        ...spec,
        serviceName: name,
        replicas: opts.replicas ?? 2,
        updateStrategy: opts.onDelete ? { type: 'OnDelete' } : undefined,
      },
    };
    await apps.createNamespacedStatefulSet({ namespace, body });
  } else {
    const body: V1DaemonSet = {
      metadata,
      spec: { ...spec, updateStrategy: opts.onDelete ? { type: 'OnDelete' } : undefined },
    };
    await apps.createNamespacedDaemonSet({ namespace, body });
  }
}

/**
 * Deployments `names` of one replica each, labelled app=<name>; `failing`, if given, gets new pods no
 * Node accepts and a 3 s progress deadline, so its next rollout fails.
 */
export async function createDeployments(namespace: string, names: string[], failing?: string): Promise<void> {
  for (const name of names)
    await createWorkload(
      { kind: 'Deployment', namespace, name },
      { app: name },
      name === failing ? { replicas: 1, unschedulable: true, progressDeadlineSeconds: 3 } : { replicas: 1 },
    );
}

export interface TemplateState {
  generation: number;
  stamp?: string;
  restartedAt?: string;
}

/** The workload's generation and our pod-template annotations. */
export async function templateState(kind: string, namespace: string, name: string): Promise<TemplateState> {
  const { apps } = await adminClients();
  const obj =
    kind === 'Deployment'
      ? await apps.readNamespacedDeployment({ namespace, name })
      : kind === 'StatefulSet'
        ? await apps.readNamespacedStatefulSet({ namespace, name })
        : await apps.readNamespacedDaemonSet({ namespace, name });
  const a = obj.spec?.template.metadata?.annotations ?? {};
  return {
    generation: obj.metadata?.generation ?? 0,
    stamp: a['secretsrotation.io/secret-version'],
    restartedAt: a['secretsrotation.io/restartedAt'],
  };
}
