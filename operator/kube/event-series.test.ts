import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Mapping } from '../../resources/types.js';
import { createLogger } from '../runtime/logger.js';
import { MAX_EVENT_WRITES, join, writesNow, type Series } from './event-series.js';
import { EventRecorder, EventReason } from './events.js';

test('writesNow: a free write slot and nothing of its series waiting; join keeps the newest', () => {
  const s: Series = { onces: [], seenAt: 0 };
  assert.equal(writesNow(undefined, MAX_EVENT_WRITES - 1), true, 'a first occurrence, a slot free');
  assert.equal(writesNow(s, MAX_EVENT_WRITES), false, 'every slot taken: it waits');
  join(s, 'r2', new Date(2), 'd2');
  join(s, 'r3', new Date(3), 'd3');
  assert.deepEqual(s.waiting, { count: 2, first: new Date(2), message: 'r3', at: new Date(3), once: 'd3' });
  assert.equal(writesNow(s, 0), false, 'behind its own series: joins it, never overtakes it');
});

/** A CoreV1Api whose writes answer only when `release()` is called; `log` lists them as sent. */
function slowCore(): { core: CoreV1Api; log: string[]; release: () => Promise<void> } {
  const log: string[] = [];
  let held: (() => void)[] = [];
  const hold = (): Promise<void> => new Promise((r) => held.push(r));
  const core = {
    createNamespacedEvent: async (a: { body: { reason: string; count: number; message: string } }) => {
      log.push(`create ${a.body.reason} count=${a.body.count} ${a.body.message}`);
      await hold();
      return a.body;
    },
  } as unknown as CoreV1Api;
  const release = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) {
      const now = held;
      held = [];
      now.forEach((r) => r());
      await new Promise((r) => setImmediate(r));
    }
  };
  return { core, log, release };
}

const mapping = {
  metadata: { name: 'm', namespace: 'ns', uid: 'u1', resourceVersion: '1' },
} as unknown as Mapping;

test('EventRecorder: occurrences that wait for a write slot are merged per series, newest message last', async () => {
  const { core, log, release } = slowCore();
  const recorder = new EventRecorder(core, 'test', createLogger('error'));
  const detected = (n: number): Promise<boolean> =>
    recorder.record(mapping, {
      type: 'Normal',
      reason: EventReason.RotationDetected,
      message: `r${n}`,
      once: `d${n}`,
    });
  const first = detected(1);
  await release();
  assert.equal(await first, true);
  // Four other series take every write slot: the next two rotations wait, answered at once.
  const others = ['a', 'b', 'c', 'd'].map((w) =>
    recorder.record(mapping, {
      type: 'Normal',
      reason: EventReason.WorkloadRestarted,
      message: w,
      workload: w,
    }),
  );
  assert.equal(await detected(2), true, 'waits: recorded, without waiting for a write');
  assert.equal(await detected(3), true);
  assert.equal(await detected(2), false, 'a retry of a waiting occurrence is known to this process');
  await release();
  await Promise.all(others);
  await release();
  assert.deepEqual(log, [
    'create RotationDetected count=1 r1',
    'create WorkloadRestarted count=1 a',
    'create WorkloadRestarted count=1 b',
    'create WorkloadRestarted count=1 c',
    'create WorkloadRestarted count=1 d',
    'create RotationDetected count=2 r3',
  ]);
  // Writes are few again: the next occurrence is an Event of its own.
  const next = detected(4);
  await release();
  assert.equal(await next, true);
  assert.equal(log.at(-1), 'create RotationDetected count=1 r4');
});
