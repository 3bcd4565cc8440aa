import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Mapping, MappingStatus } from '../../resources/types.js';
import { createLogger } from '../runtime/logger.js';
import { EventReason, PassContext, type PassDeps } from './pass.js';

const STATUS: MappingStatus = { currentVersionId: 'v1', matchedWorkloads: 1 };

/** A pass over a mapping whose status is `status`, recording in `log` the writes it makes, in order. */
function pass(status: MappingStatus, log: string[], more: Partial<PassDeps> = {}): PassContext {
  const m = {
    apiVersion: 'secretsrotation.io/v1alpha1',
    kind: 'SecretsRotationMapping',
    metadata: { name: 'm', namespace: 'ns', resourceVersion: '1' },
    spec: { secretId: 'db', selector: { matchLabels: { app: 'web' } } },
    status,
  } as Mapping;
  const deps = {
    startWriting: () => {
      log.push('startWriting');
      return Promise.resolve();
    },
    recorder: {
      record: (_m: Mapping, e: { reason: string }) => {
        log.push(`event ${e.reason}`);
        return { waits: false, recorded: Promise.resolve(true) };
      },
    },
    mappingWriter: {
      applyStatus: (written: Mapping, s: MappingStatus) => {
        log.push('status');
        return Promise.resolve({ ...written, status: s });
      },
    },
    mappings: { observe: () => undefined },
    ...more,
  } as unknown as PassDeps;
  return new PassContext(m, deps, createLogger('error'));
}

test('a pass gives up its worker before its first Event, and the Event is written before the status', async () => {
  const log: string[] = [];
  const ctx = pass({}, log);
  await ctx.event('Normal', EventReason.WorkloadRestarted, 'Deployment/web restarted for db@v1');
  assert.deepEqual(log, [], 'an Event is only collected until the pass writes');
  await ctx.write(STATUS);
  assert.deepEqual(log, ['startWriting', 'event WorkloadRestarted', 'status']);
});

test('a pass that writes nothing keeps its worker to the end', async () => {
  const log: string[] = [];
  const ctx = pass(STATUS, log);
  await ctx.write(STATUS);
  await ctx.flushEvents();
  assert.deepEqual(log, [], 'the same status and no Event: no write, no writing slot');
});

test('a status write alone asks for a writing slot first', async () => {
  const log: string[] = [];
  await pass({}, log).write(STATUS);
  assert.deepEqual(log, ['startWriting', 'status']);
});

test('an Event that waits for a write slot does not hold the status; an Event about something once is notified only once written', async () => {
  const log: string[] = [];
  const notified: string[] = [];
  const settles: ((isNew: boolean) => void)[] = [];
  const ctx = pass({}, log, {
    recorder: {
      record: (_m: Mapping, e: { reason: string }) => {
        log.push(`event ${e.reason}`);
        return { waits: true, recorded: new Promise<boolean>((r) => settles.push(r)) };
      },
    } as unknown as PassDeps['recorder'],
    notify: (n) => notified.push(n.reason),
  });
  await ctx.event('Normal', EventReason.RolloutComplete, 'Deployment/web rolled out', { once: 'a' });
  await ctx.event('Normal', EventReason.RolloutComplete, 'Deployment/api rolled out', { once: 'b' });
  await ctx.write(STATUS);
  assert.deepEqual(log, ['startWriting', 'event RolloutComplete', 'event RolloutComplete', 'status']);
  assert.deepEqual(notified, [], 'not written yet: not notified');
  settles[0](true);
  settles[1](false);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    notified,
    ['RolloutComplete'],
    'the one found written already (409) is not notified again',
  );
});
