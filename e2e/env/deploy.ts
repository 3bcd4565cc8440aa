import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { readState } from './env.js';
import { repoRoot } from './paths.js';

/**
 * `npm run deploy`: `skaffold run -p local` against the running local environment — build with
 * buildah, push to its registry, deploy manifests/local onto real-node. Extra arguments go to skaffold
 * (e.g. `npm run deploy -- dev` for the dev loop).
 */
function main(): void {
  const state = readState();
  if (!state) throw new Error('the local environment is not up: npm run env:up');
  if (!state.registry) throw new Error(`the local environment has no real node: ${state.noRealNode ?? '?'}`);
  const args = process.argv.slice(2);
  const result = spawnSync(
    path.join(state.binDir, 'skaffold'),
    [...(args.length ? args : ['run']), '-p', 'local', '--port-forward=false'],
    {
      cwd: repoRoot,
      stdio: 'inherit',
      env: {
        ...process.env,
        KUBECONFIG: state.kubeconfig,
        PATH: `${state.binDir}:${process.env.PATH ?? ''}`,
        SKAFFOLD_DEFAULT_REPO: state.registry,
        SKAFFOLD_INSECURE_REGISTRY: state.registry,
        SKAFFOLD_UPDATE_CHECK: 'false',
      },
    },
  );
  process.exitCode = result.status ?? 1;
}

main();
