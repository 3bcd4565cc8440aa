import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { FINALIZER, MappingClient } from '../../operator/kube/mappings.js';
import { GROUP, PLURAL, VERSION, type Mapping, type MappingStatus } from '../../resources/types.js';
import { adminClients, kc } from '../harness.js';
import { benchScope, createMappings, stripAll } from './fixtures.js';
import { componentCpu, forEachLimit, now, progress } from './measure.js';

const RES = { group: GROUP, version: VERSION, plural: PLURAL };
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

/** The floor of a cold start: the writes every new mapping needs, without the operator. */
export interface WriteFloor {
  mappings: number;
  concurrency: number;
  ms: number;
  /** kube-apiserver and etcd CPU seconds during the floor's writes. */
  cpu: Record<string, number>;
  /** kube-apiserver CPU seconds per 1,000 mappings, by way of writing (see writers). */
  perThousand: Record<string, number>;
}

/** A status of the size and shape the operator writes for a mapping watching its secret. */
const statusOf = (m: Mapping, round: string): MappingStatus => ({
  observedGeneration: m.metadata.generation ?? 1,
  conditions: [
    {
      type: 'Ready',
      status: 'True',
      reason: 'WatchingSecret',
      message: `watching secret ${m.spec.secretId} (${round})`,
      lastTransitionTime: new Date().toISOString(),
      observedGeneration: m.metadata.generation ?? 1,
    },
  ],
});

type Write = (m: Mapping) => Promise<Mapping>;

/**
 * The ways a finalizer and a status can be written, each conditioned on the resourceVersion read:
 * the operator's own (its MappingClient: finalizer merge patch, status server-side apply) and the
 * alternatives (a JSON patch testing the resourceVersion; a status merge patch carrying it).
 */
async function writers(round: string): Promise<Record<string, Write>> {
  const { custom } = await adminClients();
  const operator = new MappingClient(custom, 'bench-floor');
  const target = (m: Mapping) => ({ ...RES, namespace: m.metadata.namespace ?? '', name: m.metadata.name });
  const rv = (m: Mapping) => m.metadata.resourceVersion;
  return {
    'finalizer merge patch': async (m) => (await operator.setFinalizer(m, true)) as Mapping,
    'finalizer JSON patch': async (m) =>
      (await custom.patchNamespacedCustomObject(
        {
          ...target(m),
          body: [
            { op: 'test', path: '/metadata/resourceVersion', value: rv(m) },
            { op: 'add', path: '/metadata/finalizers', value: [FINALIZER] },
          ],
        },
        JSON_PATCH,
      )) as Mapping,
    'status server-side apply': (m) => operator.applyStatus(m, statusOf(m, round)),
    'status merge patch': async (m) =>
      (await custom.patchNamespacedCustomObjectStatus(
        { ...target(m), body: { metadata: { resourceVersion: rv(m) }, status: statusOf(m, round) } },
        MERGE,
      )) as Mapping,
  };
}

async function listMappings(namespace: string): Promise<Mapping[]> {
  const { custom } = await adminClients();
  return ((await custom.listNamespacedCustomObject({ ...RES, namespace })) as { items: Mapping[] }).items;
}

/** Runs `writes` in order on each mapping (each on the object the previous one answered). */
async function timed(
  items: Mapping[],
  concurrency: number,
  writes: Write[],
): Promise<{ ms: number; cpu: Record<string, number> }> {
  const cpu = componentCpu();
  const t0 = now();
  await forEachLimit(items, concurrency, async (m) => {
    let current = m;
    for (const write of writes) current = await write(current);
  });
  return { ms: now() - t0, cpu: cpu.used() };
}

/**
 * The floor: `n` new mappings (a namespace of their own, no operator) get what a cold start writes —
 * the finalizer by merge patch, then the status by server-side apply, both conditioned on the
 * resourceVersion, as the operator writes them — `concurrency` at a time (MAX_CONCURRENT_RECONCILES).
 * Then each way of writing alone on `sample` mappings: kube-apiserver CPU-seconds per 1,000.
 */
export async function writeFloor(
  n: number,
  concurrency: number,
  sample: number,
): Promise<{ floor: WriteFloor; cleanup: () => Promise<void> }> {
  const sc = await benchScope('bench-floor');
  progress(`floor: ${n} mappings written as a cold start writes them, ${concurrency} at a time`);
  await createMappings(
    sc.namespace,
    Array.from({ length: n }, (_, i) => ({
      secretId: `floor-${i}`,
      workloads: [{ kind: 'Deployment', name: 'x' }],
    })),
  );
  const all = await listMappings(sc.namespace);
  const w = await writers('cold');
  const floor = await timed(all, concurrency, [w['finalizer merge patch'], w['status server-side apply']]);
  // Fresh objects for each finalizer way (a finalizer is added once); statuses rewritten with new content.
  const fresh = await benchScope('bench-floor-ways');
  await createMappings(
    fresh.namespace,
    Array.from({ length: 2 * sample }, (_, i) => ({
      secretId: `way-${i}`,
      workloads: [{ kind: 'Deployment', name: 'x' }],
    })),
  );
  const listed = await listMappings(fresh.namespace);
  const [a, b] = [listed.slice(0, sample), listed.slice(sample)];
  const perThousand: Record<string, number> = {};
  const cost = async (name: string, items: Mapping[], round: string): Promise<void> => {
    const write = (await writers(round))[name];
    const r = await timed(items, concurrency, [write]);
    perThousand[name] = ((r.cpu['kube-apiserver'] ?? 0) * 1000) / items.length;
  };
  await cost('finalizer merge patch', a, 'a');
  await cost('finalizer JSON patch', b, 'b');
  // Listed again before each: the writes before changed every resourceVersion the precondition carries.
  const again = async (): Promise<Mapping[]> => (await listMappings(fresh.namespace)).slice(0, sample);
  await cost('status server-side apply', await again(), 'c');
  await cost('status merge patch', await again(), 'd');
  // Removed after the phase: a namespace being deleted keeps kube-controller-manager busy.
  const cleanup = async (): Promise<void> => {
    for (const ns of [sc.namespace, fresh.namespace]) {
      await stripAll(ns);
      await kc(['delete', 'namespace', ns, '--wait=false']);
    }
  };
  return { floor: { mappings: n, concurrency, ms: floor.ms, cpu: floor.cpu, perThousand }, cleanup };
}
