import http from 'node:http';

/**
 * An HTTP relay in front of the local AWS endpoint that answers the next `throttle(n)` DescribeSecret
 * calls as AWS does when a caller exceeds its rate (HTTP 400, ThrottlingException), and relays
 * everything else. The local endpoint cannot throttle by itself.
 */
export class ThrottlingProxy {
  private remaining = 0;
  /** DescribeSecret calls answered with ThrottlingException so far. */
  throttled = 0;

  private constructor(private readonly server: http.Server) {}

  static async start(target: string): Promise<ThrottlingProxy> {
    const to = new URL(target);
    const server = http.createServer((req, res) => {
      if (req.headers['x-amz-target'] === 'secretsmanager.DescribeSecret' && proxy.remaining > 0) {
        proxy.remaining--;
        proxy.throttled++;
        req.resume();
        res.writeHead(400, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-errortype': 'ThrottlingException',
        });
        res.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
        return;
      }
      const upstream = http.request(
        { host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    const proxy = new ThrottlingProxy(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  /** Throttles the next `n` DescribeSecret calls. */
  throttle(n: number): void {
    this.remaining = n;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}
