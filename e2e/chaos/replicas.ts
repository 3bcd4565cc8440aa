import { FreezableProxy } from '../freezable-proxy.js';
import { FaultRelay } from '../kit/fault-relay.js';
import type { FaultRule } from '../kit/wire-faults.js';
import { rss } from '../bench/measure.js';
import { environment, leads, startOperator, type Owner, type RunningOperator } from '../harness.js';
import type { ProcessRss } from './health.js';
import type { ReplicaEvent } from './timeline.js';

/**
 * Operator replicas as a Deployment would keep them: each restarted a second after it exits (killed by
 * the run, or crashed). Each talks to the API server through its own relays — a TCP one that can
 * freeze (a partition of that replica alone), then a fault relay (kit/fault-relay.ts) — and to AWS
 * through a shared fault relay: write-faults put seeded faults on that wire for a while. An exit the run did not cause is a crash. Every process's
 * RSS is sampled twice a second (health.ts judges its growth).
 */
export class Replicas {
  private readonly running: (RunningOperator | undefined)[] = [];
  private readonly proxies: FreezableProxy[] = [];
  private readonly wires: FaultRelay[] = [];
  private aws: FaultRelay | undefined;
  private readonly killing = new Set<RunningOperator>();
  private readonly rssOf = new Map<RunningOperator, ProcessRss & { startedAt: number }>();
  private stopped = false;
  crashes = 0;
  peakRssMiB = 0;
  /** Every process start and exit (ms since the epoch), for the run's timeline. */
  readonly lifecycle: ReplicaEvent[] = [];
  private sampler: NodeJS.Timeout | undefined;

  constructor(
    private readonly scope: Owner,
    private readonly opts: {
      count: number;
      /** Seeds the fault relays. */
      seed: number;
      kubeconfig: string;
      queueUrl: string;
      env: Record<string, string>;
    },
  ) {}

  async start(): Promise<void> {
    const env = await environment();
    this.aws = await FaultRelay.aws(env.awsEndpoint, this.opts.seed);
    for (let i = 0; i < this.opts.count; i++) {
      const wire = await FaultRelay.kube(env, this.opts.seed + 1 + i);
      this.wires.push(wire);
      this.proxies.push(await FreezableProxy.start({ host: '127.0.0.1', port: wire.port }));
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

  /**
   * A rolling update: for each replica, a new process started beside it (surge) and ready, then the
   * old one terminated with SIGTERM and waited for; the new one takes its place (and its relay).
   */
  async upgrade(step: (s: string) => void): Promise<void> {
    for (let i = 0; i < this.opts.count && !this.stopped; i++) {
      const old = this.running[i];
      const started = Date.now();
      const next = await this.spawn(i, true);
      if (old) this.killing.add(old);
      this.running[i] = next;
      await old?.kill('SIGTERM');
      step(`replica ${i} replaced in ${Date.now() - started} ms`);
    }
  }

  /** `rule` on every replica's wire, to the API server and to AWS, for `ms`. */
  async wireFaults(rule: FaultRule, ms: number): Promise<void> {
    const relays = [...this.wires, ...(this.aws ? [this.aws] : [])];
    // Watches start rarely: the open ones are ended, so the operator's next ones meet the rule too.
    for (const r of relays) {
      r.inject(rule);
      r.cutWatches();
    }
    await new Promise((r) => setTimeout(r, ms));
    // A stalled watch would outlast the window by minutes: the fault ends with it.
    for (const r of relays) {
      r.clear();
      r.cutWatches();
    }
  }

  /** Faults the relays injected, by "request-kind fault". */
  wireCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of [...this.wires, ...(this.aws ? [this.aws] : [])])
      for (const [k, n] of Object.entries(r.counts())) out[k] = (out[k] ?? 0) + n;
    return out;
  }

  get size(): number {
    return this.opts.count;
  }

  /** Every replica running again (after the faults), and answering /readyz. */
  allRunning(): boolean {
    return this.running.every((op) => op !== undefined && op.process.exitCode === null);
  }

  /** How long the youngest running replica has run (ms). */
  youngestAgeMs(): number {
    const ages = this.running.map((op) => (op ? Date.now() - (this.rssOf.get(op)?.startedAt ?? 0) : 0));
    return Math.min(...ages);
  }

  /** RSS samples of every process the run started, for the memory check. */
  rssSamples(): ProcessRss[] {
    return [...this.rssOf.values()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sampler);
    for (const op of this.running) await op?.kill('SIGTERM');
    for (const p of this.proxies) await p.close();
    for (const r of [...this.wires, ...(this.aws ? [this.aws] : [])]) await r.close();
  }

  private async launch(i: number): Promise<void> {
    const op = await this.spawn(i, false);
    if (!this.running[i] && !this.stopped) return void (this.running[i] = op);
    // An upgrade filled the slot meanwhile (or the run ended): this one is surplus.
    this.killing.add(op);
    await op.kill('SIGKILL');
  }

  private async spawn(i: number, waitReady: boolean): Promise<RunningOperator> {
    const op = await startOperator(this.scope, {
      kubeconfig: this.proxies[i].kubeconfigThrough(this.opts.kubeconfig),
      queueUrl: this.opts.queueUrl,
      awsEndpoint: this.aws?.url,
      watchNamespace: '',
      env: { LEADER_ELECTION_NAMESPACE: this.scope.namespace, ...this.opts.env },
      waitReady,
    });
    this.rssOf.set(op, { label: `replica ${i} (${op.log})`, samples: [], startedAt: Date.now() });
    this.lifecycle.push({ at: Date.now(), replica: i, event: 'start' });
    op.process.once('exit', (code, signal) => {
      const replaced = this.running[i] !== op;
      if (!replaced) this.running[i] = undefined;
      const crashed = !this.killing.delete(op) && !this.stopped;
      this.lifecycle.push({ at: Date.now(), replica: i, event: crashed ? 'crash' : 'exit' });
      if (crashed) {
        this.crashes++;
        console.error(
          `[chaos] replica ${i} exited by itself (code ${code}, signal ${signal}); log ${op.log}`,
        );
      }
      if (!this.stopped && !replaced) setTimeout(() => void this.launch(i), 1000);
    });
    return op;
  }

  private sampleRss(): void {
    for (const [op, r] of this.rssOf) {
      const pid = op.process.pid;
      if (!pid || op.process.exitCode !== null || op.process.signalCode !== null) continue;
      try {
        const m = rss(pid);
        this.peakRssMiB = Math.max(this.peakRssMiB, m.peak);
        r.samples.push([Date.now() - r.startedAt, m.rss]);
      } catch {
        // exited between the check and the read
      }
    }
  }
}
