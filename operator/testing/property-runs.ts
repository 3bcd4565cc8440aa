/**
 * fast-check parameters for the property tests (`*.property.test.ts`), not used by the operator.
 * Every property runs with a fixed seed, so `npm test` checks the same cases on every run and a
 * failure there reproduces; the run counts keep each property file within a few seconds on the
 * 2-core machine. For a longer local search, PROPERTY_RUNS=<factor> multiplies every property's runs
 * and PROPERTY_SEED=<n> moves every seed (a counterexample found so is kept as an ordinary test).
 */
import type { Parameters } from 'fast-check';

const factor = Number(process.env.PROPERTY_RUNS ?? 1);
const seedShift = Number(process.env.PROPERTY_SEED ?? 0);

/** The parameters of one property: its seed and its default number of runs, scaled by the environment. */
export function runs<T>(seed: number, numRuns: number): Parameters<T> {
  const scale = Number.isFinite(factor) && factor > 0 ? factor : 1;
  return {
    seed: seed + (Number.isInteger(seedShift) ? seedShift : 0),
    numRuns: Math.max(1, Math.round(numRuns * scale)),
  };
}
