import assert from 'node:assert/strict';
import { FAULT_CLASSES, REQUEST_KINDS } from './kit/wire-faults.js';
import { applied, deleteMapping, reasons, restarts, wiredOperator } from './kit/wired-operator.js';
import { e2eTest, waitFor } from './harness.js';
import { applyMapping, getMapping, waitReason } from './mapping-helpers.js';
import { createWorkload, templateState } from './workloads-fixtures.js';

// A seeded search on the operator's wire (e2e/kit/fault-relay.ts): every request kind, every fault
// class, at random; the invariants are checked after the run. A seed that fails stays in SEEDS.

/** WIRE_SEED re-runs the fixed-seed cases below with another seed (a search: `WIRE_SEED=7 … wire-search.test.js`). */
const seedOr = (fixed: number): number => Number(process.env.WIRE_SEED ?? fixed);

e2eTest(
  'watches cut mid-event and events delivered twice: a workload and a mapping created meanwhile are seen, each rotation restarts each workload once, a deleted mapping lets go',
  async (scope) => {
    const w = await wiredOperator(scope, ['a', 'b'], { seed: seedOr(61) });
    w.kube.inject({ kinds: ['watch'], faults: ['cut-watch', 'duplicate'], delayMs: [300, 3000] });
    // The watches open now started before the rule: they end, and the next ones meet it.
    w.kube.cutWatches();
    const v2 = await w.rotate();
    await applied(w, ['a', 'b'], v2);
    await createWorkload({ kind: 'Deployment', namespace: w.ns, name: 'c' }, { app: 'c' }, { replicas: 1 });
    await applyMapping(w.ns, 'n', { secretId: w.name, workloads: [{ kind: 'Deployment', name: 'c' }] });
    await waitReason(w.ns, 'n', 'WatchingSecret', 60_000);
    const v3 = await w.rotate();
    await applied(w, ['a', 'b'], v3);
    await waitFor(
      'c restarted for the rotation after its mapping came',
      async () => (await templateState('Deployment', w.ns, 'c')).stamp === `${w.name}@${v3}`,
      60_000,
    );
    await deleteMapping(w, 'n');
    const cuts = w.kube.injected.filter((f) => f.fault === 'cut-watch').length;
    const doubled = w.kube.injected.filter((f) => f.fault === 'duplicate').length;
    assert.ok(cuts >= 3 && doubled >= 3, `watches cut ${cuts}, doubled ${doubled}`);
    assert.deepEqual(await restarts(w.ns, ['a', 'b', 'c']), { a: 2, b: 2, c: 1 });
  },
);

e2eTest(
  'watches cut mid-event six times in a row: resumed after 1, 2, 3, 3, 3, 3 s (not 1+2+4+8+16 s); a workload created meanwhile is found within 25 s',
  async (scope) => {
    const w = await wiredOperator(scope, ['a'], { seed: seedOr(81) });
    // Each Deployments watch is cut in the middle of the first event it carries (never on a timer),
    // so the resumed watch replays that event first and is cut again: no whole event gets through.
    w.kube.inject({
      kinds: ['watch'],
      faults: ['cut-watch'],
      delayMs: [600_000, 600_000],
      times: 6,
      match: (r) => r.url.includes('/deployments?'),
    });
    w.kube.cutWatches();
    const started = Date.now();
    await createWorkload({ kind: 'Deployment', namespace: w.ns, name: 'c' }, { app: 'c' }, { replicas: 1 });
    await applyMapping(w.ns, 'n', { secretId: w.name, workloads: [{ kind: 'Deployment', name: 'c' }] });
    // Once the short-watch backoff doubled to 30 s on each cut: c was found after 1+2+4+8+16 s at
    // the least (31 s), often a minute. A flat 1 s found it in ~7–8 s (12 s under CPU load) but let a
    // proxy that always cuts ask once a second for ever; the cut ladder, capped at 3 s, waits 15 s
    // for six cuts: ~16–17 s, about 21 s under that load. A cap of 4 s (19 s) would not fit in 25 s.
    await waitReason(w.ns, 'n', 'WatchingSecret', 25_000);
    const cuts = w.kube.injected.filter((f) => f.fault === 'cut-watch').length;
    console.log(`c found after ${Date.now() - started} ms; Deployments watches cut ${cuts}`);
    assert.equal(cuts, 6, 'c was found only once every cut was spent (none lets a whole event through)');
  },
);

for (const fault of ['timeout-before', 'stall-watch'] as const)
  e2eTest(
    `watches ${fault === 'timeout-before' ? 'the API server never answers' : 'answered, then silent for good'} (a black-holed connection): the operator gives up on them and watches again; a workload listed meanwhile is restarted`,
    async (scope) => {
      const w = await wiredOperator(scope, ['a'], { seed: 71, env: { WATCH_TIMEOUT: '8s' } });
      // For 20 s, every watch the operator starts is held; the ones it has are ended now.
      const until = Date.now() + 20_000;
      w.kube.inject({
        kinds: ['watch'],
        faults: [fault],
        delayMs: [600_000, 600_000],
        match: () => Date.now() < until,
      });
      assert.ok(w.kube.cutWatches() >= 2, 'the operator had watches open');
      await waitFor('watches held', () => Promise.resolve(w.kube.injected.length >= 2), 30_000);
      await createWorkload({ kind: 'Deployment', namespace: w.ns, name: 'z' }, { app: 'z' }, { replicas: 1 });
      await applyMapping(w.ns, 'm', {
        secretId: w.name,
        workloads: ['a', 'z'].map((name) => ({ kind: 'Deployment' as const, name })),
      });
      // The edit reaches the operator only through a watch that works again.
      await waitFor(
        'the mapping’s status lists z, found',
        async () =>
          (await getMapping(w.ns, 'm')).status?.workloads?.some(
            (x) => x.name === 'z' && x.state !== 'Missing',
          ),
        90_000,
      );
      const v2 = await w.rotate();
      await applied(w, ['a', 'z'], v2);
      assert.deepEqual(await restarts(w.ns, ['a', 'z']), { a: 1, z: 1 });
    },
  );

e2eTest(
  'watches a proxy ends as soon as they start: resumed after a backoff, not in a tight loop; the operator still follows its mappings',
  async (scope) => {
    const w = await wiredOperator(scope, ['a'], { seed: 91 });
    const before = w.kube.seen.get('watch') ?? 0;
    w.kube.inject({ kinds: ['watch'], faults: ['cut-watch'], delayMs: [0, 0] });
    const cut = w.kube.cutWatches();
    await waitFor('watches cut again', () => Promise.resolve(w.kube.injected.length >= cut * 2), 30_000);
    const from = w.kube.seen.get('watch') ?? 0;
    const started = Date.now();
    await waitFor('8 s of cut watches', () => Promise.resolve(Date.now() - started >= 8000), 20_000);
    const perSecond = ((w.kube.seen.get('watch') ?? 0) - from) / ((Date.now() - started) / 1000);
    w.kube.clear();
    // With backoff (1 s, doubling) each of the `cut` watches starts at most ~3 times in those 8 s.
    assert.ok(perSecond <= cut, `watch requests per second: ${perSecond.toFixed(1)} for ${cut} watches`);
    assert.ok(from > before, 'the watches were started again');
    const v2 = await w.rotate();
    await applied(w, ['a'], v2, 90_000);
  },
);

/** Seeds of the search; a seed that found a defect stays here, with the commit that fixed it. */
const SEEDS = [101, 202];

for (const seed of SEEDS)
  e2eTest(
    `seeded wire faults, seed ${seed}: every request kind and fault class at random, five rotations: each workload restarted exactly once per version, never twice, none missed`,
    async (scope) => {
      const names = ['a', 'b', 'c'];
      const w = await wiredOperator(scope, names, { seed, replicas: 2 });
      const rule = {
        kinds: REQUEST_KINDS,
        faults: FAULT_CLASSES,
        probability: 0.15,
        delayMs: [300, 5000] as [number, number],
      };
      for (const kube of w.kubes) kube.inject(rule);
      w.aws.inject(rule);
      const versions: string[] = [];
      for (let i = 0; i < 5; i++) {
        versions.push(await w.rotate());
        await applied(w, names, versions[i], 180_000);
      }
      // The faults stop; one more rotation must go through cleanly and be recorded.
      for (const relay of [...w.kubes, w.aws]) relay.clear();
      versions.push(await w.rotate());
      await applied(w, names, versions[5]);
      const injected = [...w.kubes, w.aws].flatMap((r) => r.injected);
      const classes = new Set(injected.map((f) => f.fault));
      console.log(`seed ${seed}: ${injected.length} faults; ${[...classes].sort().join(', ')}`);
      assert.ok(classes.size >= 6, `at least six fault classes met: ${[...classes].join()}`);
      assert.deepEqual(await restarts(w.ns, names), { a: 6, b: 6, c: 6 });
      const restarted = await reasons(w.ns, 'WorkloadRestarted');
      for (const n of names)
        for (const v of versions)
          assert.ok(
            restarted.filter((m) => m.includes(`Deployment/${n} `) && m.includes(v)).length <= 1,
            `at most one WorkloadRestarted for ${n} at ${v}`,
          );
    },
  );
