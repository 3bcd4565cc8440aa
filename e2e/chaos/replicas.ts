import { FreezableProxy } from '../freezable-proxy.js';
import { rss } from '../bench/measure.js';
import { environment, leads, startOperator, type Owner, type RunningOperator } from '../harness.js';

/**
 * Operator replicas as a Deployment would keep them: each restarted a second after it exits (killed by
 * the run, or crashed). Each talks to the API server through its own relay, so one replica can be cut
 * off (partitioned) while the other is not. An exit the run did not cause is a crash.
 */
export class Replicas {
  private readonly running: (RunningOperator | undefined)[] = [];
  private readonly proxies: FreezableProxy[] = [];
  private readonly killing = new Set<RunningOperator>();
  private stopped = false;
  crashes = 0;
  peakRssMiB = 0;
  private sampler: NodeJS.Timeout | undefined;

  constructor(
    private readonly scope: Owner,
    private readonly opts: {
      count: number;
      kubeconfig: string;
      queueUrl: string;
      env: Record<string, string>;
    },
  ) {}

  async start(): Promise<void> {
    const url = new URL((await environment()).apiserverUrl);
    for (let i = 0; i < this.opts.count; i++) {
      this.proxies.push(await FreezableProxy.start({ host: url.hostname, port: Number(url.port) }));
      await this.launch(i);
    }
    this.sampler = setInterval(() => this.sampleRss(), 500);
  }

  /** The replica that holds the Lease now, if one does. */
  async leader(): Promise<number | undefined> {
    for (const [i, op] of this.running.entries()) {
      if (op && (await leads(op))) return i;
    }
    return undefined;
  }

  /** SIGKILL of replica `i` (it comes back a second later). */
  async kill(i: number): Promise<void> {
    const op = this.running[i];
    if (!op) return;
    this.killing.add(op);
    await op.kill('SIGKILL');
  }

  /** Cuts replica `i` off the API server (connections hang) for `ms`. */
  async partition(i: number, ms: number): Promise<void> {
    this.proxies[i].freeze();
    await new Promise((r) => setTimeout(r, ms));
    this.proxies[i].thaw();
  }

  get size(): number {
    return this.opts.count;
  }

  /** Every replica running again (after the faults), and answering /readyz. */
  allRunning(): boolean {
    return this.running.every((op) => op !== undefined && op.process.exitCode === null);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sampler);
    for (const op of this.running) await op?.kill('SIGTERM');
    for (const p of this.proxies) await p.close();
  }

  private async launch(i: number): Promise<void> {
    const op = await startOperator(this.scope, {
      kubeconfig: this.proxies[i].kubeconfigThrough(this.opts.kubeconfig),
      queueUrl: this.opts.queueUrl,
      env: this.opts.env,
      waitReady: false,
    });
    this.running[i] = op;
    op.process.once('exit', (code, signal) => {
      this.running[i] = undefined;
      if (!this.killing.delete(op) && !this.stopped) {
        this.crashes++;
        console.error(
          `[chaos] replica ${i} exited by itself (code ${code}, signal ${signal}); log ${op.log}`,
        );
      }
      if (!this.stopped) setTimeout(() => void this.launch(i), 1000);
    });
  }

  private sampleRss(): void {
    for (const op of this.running) {
      const pid = op?.process.pid;
      if (!pid || op.process.exitCode !== null) continue;
      try {
        this.peakRssMiB = Math.max(this.peakRssMiB, rss(pid).peak);
      } catch {
        // exited between the check and the read
      }
    }
  }
}
