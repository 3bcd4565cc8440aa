import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Mapping, MappingStatus } from '../../resources/types.js';
import { TermEndedError } from '../runtime/errors.js';
import { StatusWrites, afterApply } from './status-writes.js';

/** An API server stand-in: each write waits until the test answers it; answers bump resourceVersion. */
class Server {
  rv = 10;
  readonly sent: { rv: string | undefined; status: MappingStatus; answer: (ok: boolean) => void }[] = [];
  readonly observed: Mapping[] = [];
  applier = {
    applyStatus: (m: Mapping, status: MappingStatus): Promise<Mapping> =>
      new Promise((resolve, reject) => {
        this.sent.push({
          rv: m.metadata.resourceVersion,
          status,
          answer: (ok) => {
            if (!ok) return reject(new Error('409 Conflict'));
            this.rv++;
            resolve({ ...m, metadata: { ...m.metadata, resourceVersion: String(this.rv) }, status });
          },
        });
      }),
    observe: (m: Mapping) => void this.observed.push(m),
  };
}

const mapping = (rv: string, status: MappingStatus = {}): Mapping =>
  ({
    apiVersion: 'secretsrotation.io/v1alpha1',
    kind: 'SecretsRotationMapping',
    metadata: { name: 'm', namespace: 'ns', resourceVersion: rv },
    spec: { secretId: 's', targets: [] },
    status,
  }) as unknown as Mapping;

const v = (id: string): MappingStatus => ({ currentVersionId: id });
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

test('a pass reads the status decided before it until it is written, then the written one', async () => {
  const server = new Server();
  const writes = new StatusWrites(server.applier, 4, new AbortController().signal);
  const read = mapping('10', v('v0'));
  let done = false;
  void writes.write('ns/m', read, v('v1')).then(() => (done = true));
  const [seen, release] = writes.read('ns/m', read);
  assert.equal(seen?.status?.currentVersionId, 'v1', 'decided, not yet written');
  release();
  await flush();
  assert.equal(server.sent.length, 1);
  assert.equal(server.sent[0].rv, '10', 'written from the read');
  server.sent[0].answer(true);
  await flush();
  assert.ok(done);
  assert.equal(writes.size, 0);
  assert.equal(server.observed[0].metadata.resourceVersion, '11', 'the cache takes the answer');
  const answered = mapping('11', v('v1'));
  assert.equal(writes.read('ns/m', answered)[0], answered, 'nothing pending: the cache as it is');
});

test('statuses decided while one is written are merged into one write of the newest, from the answer', async () => {
  const server = new Server();
  const writes = new StatusWrites(server.applier, 4, new AbortController().signal);
  const read = mapping('10', v('v0'));
  const settled: string[] = [];
  void writes.write('ns/m', read, v('v1')).then(() => settled.push('v1'));
  await flush();
  // The next passes read the decided status (the cache still holds rv 10).
  const [second, releaseSecond] = writes.read('ns/m', read);
  assert.ok(second);
  void writes.write('ns/m', second, v('v2')).then(() => settled.push('v2'));
  releaseSecond();
  const [third, releaseThird] = writes.read('ns/m', read);
  assert.equal(third?.status?.currentVersionId, 'v2');
  assert.ok(third);
  void writes.write('ns/m', third, v('v3')).then(() => settled.push('v3'));
  releaseThird();
  await flush();
  assert.equal(server.sent.length, 1, 'one write in flight per mapping');
  server.sent[0].answer(true);
  await flush();
  assert.deepEqual(settled, ['v1']);
  assert.equal(server.sent.length, 2);
  assert.equal(server.sent[1].status.currentVersionId, 'v3', 'only the newest is written');
  assert.equal(server.sent[1].rv, '11', "precondition: the first write's answer");
  // The watch cache now holds the first answer: still this chain's, so the decided status shows.
  const [later, releaseLater] = writes.read('ns/m', mapping('11', v('v1')));
  assert.equal(later?.status?.currentVersionId, 'v3');
  releaseLater();
  server.sent[1].answer(true);
  await flush();
  assert.deepEqual(settled, ['v1', 'v2', 'v3']);
  assert.equal(writes.size, 0);
});

test('a pass that read a status while it was written writes from its answer, even if nothing else waited', async () => {
  const server = new Server();
  const writes = new StatusWrites(server.applier, 4, new AbortController().signal);
  const read = mapping('10', v('v0'));
  void writes.write('ns/m', read, v('v1'));
  const [next, release] = writes.read('ns/m', read);
  await flush();
  server.sent[0].answer(true);
  await flush();
  assert.equal(writes.size, 1, 'kept while a pass reads it');
  assert.ok(next);
  const second = writes.write('ns/m', next, v('v2'));
  release();
  await flush();
  assert.equal(server.sent[1].rv, '11', 'not its read (10): the server is at 11');
  server.sent[1].answer(true);
  await second;
  assert.equal(writes.size, 0);
});

test('a status is written after the Events its passes recorded', async () => {
  const server = new Server();
  const writes = new StatusWrites(server.applier, 4, new AbortController().signal);
  let eventsWritten!: () => void;
  const events = new Promise<void>((r) => (eventsWritten = r));
  void writes.write('ns/m', mapping('10'), v('v1'), events);
  await flush();
  assert.equal(server.sent.length, 0);
  eventsWritten();
  await flush();
  assert.equal(server.sent.length, 1);
});

test('a status decided while the one before waits for its Events merges into it: one write', async () => {
  const server = new Server();
  const writes = new StatusWrites(server.applier, 4, new AbortController().signal);
  let eventsWritten!: () => void;
  const events = new Promise<void>((r) => (eventsWritten = r));
  const read = mapping('10', v('v0'));
  const first = writes.write('ns/m', read, v('v1'), events);
  const [next, release] = writes.read('ns/m', read);
  const second = writes.write('ns/m', next ?? read, {
    ...v('v1'),
    rolloutState: 'Complete',
  } as MappingStatus);
  release();
  await flush();
  assert.equal(server.sent.length, 0, 'the first waits for its Events');
  eventsWritten();
  await flush();
  assert.equal(server.sent.length, 1);
  assert.equal((server.sent[0].status as { rolloutState?: string }).rolloutState, 'Complete', 'the newest');
  server.sent[0].answer(true);
  await Promise.all([first, second]);
  assert.equal(server.sent.length, 1);
});

test('a write that fails fails the statuses decided from it; the next pass reads the cache', async () => {
  const server = new Server();
  const writes = new StatusWrites(server.applier, 4, new AbortController().signal);
  const read = mapping('10', v('v0'));
  const first = writes.write('ns/m', read, v('v1'));
  await flush();
  const [next, release] = writes.read('ns/m', read);
  const second = writes.write('ns/m', next ?? read, v('v2'));
  release();
  await flush();
  server.sent[0].answer(false);
  await assert.rejects(first, /409/);
  await assert.rejects(second, /409/);
  assert.equal(server.sent.length, 1, 'nothing decided from an unwritten status is sent');
  assert.equal(writes.read('ns/m', read)[0], read);
});

test('a status decided from an edited mapping is written from its own read, whatever the chain before it', async () => {
  const server = new Server();
  const writes = new StatusWrites(server.applier, 4, new AbortController().signal);
  const first = writes.write('ns/m', mapping('10', v('v0')), v('v1'));
  await flush();
  const edited = mapping('15', v('v0'));
  assert.equal(writes.read('ns/m', edited)[0], edited, 'an edit the chain did not write is read as it is');
  const second = writes.write('ns/m', edited, v('v2'));
  await flush();
  server.sent[0].answer(false);
  await assert.rejects(first, /409/);
  await flush();
  assert.equal(server.sent.length, 2);
  assert.equal(server.sent[1].rv, '15');
  server.sent[1].answer(true);
  await second;
});

test('at most maxInFlight writes at once, across mappings, in the order they were decided', async () => {
  const server = new Server();
  const writes = new StatusWrites(server.applier, 1, new AbortController().signal);
  void writes.write('ns/a', mapping('10'), v('a1'));
  void writes.write('ns/b', mapping('20'), v('b1'));
  await flush();
  assert.equal(server.sent.length, 1);
  server.sent[0].answer(true);
  await flush();
  assert.equal(server.sent.length, 2);
  assert.equal(server.sent[1].status.currentVersionId, 'b1');
});

test('once the term ends nothing more is written and what waits is rejected', async () => {
  const server = new Server();
  const ended = new AbortController();
  const writes = new StatusWrites(server.applier, 1, ended.signal);
  const a = writes.write('ns/a', mapping('10'), v('a1'));
  const b = writes.write('ns/b', mapping('20'), v('b1'));
  await flush();
  ended.abort(new TermEndedError());
  writes.stop();
  await assert.rejects(b, TermEndedError);
  server.sent[0].answer(true);
  await a;
  await flush();
  assert.equal(server.sent.length, 1, 'the waiting write was never sent');
  const late = writes.write('ns/c', mapping('30'), v('c1'));
  await assert.rejects(late, TermEndedError);
  assert.equal(server.sent.length, 1);
});

test('a status after a server-side apply: what we no longer set is gone, conditions of others stay', () => {
  const before: MappingStatus = {
    currentVersionId: 'v1',
    rollout: { state: 'InProgress' },
    conditions: [
      { type: 'Ready', status: 'False', reason: 'X' },
      { type: 'Audited', status: 'True', reason: 'Y' },
    ],
  } as unknown as MappingStatus;
  const owned = { currentVersionId: 'v2', conditions: [{ type: 'Ready', status: 'True', reason: 'Z' }] };
  assert.deepEqual(afterApply(before, owned as unknown as MappingStatus), {
    currentVersionId: 'v2',
    conditions: [
      { type: 'Ready', status: 'True', reason: 'Z' },
      { type: 'Audited', status: 'True', reason: 'Y' },
    ],
  });
});
