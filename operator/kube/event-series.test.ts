import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Mapping } from '../../resources/types.js';
import { createLogger } from '../runtime/logger.js';
import {
  MAX_EVENT_WRITES,
  MAX_MERGED,
  known,
  merged,
  writesNow,
  type Occurrence,
  type Series,
} from './event-series.js';
import { EventRecorder, EventReason } from './events.js';

const occurrence = (message: string, at: number, once?: string): Occurrence => ({
  message,
  at: new Date(at),
  once,
  settle: () => undefined,
});

test('writesNow, known, merged: a free slot and nothing of its series waiting; the newest names the Event', () => {
  const s: Series = { onces: ['d1'], waiting: [], writing: [], seenAt: 0 };
  assert.equal(writesNow(undefined, MAX_EVENT_WRITES - 1), true, 'a first occurrence, a slot free');
  assert.equal(writesNow(s, MAX_EVENT_WRITES), false, 'every slot taken: it waits');
  s.waiting.push(occurrence('r2', 2, 'd2'), occurrence('r3', 3, 'd3'));
  assert.equal(writesNow(s, 0), false, 'behind its own series: joins it, never overtakes it');
  assert.deepEqual(
    [known(s, 'd1'), known(s, 'd2'), known(s, 'd4'), known(s, undefined)],
    [true, true, false, false],
    'written or waiting: a retry of either is known',
  );
  assert.deepEqual(merged(s.waiting), {
    count: 2,
    first: new Date(2),
    message: 'r3',
    at: new Date(3),
    once: 'd3',
  });
});

/**
 * A CoreV1Api whose creates answer only when `release()` is called; `log` lists them as sent. A
 * create of a name in `taken` is a 409, of a name in `failing` a 500.
 */
function slowCore(): {
  core: CoreV1Api;
  log: string[];
  taken: Set<string>;
  failing: Set<string>;
  release: (rounds?: number) => Promise<void>;
} {
  const log: string[] = [];
  const taken = new Set<string>();
  const failing = new Set<string>();
  let held: (() => void)[] = [];
  const core = {
    createNamespacedEvent: async (a: {
      body: { metadata: { name: string }; reason: string; count: number; message: string };
    }) => {
      log.push(`create ${a.body.reason} count=${a.body.count} ${a.body.message}`);
      await new Promise<void>((r) => held.push(r));
      const { name } = a.body.metadata;
      if (taken.has(name)) throw Object.assign(new Error('exists'), { code: 409 });
      if (failing.has(name)) throw Object.assign(new Error('unavailable'), { code: 500 });
      taken.add(name);
      return a.body;
    },
  } as unknown as CoreV1Api;
  /** Answers the creates sent so far (`rounds` times over, the ones they lead to as well). */
  const release = async (rounds = 10): Promise<void> => {
    for (let i = 0; i < rounds; i++) {
      const now = held;
      held = [];
      now.forEach((r) => r());
      for (let t = 0; t < 5; t++) await new Promise((r) => setImmediate(r));
    }
  };
  return { core, log, taken, failing, release };
}

const mapping = {
  metadata: { name: 'm', namespace: 'ns', uid: 'u1', resourceVersion: '1' },
} as unknown as Mapping;

/** Records `RotationDetected` number `n` (once key `d<n>`) through `recorder`. */
const detected = (recorder: EventRecorder, n: number): ReturnType<EventRecorder['record']> =>
  recorder.record(mapping, {
    type: 'Normal',
    reason: EventReason.RotationDetected,
    message: `r${n}`,
    once: `d${n}`,
  });

/** MAX_EVENT_WRITES writes of other series, taking every slot. */
const fillSlots = (recorder: EventRecorder): Promise<boolean>[] =>
  Array.from(
    { length: MAX_EVENT_WRITES },
    (_, i) =>
      recorder.record(mapping, {
        type: 'Normal',
        reason: EventReason.WorkloadRestarted,
        message: `w${i}`,
        workload: `w${i}`,
      }).recorded,
  );

test('EventRecorder: occurrences that wait for a slot are one Event per series, settled once written', async () => {
  const { core, log, release } = slowCore();
  const recorder = new EventRecorder(core, 'test', createLogger('error'));
  const first = detected(recorder, 1);
  assert.equal(first.waits, false);
  await release();
  assert.equal(await first.recorded, true);
  const others = fillSlots(recorder);
  const second = detected(recorder, 2);
  const third = detected(recorder, 3);
  assert.deepEqual([second.waits, third.waits], [true, true], 'the pass does not wait for them');
  assert.equal(await detected(recorder, 2).recorded, false, 'a retry of a waiting occurrence is known');
  await release();
  await Promise.all(others);
  await release();
  assert.deepEqual(await Promise.all([second.recorded, third.recorded]), [true, true]);
  assert.deepEqual(log.slice(-1), ['create RotationDetected count=2 r3']);
  assert.equal(await detected(recorder, 2).recorded, false, 'written: a retry is known');
  const next = detected(recorder, 4);
  assert.equal(next.waits, false, 'writes are few again: an Event of its own');
  await release();
  assert.equal(await next.recorded, true);
  assert.equal(log.at(-1), 'create RotationDetected count=1 r4');
});

test('EventRecorder: a 409 on the newest of a merged Event settles it false and writes the rest under the next name', async () => {
  const { core, log, taken, release } = slowCore();
  const recorder = new EventRecorder(core, 'test', createLogger('error'));
  // Another process wrote occurrence 3 already: learn its name by writing it with a throwaway recorder.
  const elsewhere = detected(new EventRecorder(core, 'test', createLogger('error')), 3);
  await release();
  await elsewhere.recorded;
  assert.equal(taken.size, 1);
  const others = fillSlots(recorder);
  const second = detected(recorder, 2);
  const third = detected(recorder, 3);
  await release();
  await Promise.all(others);
  await release();
  assert.deepEqual(await Promise.all([second.recorded, third.recorded]), [true, false]);
  assert.deepEqual(log.slice(-2), [
    'create RotationDetected count=2 r3',
    'create RotationDetected count=1 r2',
  ]);
});

test('EventRecorder: a failed write is logged and settles true, and a retry of it writes it again', async () => {
  const { core, log, taken, failing, release } = slowCore();
  const recorder = new EventRecorder(core, 'test', createLogger('error'));
  const probe = detected(new EventRecorder(core, 'test', createLogger('error')), 2);
  await release();
  await probe.recorded;
  const [name] = taken;
  taken.clear();
  failing.add(name);
  const attempt = detected(recorder, 2);
  await release();
  assert.equal(await attempt.recorded, true, 'a failed Event never fails the pass');
  failing.clear();
  const retry = detected(recorder, 2);
  assert.equal(retry.waits, false);
  await release();
  assert.equal(await retry.recorded, true);
  assert.deepEqual(log.slice(-2), [
    'create RotationDetected count=1 r2',
    'create RotationDetected count=1 r2',
  ]);
  assert.ok(taken.has(name), 'written on the retry');
});

test('EventRecorder: a retry while its merged Event is being written is known; one Event holds at most MAX_MERGED; flush waits for them', async () => {
  const { core, log, release } = slowCore();
  const recorder = new EventRecorder(core, 'test', createLogger('error'));
  const first = detected(recorder, 0);
  await release();
  await first.recorded;
  const others = fillSlots(recorder);
  const waiting = Array.from({ length: MAX_MERGED + 4 }, (_, i) => detected(recorder, i + 1));
  assert.ok(waiting.every((w) => w.waits));
  let flushed = false;
  const flush = recorder.flush(60_000).then(() => (flushed = true));
  // The slots free: the waiting occurrences go out, their Events' answers not yet in.
  await release(1);
  await Promise.all(others);
  assert.equal(await detected(recorder, 1).recorded, false, 'being written: a retry is known');
  assert.equal(flushed, false, 'flush waits for what is in flight');
  await release();
  assert.deepEqual(
    await Promise.all(waiting.map((w) => w.recorded)),
    waiting.map(() => true),
  );
  await flush;
  assert.deepEqual(log.slice(-2), [
    `create RotationDetected count=${MAX_MERGED} r${MAX_MERGED}`,
    `create RotationDetected count=4 r${MAX_MERGED + 4}`,
  ]);
});
