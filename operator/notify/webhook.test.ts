import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import winston from 'winston';
import { createLogger } from '../runtime/logger.js';
import { notification, payload } from './notification.js';
import { headerReader, readHeaders, WebhookNotifier } from './webhook.js';

const log = createLogger('error');
const sample = (reason = 'WorkloadRestarted') =>
  notification({
    type: 'Normal',
    reason,
    message: 'Deployment/web restarted for db@v2',
    namespace: 'shop',
    mapping: 'db',
    secret: 'prod/db',
    version: 'v2',
    workload: 'Deployment/web',
  });

/** A receiver on loopback answering with `answer(n)` to its n-th request (0 = never answer). */
async function receiver(answer: (n: number) => number) {
  const got: { headers: http.IncomingHttpHeaders; body: string; at: number }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      got.push({ headers: req.headers, body, at: Date.now() });
      const status = answer(got.length);
      if (status) res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  return { url, got, close: () => (server.closeAllConnections(), server.close()) };
}

const until = async (what: () => boolean, ms = 5000): Promise<void> => {
  for (const end = Date.now() + ms; !what();) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('a CloudEvent: spec 1.0, type by reason, the mapping as source, no value anywhere', () => {
  const { contentType, body } = payload(sample(), 'cloudevents');
  assert.equal(contentType, 'application/cloudevents+json');
  const ce = JSON.parse(body) as Record<string, unknown> & { data: Record<string, string> };
  assert.equal(ce.specversion, '1.0');
  assert.equal(ce.type, 'io.secretsrotation.WorkloadRestarted');
  assert.equal(ce.source, '/apis/secretsrotation.io/v1alpha1/namespaces/shop/secretsrotationmappings/db');
  assert.deepEqual([ce.data.secret, ce.data.version, ce.data.workload], ['prod/db', 'v2', 'Deployment/web']);
  const slack = JSON.parse(payload(sample('RotationHalted'), 'slack').body) as { text: string };
  assert.match(slack.text, /\*RotationHalted\* shop\/db \(secret prod\/db\)/);
});

test('a failing receiver: retried with backoff until it answers 2xx, each attempt counted', async () => {
  const r = await receiver((n) => (n <= 2 ? 500 : 204));
  const results: string[] = [];
  const n = new WebhookNotifier({
    url: r.url,
    format: 'cloudevents',
    headers: { authorization: 'Bearer t' },
    log,
    backoffMs: 20,
    onSent: (x) => results.push(x),
  });
  try {
    n.notify(sample());
    await until(() => results.includes('delivered'));
    assert.deepEqual(results, ['failed', 'failed', 'delivered']);
    assert.ok(r.got[2].at - r.got[1].at >= 35, 'the second wait is longer than the first');
    assert.equal(r.got[2].headers.authorization, 'Bearer t');
    assert.equal(r.got[2].headers['content-type'], 'application/cloudevents+json');
  } finally {
    n.stop();
    r.close();
  }
});

test('a receiver that never answers: notify returns at once, the queue is bounded, drops are counted', async () => {
  const r = await receiver(() => 0);
  const dropped: string[] = [];
  const n = new WebhookNotifier({
    url: r.url,
    format: 'slack',
    headers: {},
    log,
    capacity: 2,
    attempts: 1,
    timeoutMs: 200,
    onDropped: (x) => dropped.push(x),
  });
  try {
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) n.notify(sample());
    assert.ok(performance.now() - t0 < 50, 'queuing never waits for the receiver');
    // One is being sent, two wait, two are dropped; the one sent times out and is given up.
    assert.deepEqual(dropped, ['queue_full', 'queue_full']);
    await until(() => dropped.includes('gave_up'));
  } finally {
    n.stop();
    r.close();
  }
});

test('headers from a mounted Secret: one file per header, hidden entries skipped', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hdr-'));
  fs.writeFileSync(path.join(dir, 'Authorization'), 'Bearer secret-token\n');
  fs.mkdirSync(path.join(dir, '..data'));
  assert.deepEqual(readHeaders(dir), { authorization: 'Bearer secret-token' });
  assert.deepEqual(readHeaders(undefined), {});
});

test('headers are read again for each notification: a rotated webhook token needs no operator restart', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hdr-'));
  const token = path.join(dir, 'Authorization');
  fs.writeFileSync(token, 'Bearer one\n');
  const r = await receiver(() => 204);
  const results: string[] = [];
  const n = new WebhookNotifier({
    url: r.url,
    format: 'cloudevents',
    headers: headerReader(dir, log),
    log,
    onSent: (x) => results.push(x),
  });
  try {
    n.notify(sample());
    await until(() => results.length === 1);
    fs.writeFileSync(token, 'Bearer two\n');
    n.notify(sample());
    await until(() => results.length === 2);
    // The kubelet swaps the mounted files; a read that fails meanwhile keeps the last headers read.
    fs.rmSync(dir, { recursive: true });
    n.notify(sample());
    await until(() => results.length === 3);
    assert.deepEqual(
      r.got.map((g) => g.headers.authorization),
      ['Bearer one', 'Bearer two', 'Bearer two'],
    );
  } finally {
    n.stop();
    r.close();
  }
});

/** A logger recording every entry it is given (all levels, every field) as JSON text. */
function recordingLogger(): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger('debug', true);
  log.clear().add(
    new winston.transports.Stream({
      stream: new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    }),
  );
  return { log, lines };
}

test('a header file with a value no request may carry is skipped with a warning naming the file, never the value', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hdr-'));
  fs.writeFileSync(path.join(dir, 'Authorization'), 'Bearer s3cr3t-TOKEN\nx\n');
  fs.writeFileSync(path.join(dir, 'X-Api-Key'), 'k3y-s3cr3t-\u2603');
  fs.writeFileSync(path.join(dir, 'X-Tenant'), ' shop\tone ');
  const { log, lines } = recordingLogger();
  const r = await receiver(() => 204);
  const results: string[] = [];
  const n = new WebhookNotifier({
    url: r.url,
    format: 'cloudevents',
    headers: headerReader(dir, log),
    log,
    attempts: 2,
    backoffMs: 1,
    onSent: (x) => results.push(x),
  });
  try {
    n.notify(sample());
    await until(() => results.length === 1);
    assert.deepEqual(results, ['delivered']);
    assert.equal(r.got[0].headers.authorization, undefined);
    assert.equal(r.got[0].headers['x-api-key'], undefined);
    assert.equal(r.got[0].headers['x-tenant'], 'shop\tone');
    const logged = lines.join('\n');
    assert.match(logged, /Authorization/);
    assert.match(logged, /X-Api-Key/);
    assert.doesNotMatch(logged, /s3cr3t/);
  } finally {
    n.stop();
    r.close();
  }
});

test("a request fetch refuses: the notifier logs a constant reason, never fetch's text (it quotes header values)", async () => {
  const { log, lines } = recordingLogger();
  const dropped: string[] = [];
  const n = new WebhookNotifier({
    url: 'http://127.0.0.1:9/hook',
    format: 'cloudevents',
    headers: { authorization: 'Bearer s3cr3t-TOKEN\nx' },
    log,
    attempts: 2,
    backoffMs: 1,
    onDropped: (x) => dropped.push(x),
  });
  n.notify(sample());
  await until(() => dropped.includes('gave_up'));
  assert.equal(lines.filter((l) => l.includes('notification not delivered')).length, 2);
  assert.doesNotMatch(lines.join('\n'), /s3cr3t/);
});
