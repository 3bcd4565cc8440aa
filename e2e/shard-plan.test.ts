import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  EXCLUSIVE_FILES,
  pick,
  queueOf,
  REAL_NODE_FILES,
  shardCount,
  UNKNOWN_SECONDS,
  type Job,
  type ShardState,
} from './shard-plan.js';

const REAL = REAL_NODE_FILES[0] ?? '';
const EXCL = EXCLUSIVE_FILES[0] ?? '';
const job = (file: string, seconds = 10): Job => queueOf([file], { [file]: seconds })[0];
const idle = (realNode = false): ShardState => ({ realNode, status: 'idle' });
/** pick() for the shard at `i` of `shards`. */
const pickFor = (queue: Job[], i: number, shards: ShardState[]): Job | undefined =>
  pick(queue, shards[i], shards);
const running = (j: Job, realNode = false): ShardState => ({ realNode, status: 'running', job: j });

test('the queue is longest first, ties by name; a file without a measured duration counts as long', () => {
  const q = queueOf(['b.test.js', 'a.test.js', 'new.test.js', 'c.test.js'], {
    'a.test.js': 30,
    'b.test.js': 30,
    'c.test.js': 90,
  });
  assert.deepEqual(
    q.map((j) => [j.file, j.seconds]),
    [
      ['new.test.js', UNKNOWN_SECONDS],
      ['c.test.js', 90],
      ['a.test.js', 30],
      ['b.test.js', 30],
    ],
  );
});

test('jobs are marked real-node and exclusive from the tables', () => {
  assert.equal(job(REAL).realNode, true);
  assert.equal(job(REAL).exclusive, false);
  assert.equal(job(EXCL).exclusive, true);
  assert.equal(job('x.test.js').realNode, false);
  assert.ok(REAL_NODE_FILES.includes('operator-pod.test.js') && REAL_NODE_FILES.includes('skaffold.test.js'));
});

test('a real-node job goes only to the shard with the real node; the others take the next job', () => {
  const queue = [job(REAL, 100), job('x.test.js', 50)];
  const shards = [idle(true), idle(false)];
  assert.equal(pickFor(queue, 1, shards)?.file, 'x.test.js');
  assert.equal(pickFor(queue, 0, shards)?.file, REAL);
  assert.equal(pickFor([job(REAL)], 1, shards), undefined, 'waits rather than run it without the node');
});

test('without any real node (ENV_REAL_NODE=0), real-node jobs run anywhere (and skip themselves there)', () => {
  assert.equal(pickFor([job(REAL)], 1, [idle(), idle()])?.file, REAL);
});

test('an exclusive job starts only when every other shard is idle; until then the next job goes', () => {
  const queue = [job(EXCL, 100), job('x.test.js', 50)];
  assert.equal(pickFor(queue, 1, [running(job('y.test.js'), true), idle()])?.file, 'x.test.js');
  assert.equal(pickFor([job(EXCL)], 1, [running(job('y.test.js'), true), idle()]), undefined);
  assert.equal(pickFor(queue, 1, [idle(true), idle()])?.file, EXCL);
  // A shard still starting its environment loads the machine: not idle.
  assert.equal(pickFor([job(EXCL)], 0, [idle(true), { realNode: false, status: 'booting' }]), undefined);
});

test('nothing starts beside an exclusive job', () => {
  assert.equal(pickFor([job('x.test.js')], 1, [running(job(EXCL), true), idle()]), undefined);
});

test('a busy or booting shard takes nothing', () => {
  assert.equal(pickFor([job('x.test.js')], 0, [running(job('y.test.js'))]), undefined);
  assert.equal(pickFor([job('x.test.js')], 0, [{ realNode: false, status: 'booting' }]), undefined);
});

test('one environment for little work or one file; at most what is asked', () => {
  assert.equal(shardCount([job('a.test.js', 30), job('b.test.js', 30)], 2), 1);
  assert.equal(shardCount([job('a.test.js', 300)], 2), 1);
  assert.equal(shardCount([job('a.test.js', 300), job('b.test.js', 300)], 2), 2);
  assert.equal(shardCount([job('a.test.js', 300), job('b.test.js', 300)], 1), 1);
  assert.equal(shardCount([job('a.test.js', 300), job('b.test.js', 300)], 4), 2);
});
