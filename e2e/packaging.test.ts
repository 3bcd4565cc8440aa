import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './env/paths.js';

const read = (f: string): string => fs.readFileSync(path.join(repoRoot, f), 'utf8');

/** The Dockerfile rules of the ship issue, checked by reading it (no hadolint in our registries). */
test('Dockerfile: multi-stage, pinned Node LTS, the bundle alone in the final stage, non-root', () => {
  const df = read('Dockerfile');
  const stages = [...df.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)];
  assert.ok(stages.length >= 2, 'multi-stage');
  for (const [, image] of stages) {
    const m = /^node:(\d+)\.\d+\.\d+(-[a-z0-9.-]+)?$/.exec(image);
    assert.ok(m, `base image ${image} pinned to an exact version`);
    assert.equal(Number(m[1]) % 2, 0, `${image} is an LTS line (even major)`);
    assert.ok(Number(m[1]) >= 22, `${image} is a current LTS`);
  }
  assert.match(df, /RUN npm run build/, 'the image runs what the tests run: the bundle npm run build makes');
  const final = df.slice(df.lastIndexOf('\nFROM '));
  assert.doesNotMatch(final, /COPY\s+(operator|e2e|resources)\//, 'no TypeScript sources in the final stage');
  assert.doesNotMatch(
    final,
    /node_modules|npm /,
    'no node_modules in the final stage: the bundle is self-contained',
  );
  assert.match(final, /COPY --from=build \/src\/dist\/operator\.mjs/);
  assert.match(final, /ENTRYPOINT \["node", "--enable-source-maps", "operator\.mjs"\]/);
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
  const image = /^FROM node:(\d+\.\d+\.\d+)/m.exec(read('Dockerfile'))?.[1];
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
