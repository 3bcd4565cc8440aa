import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bundle`: dist/operator.mjs, the one file the image runs, from the compiled dist/operator;
 * and dist/kubectl-secretsrotation.mjs, the kubectl plugin (operator/cli), one file too.
 * Identifiers are kept (stack traces name their functions, and it measured 8 MiB less RSS than
 * minified identifiers); whitespace and syntax are minified; the map is written beside it; three
 * dependencies' imports resolve to smaller modules (STAND_INS).
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '..', '..');

/**
 * Dependencies' imports resolved to a smaller module of ours, each for one importing package: the
 * code they load is never run (each stand-in's comment says why, and a unit test checks it).
 */
const STAND_INS: { module: string; importer: string; standIn: string }[] = [
  // A CommonJS require takes all of client-node; the subset names what @dot-i/k8s-operator uses.
  { module: '@kubernetes/client-node', importer: '@dot-i/k8s-operator', standIn: 'client-node-subset.js' },
  { module: 'whatwg-url', importer: 'node-fetch', standIn: 'whatwg-url-standin.js' },
  { module: 'isomorphic-ws', importer: '@kubernetes/client-node', standIn: 'ws-standin.js' },
];

const inPackage = (file: string, pkg: string): boolean =>
  file.includes(`${path.sep}node_modules${path.sep}${pkg.split('/').join(path.sep)}${path.sep}`);

const standIns: esbuild.Plugin = {
  name: 'stand-ins',
  setup(build) {
    for (const s of STAND_INS) {
      const filter = new RegExp(`^${s.module.replace(/[/.]/g, '\\$&')}$`);
      build.onResolve({ filter }, (args) =>
        inPackage(args.importer, s.importer) ? { path: path.join(here, s.standIn) } : undefined,
      );
    }
  },
};

/** What both bundles share: one ESM file for Node, identifiers kept, the map beside it. */
const common: esbuild.BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: true,
  logLevel: 'warning',
  plugins: [standIns],
};

// Bundled CommonJS dependencies call require(): ESM has none of its own.
const REQUIRE = "import{createRequire}from'node:module';const require=createRequire(import.meta.url);";

const pkg = JSON.parse(fs.readFileSync(path.join(dist, '..', 'package.json'), 'utf8')) as { version: string };

await Promise.all([
  esbuild.build({
    ...common,
    entryPoints: [path.join(dist, 'operator', 'main.js')],
    outfile: path.join(dist, 'operator.mjs'),
    banner: { js: REQUIRE },
  }),
  // The kubectl plugin (operator/cli): an executable file kubectl finds on the PATH by its name.
  esbuild.build({
    ...common,
    entryPoints: [path.join(dist, 'operator', 'cli', 'main.js')],
    outfile: path.join(dist, 'kubectl-secretsrotation.mjs'),
    banner: { js: `#!/usr/bin/env node\n${REQUIRE}` },
    define: { 'process.env.SRO_PLUGIN_VERSION': JSON.stringify(pkg.version) },
  }),
]);
fs.chmodSync(path.join(dist, 'kubectl-secretsrotation.mjs'), 0o755);
