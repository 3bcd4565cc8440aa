import os from 'node:os';
import { delay } from '../env/processes.js';
import { kc, waitFor } from './clients.js';
import { startOperator, type Owner, type RunningOperator } from './operator-process.js';

/**
 * Operator replicas of one namespace as a Deployment runs them through upgrades and failures: a
 * rolling replacement (a new replica Ready before an old one gets SIGTERM, so old and new run side
 * by side), SIGKILL, and SIGSTOP/SIGCONT (a leader frozen past its lease, as CPU starvation or a
 * long GC pause makes it, that then wakes up still believing it leads). The leader is found from
 * the Lease, never from a replica's own metrics (a frozen replica would not answer).
 */
export class OperatorFleet {
  readonly replicas: RunningOperator[] = [];
  private readonly frozen = new Set<RunningOperator>();
  readonly tally = { started: 0, upgrades: 0, kills: 0, pauses: 0 };

  constructor(
    private readonly owner: Owner,
    private readonly opts: {
      kubeconfig: string;
      queueUrl: string;
      env: Record<string, string>;
      /** A nice value for every replica: starved as a pod with a 20m CPU request is on a busy node. */
      nice?: number;
    },
  ) {}

  async add(): Promise<RunningOperator> {
    const op = await startOperator(this.owner, {
      kubeconfig: this.opts.kubeconfig,
      queueUrl: this.opts.queueUrl,
      env: this.opts.env,
    });
    this.tally.started++;
    this.replicas.push(op);
    if (this.opts.nice && op.process.pid) os.setPriority(op.process.pid, this.opts.nice);
    // Never left frozen: a stopped process ignores the SIGKILL cleanup's siblings (SIGTERM).
    this.owner.cleanups.push(() => Promise.resolve(this.thaw(op)));
    return op;
  }

  /** The replica the Lease names (its identity carries the pid), if it is one of ours. */
  async holder(): Promise<RunningOperator | undefined> {
    const identity = await kc([
      '-n',
      this.owner.namespace,
      'get',
      'lease',
      'secrets-rotation-operator',
      '-o',
      'jsonpath={.spec.holderIdentity}',
    ]).catch(() => '');
    const pid = Number(identity.split('_').at(-2));
    return this.replicas.find((op) => op.process.pid === pid);
  }

  /** Waits until a running, unfrozen replica holds the Lease. */
  leader(timeoutMs = 30_000): Promise<RunningOperator> {
    return waitFor(
      'a replica holding the Lease',
      async () => {
        const op = await this.holder();
        return op && !this.frozen.has(op) ? op : undefined;
      },
      timeoutMs,
    );
  }

  /** SIGKILL (no Lease release): a successor waits out the lease; a replacement is started. */
  async killLeader(): Promise<void> {
    const op = await this.leader();
    await this.remove(op, 'SIGKILL');
    this.tally.kills++;
    await this.add();
  }

  /** Freezes the leader for `ms` (past its lease: a follower takes over), then lets it run on. */
  async pauseLeader(ms: number, meanwhile?: () => Promise<void>): Promise<void> {
    const op = await this.leader();
    op.process.kill('SIGSTOP');
    this.frozen.add(op);
    this.tally.pauses++;
    const wake = delay(ms);
    await meanwhile?.();
    await wake;
    this.thaw(op);
  }

  /**
   * A rolling upgrade of every replica (maxSurge 1, maxUnavailable 0): for each old replica a new one
   * is started and Ready, then the old one gets SIGTERM. `during` runs after the first new replica
   * is up, while old and new run side by side.
   */
  async rollingUpgrade(during?: () => Promise<void>): Promise<void> {
    const old = [...this.replicas];
    for (const [i, op] of old.entries()) {
      await this.add();
      if (i === 0) await during?.();
      await this.remove(op, 'SIGTERM');
    }
    this.tally.upgrades++;
  }

  /**
   * Leadership to `to`, as the end of a rolling update gives it: every other replica gets SIGTERM,
   * the leader first (it releases the Lease: `to` leads at its next try), then as many new ones start.
   */
  async handOverTo(to: RunningOperator): Promise<void> {
    const leader = await this.leader();
    const others = [leader, ...this.replicas.filter((op) => op !== to && op !== leader)];
    for (const op of others) if (op !== to) await this.remove(op, 'SIGTERM');
    await waitFor('the new replica leads', async () => (await this.holder()) === to, 30_000);
    for (let i = 1; i < others.length; i++) await this.add();
    this.tally.upgrades++;
  }

  /** Every replica gone (SIGCONT first, so a frozen one can exit). */
  async stop(): Promise<void> {
    for (const op of [...this.replicas]) await this.remove(op, 'SIGKILL');
  }

  private thaw(op: RunningOperator): void {
    if (!this.frozen.delete(op)) return;
    if (op.process.exitCode === null && op.process.signalCode === null) op.process.kill('SIGCONT');
  }

  private async remove(op: RunningOperator, signal: NodeJS.Signals): Promise<void> {
    this.thaw(op);
    this.replicas.splice(this.replicas.indexOf(op), 1);
    await Promise.race([op.kill(signal), delay(30_000)]);
    if (op.process.exitCode === null && op.process.signalCode === null) await op.kill('SIGKILL');
  }
}
