import assert from 'node:assert/strict';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { EventRecorder, EventReason } from '../operator/kube/events.js';
import { withSharedAgents } from '../operator/kube/kube.js';
import { createLogger } from '../operator/runtime/logger.js';
import { MAX_EVENT_WRITES } from '../operator/kube/event-series.js';
import { adminClients, e2eTest, installCrd, operatorKubeconfig } from './harness.js';
import { applyMapping, getMapping, mappingEvents } from './mapping-helpers.js';

interface Seen {
  name: string;
  reason: string;
  count: number;
  message: string;
}

async function events(ns: string): Promise<Seen[]> {
  const { core } = await adminClients();
  const list = await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=m' });
  return list.items.map((e) => ({
    name: e.metadata?.name ?? '',
    reason: e.reason ?? '',
    count: e.count ?? 0,
    message: e.message ?? '',
  }));
}

e2eTest(
  'Event series: occurrences that wait for a write slot are merged per series into one Event as the operator’s ServiceAccount; a retry is not counted, by this process or (the newest) by another',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    await applyMapping(ns, 'm', { secretId: 'db', workloads: [{ kind: 'Deployment', name: 'web' }] });
    const mapping = await getMapping(ns, 'm');
    const kc = new KubeConfig();
    kc.loadFromFile(await operatorKubeconfig(scope));
    const core = withSharedAgents(kc).makeApiClient(CoreV1Api);
    const recorder = new EventRecorder(core, 'e2e', createLogger('warn'));
    const detected = (n: number, by = recorder): ReturnType<EventRecorder['record']> =>
      by.record(mapping, {
        type: 'Normal',
        reason: EventReason.RotationDetected,
        message: `rotation ${n}`,
        once: `detected/${n}`,
      });

    assert.equal(await detected(1).recorded, true);
    // Other series taking every write slot: Event writes back up.
    const busy = Array.from(
      { length: MAX_EVENT_WRITES },
      (_, i) =>
        recorder.record(mapping, {
          type: 'Normal',
          reason: EventReason.WorkloadRestarted,
          message: `Deployment/w${i} restarted`,
          workload: `Deployment/w${i}`,
        }).recorded,
    );
    const second = detected(2);
    const third = detected(3);
    assert.deepEqual([second.waits, third.waits], [true, true], 'they wait: a pass does not wait for them');
    assert.equal(
      await detected(3).recorded,
      false,
      'a retry of a waiting occurrence (a lost status answer) is not counted',
    );
    assert.ok((await Promise.all(busy)).every(Boolean));
    assert.deepEqual(
      await Promise.all([second.recorded, third.recorded]),
      [true, true],
      'settled once written',
    );
    const rotation = (await events(ns)).filter((e) => e.reason === 'RotationDetected');
    const merged = rotation.find((e) => e.count === 2);
    assert.equal(rotation.length, 2, 'occurrence 1 alone, 2 and 3 as one Event');
    assert.equal(merged?.message, 'rotation 3', 'the newest occurrence’s message');
    assert.equal((await events(ns)).filter((e) => e.reason === 'WorkloadRestarted').length, MAX_EVENT_WRITES);
    assert.equal(
      (await mappingEvents(ns, 'm')).filter((e) => e.reason === 'RotationDetected').length,
      3,
      'the tests’ reading of Events counts every occurrence',
    );
    // Another process (a new leader) retrying the newest merged occurrence finds its Event (409).
    const successor = new EventRecorder(core, 'e2e', createLogger('warn'));
    assert.equal(await detected(3, successor).recorded, false);
    // Writes are few again: every occurrence is an Event of its own, as before series.
    assert.equal(await detected(4).recorded, true);
    const own = (await events(ns)).filter((e) => e.reason === 'RotationDetected');
    assert.deepEqual(own.map((e) => e.count).sort(), [1, 1, 2]);
  },
);
