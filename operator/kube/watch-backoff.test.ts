import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../runtime/logger.js';
import { Informer, type Cached, type RawObject } from './informer.js';
import { afterWatch, cutCapFor } from './watch-backoff.js';

const limits = { minMs: 1000, maxMs: 30_000, cutMaxMs: 3000 };
const fresh = { emptyMs: 1000, cutMs: 1000 };
const EMPTY = { lastedMs: 10, events: 0, bytes: 0 };
const CUT = { lastedMs: 10, events: 0, bytes: 120 };

/** The waits of watches ending as `ends`, one after the other, from fresh backoffs. */
function ladder(ends: { lastedMs: number; events: number; bytes: number }[]): number[] {
  let backoff = fresh;
  return ends.map((end) => {
    const next = afterWatch(end, backoff, limits);
    backoff = next.backoff;
    return next.waitMs;
  });
}

test('a watch that lasted or brought an event resumes at once, both backoffs reset', () => {
  const grown = { emptyMs: 8000, cutMs: 3000 };
  assert.deepEqual(afterWatch({ lastedMs: 5000, events: 0, bytes: 0 }, grown, limits), {
    waitMs: 0,
    backoff: fresh,
  });
  assert.deepEqual(afterWatch({ lastedMs: 10, events: 1, bytes: 300 }, grown, limits), {
    waitMs: 0,
    backoff: fresh,
  });
  // A watch that lasted, cut in the middle of an event after all, also resets.
  assert.deepEqual(afterWatch({ lastedMs: 5000, events: 0, bytes: 120 }, grown, limits).backoff, fresh);
});

test('a watch dropped at once with nothing in it waits the backoff, doubled each time up to the cap', () => {
  assert.deepEqual(
    ladder(Array.from({ length: 7 }, () => EMPTY)),
    [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000],
  );
});

test('watches cut in the middle of their first event: from the minimum, doubled up to the lower cut cap', () => {
  // Before: 1000 every time, for ever (a proxy that always cuts mid-event was asked again each second).
  assert.deepEqual(ladder(Array.from({ length: 7 }, () => CUT)), [1000, 2000, 3000, 3000, 3000, 3000, 3000]);
});

test('the cut ladder starts again from the minimum after a watch that brought a whole event', () => {
  const good = { lastedMs: 10, events: 1, bytes: 300 };
  assert.deepEqual(ladder([CUT, CUT, CUT, good, CUT, CUT]), [1000, 2000, 3000, 0, 1000, 2000]);
  const lasted = { lastedMs: 60_000, events: 0, bytes: 0 };
  assert.deepEqual(ladder([CUT, CUT, lasted, CUT]), [1000, 2000, 0, 1000]);
});

test('the two ladders do not move each other', () => {
  // Empty watches grow only their own backoff: a cut after them waits the cut ladder's step, and back.
  assert.deepEqual(ladder([EMPTY, EMPTY, EMPTY, CUT, EMPTY, CUT]), [1000, 2000, 4000, 1000, 8000, 2000]);
});

test('the cut cap: three times the minimum, below the cap of empty watches', () => {
  assert.equal(cutCapFor(1000), 3000);
  assert.equal(cutCapFor(50), 150);
});

interface Item extends Cached {
  name: string;
}

/** A logger that keeps the retryInMs of each "very short watch" line. */
function retries(): { logger: Logger; waits: number[] } {
  const waits: number[] = [];
  const debug = (m: string, f: { retryInMs: number }): void => {
    if (m.startsWith('very short watch')) waits.push(f.retryInMs);
  };
  const none = (): void => {};
  return { logger: { debug, info: none, warn: none, error: none } as unknown as Logger, waits };
}

/**
 * A scripted API server on loopback: its watch answers 200, then for the first `cuts` requests
 * sends `cut(line)` of the pending event and drops the connection; after that, the whole event.
 */
async function scriptedWatch(cuts: number, cut: (line: string) => string) {
  const event = JSON.stringify({
    type: 'ADDED',
    object: { metadata: { name: 'c', namespace: 'ns', resourceVersion: '11' } },
  });
  let watches = 0;
  const server = http.createServer((_req, res) => {
    watches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    if (watches > cuts) return void res.write(`${event}\n`);
    const part = cut(event);
    if (!part) return (void res.flushHeaders(), void setTimeout(() => res.socket?.destroy(), 5));
    res.write(part, () => setTimeout(() => res.socket?.destroy(), 5));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kubeConfig = new KubeConfig();
  const port = (server.address() as { port: number }).port;
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return {
    kubeConfig,
    watches: () => watches,
    close: () => (server.closeAllConnections(), server.close()),
  };
}

async function informerOver(server: Awaited<ReturnType<typeof scriptedWatch>>, logger: Logger) {
  let seen: () => void = () => {};
  const added = new Promise<void>((r) => (seen = r));
  const informer = new Informer<Item>({
    what: 'Deployments',
    kubeConfig: server.kubeConfig,
    watchPath: '/apis/apps/v1/namespaces/ns/deployments',
    list: () => Promise.resolve({ items: [], resourceVersion: '10' }),
    project: (raw: RawObject) => ({
      key: `ns/${raw.metadata?.name}`,
      name: raw.metadata?.name ?? '',
      resourceVersion: raw.metadata?.resourceVersion,
    }),
    logger,
    minBackoffMs: 50,
    maxBackoffMs: 5000,
    onAdd: () => seen(),
  });
  await informer.start();
  return { informer, added };
}

test('watches cut mid-event five times in a row: resumed after the cut ladder (min, doubled, capped), the event then seen', async () => {
  const server = await scriptedWatch(5, (line) => line.slice(0, line.length / 2));
  const { logger, waits } = retries();
  const { informer, added } = await informerOver(server, logger);
  try {
    await added;
    assert.equal(informer.get('ns/c')?.resourceVersion, '11');
    assert.equal(server.watches(), 6);
    // Once 50, 100, 200, 400, 800 (in production 1, 2, 4, 8, 16, 30 s, a minute behind); then a flat
    // 50 for ever; now doubled from the minimum up to three times it.
    assert.deepEqual(waits, [50, 100, 150, 150, 150]);
  } finally {
    informer.stop();
    server.close();
  }
});

test('watches dropped with nothing in them five times in a row: the backoff still doubles', async () => {
  const server = await scriptedWatch(5, () => '');
  const { logger, waits } = retries();
  const { informer, added } = await informerOver(server, logger);
  try {
    await added;
    assert.deepEqual(waits, [50, 100, 200, 400, 800]);
  } finally {
    informer.stop();
    server.close();
  }
});
