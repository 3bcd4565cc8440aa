import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './env/paths.js';

const read = (f: string): string => fs.readFileSync(path.join(repoRoot, f), 'utf8');

/** The Dockerfile rules of the ship issue, checked by reading it (no hadolint in our registries). */
test('Dockerfile: multi-stage, Node LTS pinned by digest, node and the bundle alone in the final stage, non-root', () => {
  const df = read('Dockerfile');
  const stages = [...df.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)].map((m) => m[1]);
  assert.ok(stages.length >= 2, 'multi-stage');
  assert.deepEqual(
    stages.filter((image) => image !== 'scratch'),
    stages.slice(0, -1).map(() => '${NODE_IMAGE}'),
    'every build stage from the one pinned base',
  );
  const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(df)?.[1] ?? '';
  const m = /^node:(\d+)\.\d+\.\d+(-[a-z0-9.-]+)?@sha256:[a-f0-9]{64}$/.exec(base);
  assert.ok(m, `base image ${base} pinned to an exact version and digest`);
  assert.equal(Number(m[1]) % 2, 0, `${base} is an LTS line (even major)`);
  assert.ok(Number(m[1]) >= 22, `${base} is a current LTS`);
  assert.equal(stages.at(-1), 'scratch', 'the final stage holds only what is copied into it');
  assert.match(df, /RUN npm run build/, 'the image runs what the tests run: the bundle npm run build makes');
  const final = df.slice(df.lastIndexOf('\nFROM '));
  assert.doesNotMatch(final, /COPY\s+(operator|e2e|resources)\//, 'no TypeScript sources in the final stage');
  assert.doesNotMatch(
    final,
    /node_modules|npm /,
    'no node_modules in the final stage: the bundle is self-contained',
  );
  assert.match(final, /COPY --from=build \/src\/dist\/operator\.mjs .*\/src\/dist\/sbom\.cdx\.json/);
  assert.match(df, /RUN npm sbom --omit=dev --sbom-format=cyclonedx/, 'an SBOM of the bundled dependencies');
  // The flags npm run bench measures the operator with (bench/fixtures.ts imageNodeFlags).
  assert.match(final, /ENTRYPOINT \["node", "--max-semi-space-size=1", "operator\.mjs"\]/);
  const user = /^USER\s+(\S+)/m.exec(final)?.[1] ?? '';
  assert.ok(user && !/^(root|0)(:|$)/.test(user), `non-root USER (${user})`);
  const ignore = read('.dockerignore').split('\n');
  for (const entry of ['node_modules', '.e2e', '.git', 'dist'])
    assert.ok(ignore.includes(entry), `.dockerignore has ${entry}`);
});

test('the manifests probe the endpoints the operator serves', () => {
  const dep = read('manifests/base/deployment.yaml');
  assert.match(dep, /livenessProbe:\s+httpGet: \{path: \/healthz/);
  assert.match(dep, /readinessProbe:\s+httpGet: \{path: \/readyz/);
  assert.match(read('operator/runtime/health.ts'), /'\/healthz'[\s\S]*'\/readyz'[\s\S]*'\/metrics'/);
});

test('Node support: the tests run on the Node the image ships, and the unit suite on the oldest engines allows', () => {
  const pkg = JSON.parse(read('package.json')) as {
    engines: { node: string };
    devDependencies: Record<string, string>;
    scripts: Record<string, string>;
  };
  const image = /^ARG NODE_IMAGE=node:(\d+\.\d+\.\d+)/m.exec(read('Dockerfile'))?.[1];
  assert.equal(
    pkg.devDependencies.node,
    image,
    'the npm `node` package pins the image’s Node (npm scripts run on it)',
  );
  assert.equal(
    process.versions.node,
    image,
    `this suite runs on Node ${image}, not ${process.versions.node}`,
  );
  const oldest = /^>=(\d+)$/.exec(pkg.engines.node)?.[1];
  assert.ok(oldest && Number(oldest) >= 22, `engines ${pkg.engines.node}: no end-of-life Node line`);
  assert.match(
    pkg.devDependencies.node22 ?? '',
    new RegExp(`^npm:node@${oldest}\\.`),
    'the oldest allowed line is installed',
  );
  assert.match(pkg.scripts.test, /test:unit:oldest/);
  assert.match(pkg.scripts['test:unit:oldest'], /node_modules\/node22\/bin\/node --test/);
});
