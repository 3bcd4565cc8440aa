import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Repository root, whether running from sources or from dist/. */
export const repoRoot = ((): string => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const parts = here.split(path.sep);
  const dist = parts.lastIndexOf('dist');
  return dist >= 0 ? parts.slice(0, dist).join(path.sep) : path.resolve(here, '..', '..');
})();

/** Runtime state of the local environment (git-ignored). */
export const stateDir = process.env.SRO_E2E_DIR ?? path.join(repoRoot, '.e2e');
export const logDir = path.join(stateDir, 'logs');
export const envFile = path.join(stateDir, 'env');
export const stateFile = path.join(stateDir, 'state.json');

/** The operator as it ships: the bundle `npm run build` makes (dist/operator.mjs), which the image runs. */
export const operatorEntry = path.join(repoRoot, 'dist', 'operator.mjs');

/** The CRD as the operator ships it. */
/** The ValidatingAdmissionPolicy (+ binding) limiting what the operator's ServiceAccount may change. */
export const admissionGuardPath = path.join(repoRoot, 'manifests', 'base', 'admission-guard.yaml');

/** The CRDs (mappings and policies), as a kustomization: `kubectl apply -k`. */
export const crdDir = path.join(repoRoot, 'resources');
