import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { WorkQueue } from './queue.js';

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'] }));
afterEach(() => mock.timers.reset());

test('a key added many times before processing is handed out once', async () => {
  const q = new WorkQueue();
  for (let i = 0; i < 5; i++) q.add('ns/a');
  q.add('ns/b');
  assert.equal(q.length, 2);
  assert.equal(await q.get(), 'ns/a');
  assert.equal(await q.get(), 'ns/b');
  assert.equal(q.length, 0);
});

test('a key re-added while processing waits for done() and is never handed out twice at once', async () => {
  const q = new WorkQueue();
  q.add('k');
  const key = await q.get();
  q.add('k');
  q.add('k');
  assert.equal(q.length, 0, 'not queued while being processed');
  let second: string | undefined;
  void q.get().then((k) => (second = k));
  await Promise.resolve();
  assert.equal(second, undefined);
  q.done(key ?? '');
  await Promise.resolve();
  assert.equal(second, 'k', 'processed again after done, exactly once');
  q.done('k');
  assert.equal(q.length, 0);
});

test('failures back off exponentially per key, capped, and forget() resets', () => {
  const q = new WorkQueue({ baseMs: 1000, maxMs: 5000 });
  assert.deepEqual(
    [1, 2, 3, 4].map(() => q.addRateLimited('k')),
    [1000, 2000, 4000, 5000],
  );
  assert.equal(q.addRateLimited('other'), 1000, 'backoff is per key');
  q.forget('k');
  assert.equal(q.addRateLimited('k'), 1000);
});

test('a delayed add fires after its delay and keeps the earliest time', async () => {
  const q = new WorkQueue();
  q.addAfter('k', 5000);
  q.addAfter('k', 10_000);
  q.addAfter('k', 2000);
  assert.equal(q.delayed, 1);
  mock.timers.tick(1999);
  assert.equal(q.length, 0);
  mock.timers.tick(1);
  assert.equal(q.length, 1);
  assert.equal(await q.get(), 'k');
  mock.timers.tick(10_000);
  assert.equal(q.length, 0, 'the later adds were merged into the earliest');
});

test('remove() cancels a pending delayed add; shutDown() releases waiting getters', async () => {
  const q = new WorkQueue();
  q.addAfter('k', 1000);
  q.remove('k');
  mock.timers.tick(2000);
  assert.equal(q.length, 0);
  const pending = q.get();
  q.shutDown();
  assert.equal(await pending, undefined);
  q.add('x');
  assert.equal(q.length, 0, 'nothing is accepted after shutdown');
});

test('addFirst puts a key ahead of those waiting, or moves it there', async () => {
  const q = new WorkQueue();
  for (const k of ['a', 'b', 'c']) q.add(k);
  q.addFirst('c');
  q.addFirst('d');
  const order: string[] = [];
  for (let i = 0; i < 4; i++) {
    const k = (await q.get()) ?? '';
    order.push(k);
    q.done(k);
  }
  assert.deepEqual(order, ['d', 'c', 'a', 'b']);
});

test('addFirst of a key being processed re-queues it once, after done()', async () => {
  const q = new WorkQueue();
  q.add('a');
  q.add('b');
  const a = await q.get();
  q.addFirst('a');
  assert.equal(q.length, 1, 'a is not handed out twice while processing');
  q.done(a ?? '');
  assert.equal(await q.get(), 'a', 'a signalled key keeps its priority after done()');
});

test('a delay longer than a timer can wait is clamped, not turned into a 1 ms busy loop', () => {
  const q = new WorkQueue();
  q.addAfter('a', 600 * 3_600_000);
  mock.timers.tick(10);
  assert.equal(q.length, 0, 'not run after 1 ms');
  mock.timers.tick(2 ** 31 - 1);
  assert.equal(q.length, 1, 'run after the longest a timer waits');
});

test('after shutDown, get() hands out nothing more: queued keys are discarded, not run', async () => {
  const q = new WorkQueue();
  for (let i = 0; i < 1000; i++) q.add(`ns/m${i}`);
  assert.equal(await q.get(), 'ns/m0');
  q.shutDown();
  assert.equal(await q.get(), undefined, 'a key queued before the end is not handed out');
  assert.equal(q.length, 0);
  q.add('ns/late');
  assert.equal(await q.get(), undefined);
});
