import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Controller } from './controller.js';
import { WorkQueue } from './queue.js';
import type { ReconcileResult } from './reconcile.js';

const silent = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silent;
  },
} as never;

/** A controller whose reconcile answers from a script, recording what the loop concluded. */
function scripted(answers: (() => ReconcileResult)[]) {
  const queue = new WorkQueue({ baseMs: 10, maxMs: 40 });
  const results: string[] = [];
  let call = 0;
  const c = new Controller(
    queue,
    () => {
      const next = answers[Math.min(call++, answers.length - 1)];
      return Promise.resolve(next());
    },
    silent,
    { onResult: (r) => results.push(r) },
  );
  return { c, queue, results, calls: () => call };
}

const until = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await new Promise((r) => setTimeout(r, 1));
};

test('an error backs off and retries; success forgets the backoff', async () => {
  const { c, results } = scripted([
    () => {
      throw new Error('transient');
    },
    () => ({}),
  ]);
  c.start(1);
  c.enqueue('ns/a');
  await until(() => results.length === 2);
  assert.deepEqual(results, ['error', 'success']);
  await c.stop();
});

test('requeue-after runs the key again; a signal settles once a pass saw recent enough information', async () => {
  const t = Date.now();
  const { c, results } = scripted([
    // A long delay: the explicit enqueue below runs the second pass, not a timer racing the assertion.
    () => ({ requeueAfterMs: 60_000, observedAt: t - 1000 }),
    () => ({ observedAt: t + 1 }),
  ]);
  c.start(1);
  let settled = false;
  void c.signal('ns/a', { observedAt: t }).then(() => (settled = true));
  await until(() => results.length === 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'a pass with older information does not settle the signal');
  c.enqueue('ns/a');
  await until(() => settled);
  assert.deepEqual(results.slice(0, 2), ['requeue', 'success']);
  await c.stop();
});

test('a mapping gone settles its signals and forgets its delayed adds', async () => {
  const { c, queue, calls } = scripted([() => ({ gone: true })]);
  c.start(1);
  queue.addAfter('ns/a', 10_000);
  await c.signal('ns/a', { observedAt: Date.now() + 60_000 });
  assert.equal(calls(), 1);
  assert.equal(queue.delayed, 0, 'the delayed add was dropped');
  await c.stop();
});

test('stop() rejects pending signals at once and aborts the pass in flight', async () => {
  const queue = new WorkQueue();
  let seen: AbortSignal | undefined;
  let release: () => void = () => {};
  const c = new Controller(
    queue,
    async (_key, aborted) => {
      seen = aborted;
      await new Promise<void>((r) => (release = r));
      aborted.throwIfAborted();
      return { observedAt: Date.now() };
    },
    silent,
  );
  c.start(1);
  const settled = c.signal('ns/a', { observedAt: Date.now() });
  await until(() => seen !== undefined);
  const stopped = c.stop();
  await assert.rejects(settled, { name: 'TermEndedError' }, 'rejected before the pass ends');
  assert.equal(seen?.aborted, true);
  release();
  await stopped;
});

test('a pass that observed the secret but failed a step settles its signals, and the queue retries it with backoff', async () => {
  const t = Date.now();
  const { c, results, calls } = scripted([
    () => ({ observedAt: t + 1, failed: 'restart failed for Deployment/web: denied' }),
    () => ({ observedAt: t + 2, failed: 'restart failed for Deployment/web: denied' }),
    () => ({ observedAt: t + 3 }),
  ]);
  c.start(1);
  let settled = false;
  const signalled = c.signal('ns/a', { observedAt: t }).then(() => (settled = true));
  await until(() => calls() >= 1 && results.length >= 1);
  await signalled;
  assert.equal(settled, true, 'the message may be deleted: the mapping recorded what it told');
  await until(() => results.length === 3);
  assert.deepEqual(results, ['error', 'error', 'success'], 'the failing step is retried by the queue');
  await c.stop();
});

test('stop() is bounded: a pass that never returns does not hold the end of the term', async () => {
  const queue = new WorkQueue();
  const c = new Controller(queue, () => new Promise<ReconcileResult>(() => {}), silent, { stopGraceMs: 50 });
  c.start(1);
  c.enqueue('ns/stuck');
  await new Promise((r) => setTimeout(r, 5));
  const started = Date.now();
  await c.stop();
  assert.ok(Date.now() - started < 1000, `stop returned after ${Date.now() - started} ms`);
});

/** A gate a test opens: the pass waiting on it goes on. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

test('a pass that only writes gives its worker to the next mapping; its own key waits for its write', async () => {
  const queue = new WorkQueue();
  const log: string[] = [];
  const write = gate();
  let aPasses = 0;
  const c = new Controller(
    queue,
    async (key, _aborted, startWriting) => {
      if (key === 'ns/a' && aPasses++ === 0) {
        log.push('a restarted');
        await startWriting();
        await write.wait;
        log.push('a wrote');
      } else log.push(`${key} ran`);
      return {};
    },
    silent,
  );
  c.start(1);
  c.enqueue('ns/a');
  await until(() => log.includes('a restarted'));
  c.enqueue('ns/b');
  c.enqueue('ns/a');
  await until(() => log.includes('ns/b ran'));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(log, ['a restarted', 'ns/b ran'], 'b ran on the one worker; a second pass of a waits');
  write.open();
  await until(() => log.includes('ns/a ran'));
  assert.deepEqual(log, ['a restarted', 'ns/b ran', 'a wrote', 'ns/a ran']);
  await c.stop();
});

test('passes write at most `concurrency` at once: one more keeps its worker until a writer ends', async () => {
  const queue = new WorkQueue();
  const log: string[] = [];
  const write = gate();
  const c = new Controller(
    queue,
    async (key, _aborted, startWriting) => {
      log.push(`${key} restarted`);
      await startWriting();
      log.push(`${key} writing`);
      if (key === 'ns/a') await write.wait;
      return {};
    },
    silent,
  );
  c.start(1);
  c.enqueue('ns/a');
  await until(() => log.includes('ns/a writing'));
  c.enqueue('ns/b');
  c.enqueue('ns/c');
  await until(() => log.includes('ns/b restarted'));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(
    log,
    ['ns/a restarted', 'ns/a writing', 'ns/b restarted'],
    'b waits for the writing slot, holding the worker: c does not start',
  );
  write.open();
  await until(() => log.includes('ns/c writing'));
  assert.deepEqual(log.slice(3), ['ns/b writing', 'ns/c restarted', 'ns/c writing']);
  await c.stop();
});

test('stop() waits for a pass that only writes, and rejects the signals it had not settled', async () => {
  const queue = new WorkQueue();
  const write = gate();
  let writing = false;
  const c = new Controller(
    queue,
    async (_key, aborted, startWriting) => {
      await startWriting();
      writing = true;
      await write.wait;
      aborted.throwIfAborted();
      return { observedAt: Date.now() };
    },
    silent,
  );
  c.start(1);
  const settled = c.signal('ns/a', { observedAt: Date.now() });
  await until(() => writing);
  let stopped = false;
  const stopping = c.stop().then(() => (stopped = true));
  await assert.rejects(settled, { name: 'TermEndedError' });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(stopped, false, 'the pass still writing holds stop()');
  write.open();
  await stopping;
});
