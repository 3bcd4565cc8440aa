import http from 'node:http';
import type { Metrics } from './metrics.js';

/** /healthz (process alive), /readyz (the checks given), /metrics (Prometheus). */
export function startHealthServer(
  port: number,
  host: string,
  metrics: Metrics,
  ready: () => { ok: boolean; detail: string },
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const reply = (code: number, body: string, type = 'text/plain'): void => {
      res.writeHead(code, { 'Content-Type': type });
      res.end(body);
    };
    if (req.url === '/healthz') return reply(200, 'ok\n');
    if (req.url === '/readyz') {
      const r = ready();
      return reply(r.ok ? 200 : 503, `${r.detail}\n`);
    }
    if (req.url === '/metrics') {
      metrics.registry.metrics().then(
        (text) => reply(200, text, metrics.registry.contentType),
        (err: unknown) => reply(500, String(err)),
      );
      return;
    }
    reply(404, 'not found\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
