import type { KubeConfig } from '@kubernetes/client-node';
import http from 'node:http';
import https from 'node:https';
import readline from 'node:readline';

/**
 * How long a watch may take. client-node's Watch has no deadline at all: a watch request whose
 * connection went dead — accepted and never answered, or answered and silent for good, as a path
 * through a dropped NAT entry or a failed-over load balancer is — hangs forever, and the cache behind
 * it silently stops changing. client-go bounds the same with a server-side timeout and HTTP/2 pings.
 */
export interface WatchDeadlines {
  /** The server must answer (status and headers) within this; also the grace past the lifetime. */
  answerWithinMs: number;
  /**
   * Each watch asks the server to end it after this (timeoutSeconds, spread over ×1–2 as client-go
   * does, so watches do not all restart at once); one still open a grace period past that has no
   * server behind it, and is given up.
   */
  lifetimeMs: number;
}

const DEFAULT_DEADLINES: WatchDeadlines = { answerWithinMs: 30_000, lifetimeMs: 5 * 60_000 };
const deadlines = new WeakMap<KubeConfig, WatchDeadlines>();

/** Gives the watches made from `kc` these deadlines (see watchRequest). */
export function withWatchDeadlines(kc: KubeConfig, d: WatchDeadlines): KubeConfig {
  deadlines.set(kc, d);
  return kc;
}

export type WatchEventHandler = (phase: string, obj: Record<string, unknown>) => void;

/** What a watch request received before it ended: bytes of body, whole events or not. */
export interface WatchReceived {
  bytes: number;
}

/**
 * One watch request on `path` from `kc`'s current cluster and user (its shared agent, its
 * credentials). Calls `onEvent` for each event line; resolves when the server ends the stream (or it
 * was cut: the caller resumes from the last resourceVersion it saw), or when `signal` aborts, with
 * how many bytes came (a stream cut mid-event brought some, a dropped one none); rejects on an HTTP
 * error (the error's `code` is the status) or a missed deadline.
 */
export async function watchRequest(
  kc: KubeConfig,
  request: { path: string; params: Record<string, string>; signal: AbortSignal },
  onEvent: WatchEventHandler,
): Promise<WatchReceived> {
  const { path, params, signal } = request;
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster in the kubeconfig');
  const d = deadlines.get(kc) ?? DEFAULT_DEADLINES;
  const seconds = Math.ceil((d.lifetimeMs * (1 + Math.random())) / 1000);
  const url = new URL(cluster.server + path);
  for (const [k, v] of Object.entries({
    ...params,
    watch: 'true',
    timeoutSeconds: String(seconds),
  }))
    url.searchParams.set(k, v);
  const options: https.RequestOptions = { method: 'GET', headers: {} };
  await kc.applyToHTTPSOptions(options);
  const send = url.protocol === 'http:' ? http.request : https.request;
  const received: WatchReceived = { bytes: 0 };
  return new Promise<WatchReceived>((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    const settle = (err?: Error): void => {
      timers.forEach(clearTimeout);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(received);
    };
    const req = send(url, options, (res) => {
      clearTimeout(timers[0]);
      // The server's timeout counts from its answer: so does ours, a grace period past it.
      timers.push(
        setTimeout(fail('open past its timeout: no server behind it'), seconds * 1000 + d.answerWithinMs),
      );
      if (res.statusCode !== 200) {
        res.resume();
        return settle(
          Object.assign(new Error(`watch ${path}: HTTP ${res.statusCode}`), { code: res.statusCode }),
        );
      }
      res.on('data', (chunk: Buffer) => (received.bytes += chunk.length));
      const lines = readline.createInterface({ input: res, crlfDelay: Infinity });
      lines.on('line', (line) => {
        let event: { type?: unknown; object?: unknown };
        try {
          event = JSON.parse(line) as typeof event;
        } catch {
          return; // half an event, where the stream was cut: the resume delivers it whole
        }
        if (typeof event.type === 'string' && event.object && typeof event.object === 'object')
          onEvent(event.type, event.object as Record<string, unknown>);
      });
      // A cut stream: settle as an end (the caller resumes); readline re-emits the error, handled too.
      lines.on('close', () => settle());
      lines.on('error', () => settle());
      res.on('error', () => settle());
    });
    const fail = (why: string) => (): void => {
      req.destroy();
      settle(new Error(`watch ${path}: ${why}`));
    };
    const onAbort = (): void => {
      req.destroy();
      settle();
    };
    timers.push(setTimeout(fail(`no answer within ${d.answerWithinMs} ms`), d.answerWithinMs));
    req.on('error', (err) => settle(err));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);
    req.end();
  });
}
