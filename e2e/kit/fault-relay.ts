import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { Rng } from '../chaos/rng.js';
import { waitFor } from './clients.js';
import type { EnvState } from '../env/env.js';
import {
  awsKind,
  decide,
  kubeKind,
  REQUEST_KINDS,
  type Decision,
  type FaultClass,
  type FaultRule,
  type RequestKind,
  type RequestLine,
} from './wire-faults.js';

/** One fault the relay put on a request; `status` is the server's answer when it saw the request. */
export interface InjectedFault {
  at: number;
  kind: RequestKind;
  fault: Decision['fault'];
  /** The rule that chose it (0 for the first one injected). */
  rule: number;
  method: string;
  url: string;
  status?: number;
}

/** One request as the relay holds it. */
interface Exchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  body: Buffer;
  kind: RequestKind;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

interface Upstream {
  request: (opts: http.RequestOptions, cb: (res: http.IncomingMessage) => void) => http.ClientRequest;
  host: string;
  port: number;
}

/**
 * A seeded fault relay on the operator's own wire: the operator's kubeconfig server, or its
 * AWS_ENDPOINT_URL, points here, and the relay forwards each request — or fails it before the server
 * sees it, or forwards it and loses the answer after the server committed, delays it, cuts a watch
 * mid-event, or delivers it twice — by the rules in force (see wire-faults.ts). In front of
 * kube-apiserver it terminates TLS with the API server's own serving certificate (issued by the
 * environment's CA for 127.0.0.1), so the operator's kubeconfig needs only the new address, and the
 * relay sees every request and answer. The operator authenticates with a bearer token, which the relay
 * passes on unchanged.
 */
export class FaultRelay {
  private readonly rules: { rule: FaultRule; used: number }[] = [];
  private readonly rng: Rng;
  /** Every fault put on a request, in order. */
  readonly injected: InjectedFault[] = [];

  /**
   * The faults injected so far, once the server's answer to each one it forwarded (lose-answer,
   * duplicate) reached the relay: a read can show a committed write before its answer arrives here.
   */
  async answered(): Promise<InjectedFault[]> {
    const forwarded = (f: InjectedFault): boolean =>
      f.fault.startsWith('lose-answer') || (f.fault === 'duplicate' && f.kind !== 'watch');
    await waitFor('the server answered every write the relay forwarded', () =>
      Promise.resolve(this.injected.every((f) => !forwarded(f) || f.status !== undefined)),
    );
    return this.injected;
  }
  /** Requests held unanswered: their timers end at close, so a closed relay keeps no process alive. */
  private readonly holds = new Set<NodeJS.Timeout>();
  /** Closes each watch stream open now. */
  private readonly watches = new Set<() => void>();
  /** Requests seen, by kind. */
  readonly seen = new Map<RequestKind, number>(REQUEST_KINDS.map((k) => [k, 0]));

  private constructor(
    private readonly server: http.Server,
    private readonly upstream: Upstream,
    private readonly classify: (r: RequestLine) => RequestKind,
    seed: number,
  ) {
    this.rng = new Rng(seed);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.handle(req, res).catch(() => req.socket.destroy());
    });
  }

  /** A relay in front of `env`'s kube-apiserver. */
  static async kube(env: EnvState, seed: number): Promise<FaultRelay> {
    const pki = path.dirname(env.caCert);
    const server = https.createServer({
      cert: fs.readFileSync(path.join(pki, 'serving.crt')),
      key: fs.readFileSync(path.join(pki, 'serving.key')),
    });
    const url = new URL(env.apiserverUrl);
    const agent = new https.Agent({ keepAlive: true, ca: fs.readFileSync(env.caCert) });
    const upstream = {
      request: (o: http.RequestOptions, cb: (res: http.IncomingMessage) => void) =>
        https.request({ ...o, agent }, cb),
      host: url.hostname,
      port: Number(url.port),
    };
    return FaultRelay.listen(new FaultRelay(server, upstream, kubeKind, seed));
  }

  /** A relay in front of the AWS endpoint at `target` (plain HTTP, as the local endpoint is). */
  static async aws(target: string, seed: number): Promise<FaultRelay> {
    const url = new URL(target);
    const agent = new http.Agent({ keepAlive: true });
    const upstream = {
      request: (o: http.RequestOptions, cb: (res: http.IncomingMessage) => void) =>
        http.request({ ...o, agent }, cb),
      host: url.hostname,
      port: Number(url.port),
    };
    return FaultRelay.listen(new FaultRelay(http.createServer(), upstream, awsKind, seed));
  }

  private static async listen(relay: FaultRelay): Promise<FaultRelay> {
    await new Promise<void>((r) => relay.server.listen(0, '127.0.0.1', r));
    return relay;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  get url(): string {
    return `${this.server instanceof https.Server ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** A copy of `kubeconfig` whose server is this relay. */
  kubeconfigThrough(kubeconfig: string): string {
    const out = `${kubeconfig}.relay-${this.port}`;
    const text = fs.readFileSync(kubeconfig, 'utf8');
    fs.writeFileSync(out, text.replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: ${this.url}`));
    return out;
  }

  /** Adds a rule; rules are tried in the order they were added. */
  inject(rule: FaultRule): void {
    this.rules.push({ rule, used: 0 });
  }

  /** Ends every watch open now (the operator watches again, through the rules in force). */
  cutWatches(): number {
    const n = this.watches.size;
    for (const close of [...this.watches]) close();
    return n;
  }

  /** Removes every rule: from now on the relay only forwards. */
  clear(): void {
    this.rules.length = 0;
  }

  /** Faults injected so far, by "kind fault". */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const f of this.injected) out[`${f.kind} ${f.fault}`] = (out[`${f.kind} ${f.fault}`] ?? 0) + 1;
    return out;
  }

  close(): Promise<void> {
    for (const timer of this.holds) clearTimeout(timer);
    this.holds.clear();
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const target = req.headers['x-amz-target'];
    const line: RequestLine = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      target: typeof target === 'string' ? target : undefined,
    };
    const kind = this.classify(line);
    this.seen.set(kind, (this.seen.get(kind) ?? 0) + 1);
    const body = await readAll(req);
    if (body.length < 64 * 1024) line.body = body.toString('utf8');
    const x: Exchange = { req, res, body, kind };
    const d = decide(this.rules, kind, line, this.rng);
    if (!d) return this.pass(x);
    const record: InjectedFault = {
      at: Date.now(),
      kind,
      fault: d.fault,
      rule: d.rule,
      method: line.method,
      url: line.url,
    };
    this.injected.push(record);
    return this.faults[d.fault](x, d, record);
  }

  /** What each fault does to one exchange. */
  private readonly faults: Record<
    FaultClass,
    (x: Exchange, d: Decision, record: InjectedFault) => void | Promise<void>
  > = {
    'error-500': (x) => refuse(x.res, 'error-500', this.classify === awsKind),
    'error-503': (x) => refuse(x.res, 'error-503', this.classify === awsKind),
    'error-429': (x) => refuse(x.res, 'error-429', this.classify === awsKind),
    'reset-before': (x) => void x.req.socket.destroy(),
    'timeout-before': (x, d) => this.hold(x, d.delayMs),
    delay: async (x, d) => {
      await sleep(d.delayMs);
      this.pass(x);
    },
    'lose-answer-reset': async (x, _d, record) => {
      record.status = (await this.send(x)).status;
      x.req.socket.destroy();
    },
    'lose-answer-hang': async (x, d, record) => {
      record.status = (await this.send(x)).status;
      this.hold(x, d.delayMs);
    },
    'cut-watch': (x, d) => this.pass(x, cutAfter(d.delayMs, this.rng)),
    'stall-watch': (x) => this.pass(x, swallow()),
    duplicate: async (x, _d, record) => {
      if (x.kind === 'watch') return this.pass(x, doubleLines());
      const first = await this.send(x);
      record.status = (await this.send(x)).status;
      answer(x.res, first);
    },
  };

  /** Leaves a request unanswered for `ms`, then resets its connection (or at close, if sooner). */
  private hold(x: Exchange, ms: number): void {
    const timer = setTimeout(() => {
      this.holds.delete(timer);
      x.req.socket.destroy();
    }, ms);
    this.holds.add(timer);
  }

  /** Forwards a request and streams its answer back (through `via`, when given). */
  private pass({ req, res, body, kind }: Exchange, via?: Transform): void {
    if (kind === 'watch') {
      const close = (): void => {
        up.destroy();
        req.socket.destroy();
      };
      this.watches.add(close);
      res.on('close', () => this.watches.delete(close));
    }
    const up = this.upstream.request(this.options(req), (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      // Headers go on at once, as the server sent them: a quiet watch has no body to carry them.
      res.flushHeaders();
      if (!via) return void answer.pipe(res);
      via.on('cut', () => {
        answer.destroy();
        req.socket.destroy();
      });
      answer.pipe(via).pipe(res);
    });
    up.on('error', () => req.socket.destroy());
    res.on('close', () => up.destroy());
    up.end(body);
  }

  /** Forwards a request and reads its whole answer. */
  private send({ req, body }: Exchange): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const up = this.upstream.request(this.options(req), (a) => {
        readAll(a).then((b) => resolve({ status: a.statusCode ?? 502, headers: a.headers, body: b }), reject);
      });
      up.on('error', reject);
      up.end(body);
    });
  }

  private options(req: http.IncomingMessage): http.RequestOptions {
    return {
      host: this.upstream.host,
      port: this.upstream.port,
      method: req.method,
      path: req.url,
      // The Host header as the client sent it: AWS signatures cover it.
      headers: req.headers,
    };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function answer(res: http.ServerResponse, a: Answer): void {
  const headers = { ...a.headers };
  delete headers['transfer-encoding'];
  headers['content-length'] = String(a.body.length);
  res.writeHead(a.status, headers);
  res.end(a.body);
}

/** An error answer as the server would give it: a Kubernetes Status, or an AWS JSON-protocol error. */
function refuse(
  res: http.ServerResponse,
  fault: 'error-500' | 'error-503' | 'error-429',
  aws: boolean,
): void {
  const message = 'injected by the fault relay';
  if (aws) {
    const [status, type] =
      fault === 'error-500'
        ? [500, 'InternalFailure']
        : fault === 'error-503'
          ? [503, 'ServiceUnavailable']
          : [400, 'ThrottlingException']; // AWS answers a caller over its rate with 400, not 429
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type });
    return void res.end(JSON.stringify({ __type: type, message }));
  }
  const [code, reason] =
    fault === 'error-500'
      ? [500, 'InternalError']
      : fault === 'error-503'
        ? [503, 'ServiceUnavailable']
        : [429, 'TooManyRequests'];
  res.writeHead(code, {
    'content-type': 'application/json',
    ...(code === 429 ? { 'retry-after': '1' } : {}),
  });
  res.end(
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code,
    }),
  );
}

/**
 * Cuts a stream `ms` after it starts, or in the middle of its first event when one comes sooner: the
 * client gets part of a JSON line, then a reset. The cut falls inside the chunk's first line: a chunk
 * carrying several events (a resumed watch replays its backlog at once) must not let whole events
 * through, or a resumed watch would make progress that no cut path allows.
 */
function cutAfter(ms: number, rng: Rng): Transform {
  let cut = false;
  const t = new Transform({
    transform(chunk: Buffer, _enc: string, done: TransformCallback) {
      if (cut) return done();
      cut = true;
      clearTimeout(timer);
      const eol = chunk.indexOf(0x0a);
      const line = eol < 0 ? chunk.length : eol + 1;
      this.push(chunk.subarray(0, Math.max(1, Math.floor((line - 1) * rng.next()))));
      done();
      setImmediate(() => t.emit('cut'));
    },
  });
  // The clock starts when the answer flows in (after the relay listens for 'cut'), not before.
  let timer: NodeJS.Timeout | undefined;
  t.once('pipe', () => {
    timer = setTimeout(() => {
      cut = true;
      t.emit('cut');
    }, ms);
  });
  t.on('close', () => clearTimeout(timer));
  return t;
}

/** Lets nothing through and never ends: the client holds an answered, silent stream. */
function swallow(): Transform {
  return new Transform({
    transform(_chunk: Buffer, _enc: string, done: TransformCallback) {
      done();
    },
    flush() {
      // never calls back: the stream does not end either
    },
  });
}

/** Delivers every complete line (watch event) of a stream twice. */
function doubleLines(): Transform {
  let rest = '';
  return new Transform({
    transform(chunk: Buffer, _enc: string, done: TransformCallback) {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) this.push(`${l}\n${l}\n`);
      done();
    },
    flush(done: TransformCallback) {
      if (rest) this.push(rest);
      done();
    },
  });
}
