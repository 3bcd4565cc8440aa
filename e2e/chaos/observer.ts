import { Watch } from '@kubernetes/client-node';
import { adminClients } from '../harness.js';

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

/** Who hears of a template change: the ledgers (key namespace/Kind/name). */
export type WorkloadSink = (
  workload: string,
  stamp: string | undefined,
  restartedAt: string | undefined,
) => void;

const annotations = (w: Workload): Record<string, string> => w.spec?.template?.metadata?.annotations ?? {};

/**
 * A watch of `path` that resumes from the last resourceVersion after an API server restart (so no
 * change between two watches is lost) and starts over when that version expired. Stops with `stop`.
 */
export class Follower {
  private readonly aborts: (() => void)[] = [];
  private stopped = false;

  async follow<T extends { metadata?: { resourceVersion?: string } }>(
    path: string,
    handle: (phase: string, obj: T) => void,
    from = '',
  ): Promise<void> {
    const { config } = await adminClients();
    let last = from;
    const again = (): void => {
      if (!this.stopped) setTimeout(() => void this.follow(path, handle, last).catch(again), 500);
    };
    const req = await new Watch(config).watch(
      path,
      last ? { resourceVersion: last } : {},
      (phase: string, obj: T) => {
        if (phase === 'ERROR') return void (last = '');
        last = obj.metadata?.resourceVersion ?? last;
        handle(phase, obj);
      },
      again,
    );
    this.aborts.push(() => req.abort());
  }

  stop(): void {
    this.stopped = true;
    for (const a of this.aborts) a();
  }
}

/** Every template change of the namespace's workloads, into `sink`: one watch per kind. */
export class Observer {
  private readonly follower = new Follower();

  constructor(
    private readonly namespace: string,
    private readonly sink: WorkloadSink,
  ) {}

  async start(): Promise<void> {
    for (const [kind, plural] of KINDS)
      await this.follower.follow<Workload>(`/apis/apps/v1/namespaces/${this.namespace}/${plural}`, (_, w) => {
        const a = annotations(w);
        this.sink(this.key(kind, w), a[STAMP], a[RESTARTED_AT]);
      });
  }

  stop(): void {
    this.follower.stop();
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
}
