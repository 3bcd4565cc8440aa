import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../env/paths.js';
import type { ScaleResult } from './scale.js';
import { scaleCurve } from './scale-curve.js';
import { benchFigures, writeFigures } from './write-figures.js';

/*
 * `npm run bench:scale-curve -- <results.json>…`: the scale curve through the scale phases of several
 * committed runs (one mapping count each: `BENCH_PHASES=scale BENCH_SCALE_MAPPINGS=…`), written as a
 * results JSON of its own (`<date>-scale-curve.json`, its `scaleCurve` points and the runs they come
 * from) with its figure beside it; `npm run plots` copies the figure to docs/img/.
 */

interface Run {
  date: string;
  machine: unknown;
  scale?: ScaleResult;
}

function main(files: string[]): void {
  if (!files.length) throw new Error('usage: scale-curve-cli <results.json>… (runs with a scale phase)');
  const runs = files.map((f) => ({ file: f, run: JSON.parse(fs.readFileSync(f, 'utf8')) as Run }));
  const missing = runs.filter((r) => !r.run.scale).map((r) => r.file);
  if (missing.length) throw new Error(`no scale phase in ${missing.join(', ')}`);
  const date = new Date().toISOString();
  const out = {
    date,
    quick: false,
    sources: runs.map((r) => ({
      file: path.relative(repoRoot, path.resolve(r.file)),
      date: r.run.date,
      mappings: r.run.scale?.mappings,
      machine: r.run.machine,
    })),
    scaleCurve: scaleCurve(runs.map((r) => r.run.scale as ScaleResult)),
  };
  const file = path.join(
    repoRoot,
    'e2e',
    'bench',
    'results',
    `${date.replace(/[:.]/g, '-')}-scale-curve.json`,
  );
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`written: ${path.relative(repoRoot, file)}`);
  for (const svg of Object.values(writeFigures(benchFigures(out), file)))
    console.log(`written: ${path.relative(repoRoot, svg)}`);
}

main(process.argv.slice(2));
