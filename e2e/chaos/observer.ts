import { Watch } from '@kubernetes/client-node';
import { adminClients } from '../harness.js';
import type { Ledger } from './ledger.js';

const STAMP = 'secretsrotation.io/secret-version';
const RESTARTED_AT = 'secretsrotation.io/restartedAt';
const KINDS = [
  ['Deployment', 'deployments'],
  ['StatefulSet', 'statefulsets'],
  ['DaemonSet', 'daemonsets'],
] as const;

interface Workload {
  metadata?: { name?: string; resourceVersion?: string };
  spec?: { template?: { metadata?: { annotations?: Record<string, string> } } };
}

const annotations = (w: Workload): Record<string, string> => w.spec?.template?.metadata?.annotations ?? {};

/**
 * Every template change of the namespace's workloads, into the ledger: one watch per kind that resumes
 * from the last resourceVersion after an API server restart, so no restart between two watches is lost.
 */
export class Observer {
  private readonly aborts: (() => void)[] = [];
  private stopped = false;

  constructor(
    private readonly namespace: string,
    private readonly ledger: Ledger,
  ) {}

  async start(): Promise<void> {
    for (const [kind, plural] of KINDS) await this.follow(kind, plural, '');
  }

  stop(): void {
    this.stopped = true;
    for (const a of this.aborts) a();
  }

  /** Stamps of every workload now (an admin LIST): key namespace/Kind/name → stamp. */
  async finalStamps(): Promise<Map<string, string | undefined>> {
    const { apps } = await adminClients();
    const namespace = this.namespace;
    const lists = await Promise.all([
      apps.listNamespacedDeployment({ namespace }),
      apps.listNamespacedStatefulSet({ namespace }),
      apps.listNamespacedDaemonSet({ namespace }),
    ]);
    const out = new Map<string, string | undefined>();
    for (const [i, list] of lists.entries())
      for (const w of list.items as Workload[]) out.set(this.key(KINDS[i][0], w), annotations(w)[STAMP]);
    return out;
  }

  private key(kind: string, w: Workload): string {
    return `${this.namespace}/${kind}/${w.metadata?.name ?? ''}`;
  }

  private async follow(kind: string, plural: string, from: string): Promise<void> {
    const { config } = await adminClients();
    let last = from;
    const again = (): void => {
      if (!this.stopped) setTimeout(() => void this.follow(kind, plural, last).catch(again), 500);
    };
    const req = await new Watch(config).watch(
      `/apis/apps/v1/namespaces/${this.namespace}/${plural}`,
      last ? { resourceVersion: last } : {},
      (phase: string, w: Workload) => {
        // An expired resourceVersion: start over with the current objects.
        if (phase === 'ERROR') return void (last = '');
        last = w.metadata?.resourceVersion ?? last;
        const a = annotations(w);
        this.ledger.saw(this.key(kind, w), a[STAMP], a[RESTARTED_AT]);
      },
      again,
    );
    this.aborts.push(() => req.abort());
  }
}
