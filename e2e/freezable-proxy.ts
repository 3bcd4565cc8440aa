import fs from 'node:fs';
import net from 'node:net';

/**
 * A TCP relay in front of a server that can be frozen: while frozen, bytes stop flowing both ways on
 * every connection (old and new) but no connection is closed — the server looks hung, as one behind a
 * broken network path does, not down. A SIGSTOP of the server would freeze every client at once; this
 * freezes one client's view only.
 */
export class FreezableProxy {
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private frozen = false;

  private constructor(private readonly server: net.Server) {}

  static async start(target: { host: string; port: number }): Promise<FreezableProxy> {
    const server = net.createServer();
    const proxy = new FreezableProxy(server);
    server.on('connection', (client) => proxy.relay(client, target));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  freeze(): void {
    this.frozen = true;
    for (const [a, b] of this.pairs) {
      a.unpipe(b);
      b.unpipe(a);
      a.pause();
      b.pause();
    }
  }

  thaw(): void {
    this.frozen = false;
    for (const pair of this.pairs) this.flow(pair);
  }

  close(): Promise<void> {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    return new Promise((r) => this.server.close(() => r()));
  }

  /** A copy of `kubeconfig` whose server is this relay (same TLS: the certificate names 127.0.0.1). */
  kubeconfigThrough(kubeconfig: string): string {
    const out = `${kubeconfig}.via-${this.port}`;
    const text = fs.readFileSync(kubeconfig, 'utf8');
    fs.writeFileSync(
      out,
      text.replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: https://127.0.0.1:${this.port}`),
    );
    return out;
  }

  private relay(client: net.Socket, target: { host: string; port: number }): void {
    const upstream = net.connect(target.port, target.host);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.pairs.add(pair);
    const end = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    if (this.frozen) {
      client.pause();
      upstream.pause();
    } else this.flow(pair);
  }

  private flow([a, b]: [net.Socket, net.Socket]): void {
    a.pipe(b);
    b.pipe(a);
  }
}
