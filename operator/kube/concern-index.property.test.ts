import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { WORKLOAD_KINDS, type LabelSelector, type MappingSpec } from '../../resources/types.js';
import { runs } from '../testing/property-runs.js';
import { ConcernIndex } from './concern-index.js';
import type { PodTemplateUses } from './consumption.js';
import { concerns } from './wakeups.js';
import type { WorkloadInfo } from './workload-cache.js';

/**
 * The index against the scan it replaces: after any sequence of mappings set, changed, deleted and
 * given carriers, every workload's concerned mappings are exactly those of its namespace for which
 * `concerns` holds. Small alphabets, so that labels, names and carriers collide often.
 */

const small = (prefix: string): fc.Arbitrary<string> =>
  fc.constantFrom(...[0, 1, 2].map((i) => `${prefix}${i}`));
const kind = fc.constantFrom(...WORKLOAD_KINDS);
const namespace = small('ns');
const names = fc.uniqueArray(small('n'), { maxLength: 3 });

const selector: fc.Arbitrary<LabelSelector> = fc.record(
  {
    matchLabels: fc.dictionary(small('k'), small('v'), { maxKeys: 2 }),
    matchExpressions: fc.array(
      fc.oneof(
        fc.record({
          key: small('k'),
          operator: fc.constantFrom('In' as const, 'NotIn' as const),
          values: fc.array(small('v'), { maxLength: 3 }),
        }),
        fc.record({ key: small('k'), operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const) }),
      ),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: [] },
);

const spec: fc.Arbitrary<MappingSpec> = fc.record(
  {
    secretId: fc.constant('s'),
    selector,
    workloads: fc.array(fc.record({ kind, name: small('w') }), { maxLength: 2 }),
    kinds: fc.uniqueArray(kind, { maxLength: 4 }),
    discover: fc.boolean(),
  },
  { requiredKeys: ['secretId'] },
);

const uses: fc.Arbitrary<PodTemplateUses> = fc.record({ secrets: names, providerClasses: names });

const workload: fc.Arbitrary<WorkloadInfo> = fc
  .record({
    kind,
    namespace,
    name: small('w'),
    labels: fc.dictionary(small('k'), small('v'), { maxKeys: 3 }),
    uses,
  })
  .map((w) => ({ ...w, key: `${w.namespace}/${w.kind}/${w.name}`, resourceVersion: '1', rollout: {} }));

type Op =
  | { op: 'set'; ns: string; name: string; spec: MappingSpec }
  | { op: 'delete'; ns: string; name: string }
  | { op: 'carried'; ns: string; name: string; carried: PodTemplateUses };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('set' as const), ns: namespace, name: small('m'), spec }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('delete' as const), ns: namespace, name: small('m') }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('carried' as const),
      ns: namespace,
      name: small('m'),
      carried: uses,
    }),
  },
);

/** The model: what the operator kept before the index, scanned in full. */
interface Model {
  specs: Map<string, { ns: string; spec: MappingSpec }>;
  carried: Map<string, PodTemplateUses>;
}

function apply(ix: ConcernIndex, model: Model, o: Op): void {
  const key = `${o.ns}/${o.name}`;
  if (o.op === 'set') {
    ix.set(key, o.ns, o.spec);
    model.specs.set(key, { ns: o.ns, spec: o.spec });
  } else if (o.op === 'delete') {
    ix.delete(key);
    model.specs.delete(key);
    model.carried.delete(key);
  } else if (model.specs.has(key)) {
    ix.setCarried(key, o.carried);
    model.carried.set(key, o.carried);
  } else ix.setCarried(key, o.carried);
}

const scan = (model: Model, w: WorkloadInfo): string[] =>
  [...model.specs]
    .filter(([key, m]) => m.ns === w.namespace && concerns(m.spec, w, model.carried.get(key)))
    .map(([key]) => key)
    .sort();

test('property: the index finds exactly the mappings the scan of the namespace finds', () => {
  fc.assert(
    fc.property(
      fc.array(op, { maxLength: 40 }),
      fc.array(workload, { minLength: 1, maxLength: 20 }),
      (ops, workloads) => {
        const ix = new ConcernIndex();
        const model: Model = { specs: new Map(), carried: new Map() };
        // Workloads are asked after every few operations, not only at the end: stale terms show at once.
        for (const [i, o] of ops.entries()) {
          apply(ix, model, o);
          const w = workloads[i % workloads.length];
          assert.deepEqual(
            [...ix.concerned(w)].sort(),
            scan(model, w),
            JSON.stringify({ ops: ops.slice(0, i + 1), w }),
          );
        }
        for (const w of workloads) assert.deepEqual([...ix.concerned(w)].sort(), scan(model, w));
        assert.equal(ix.size, model.specs.size);
      },
    ),
    runs(3301, 600),
  );
});
