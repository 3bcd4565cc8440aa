import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../env/paths.js';
import { benchFigures, chaosFigures, writeFigures } from './write-figures.js';

/*
 * `npm run plots`: the figures again from the newest committed results — bench (e2e/bench/results/)
 * and chaos (e2e/chaos/results/) — written beside their JSON and copied to docs/img/, where
 * docs/performance.md and docs/failure-semantics.md show them. For each figure the newest full run
 * that has its data is taken (a quick run only when no full run has it).
 */

/** Committed JSON files of `dir`, newest first (their names start with the run's date), full runs before quick ones. */
function committed(dir: string): string[] {
  let files: string[];
  try {
    files = execFileSync('git', ['ls-files', '--', `${dir}/*.json`], { cwd: repoRoot, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
  } catch {
    // Not a git checkout (a tarball): every file there.
    files = fs
      .readdirSync(path.join(repoRoot, dir))
      .filter((f) => f.endsWith('.json'))
      .map((f) => `${dir}/${f}`);
  }
  const quick = (f: string): number => (/-quick/.test(path.basename(f)) ? 1 : 0);
  // A study (BENCH_RATES, BENCH_OPERATOR_ENV) changed what the figures show: never drawn from.
  return files
    .filter((f) => !/-study/.test(path.basename(f)))
    .sort((a, b) => quick(a) - quick(b) || b.localeCompare(a));
}

/** For each figure name, the first (preferred) results file that has it, and the figure. */
function newest(
  files: string[],
  figuresOf: (json: unknown) => Record<string, string>,
): Map<string, { file: string; svg: string }> {
  const chosen = new Map<string, { file: string; svg: string }>();
  for (const file of files) {
    const json: unknown = JSON.parse(fs.readFileSync(path.join(repoRoot, file), 'utf8'));
    for (const [name, svg] of Object.entries(figuresOf(json)))
      if (!chosen.has(name)) chosen.set(name, { file, svg });
  }
  return chosen;
}

function main(): void {
  const img = path.join(repoRoot, 'docs', 'img');
  fs.mkdirSync(img, { recursive: true });
  const sets = [
    { prefix: 'bench', dir: 'e2e/bench/results', names: ['latency', 'memory', 'scale'], of: benchFigures },
    { prefix: 'chaos', dir: 'e2e/chaos/results', names: ['timeline'], of: chaosFigures },
  ] as const;
  for (const set of sets) {
    const chosen = newest(committed(set.dir), (j) => set.of(j as never));
    for (const name of set.names) {
      const c = chosen.get(name);
      if (!c) {
        console.log(`${set.prefix} ${name}: no committed results record it yet`);
        continue;
      }
      const [beside] = Object.values(writeFigures({ [name]: c.svg }, path.join(repoRoot, c.file)));
      fs.writeFileSync(path.join(img, `${set.prefix}-${name}.svg`), c.svg);
      console.log(
        `${set.prefix} ${name}: ${c.file} → ${path.relative(repoRoot, beside)}, docs/img/${set.prefix}-${name}.svg`,
      );
    }
  }
}

main();
