import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageSigned, pushChart } from './chart-release.js';

/**
 * `npm run chart:publish`: packages manifests/helm/secrets-rotation-operator, signs it (provenance
 * file) and pushes both to an OCI registry. Log in first (`helm registry login ghcr.io`).
 *   CHART_SIGNING_KEY  the signing key's name or email (required)
 *   CHART_KEYRING      legacy secret keyring holding it (default ~/.gnupg/secring.gpg)
 *   CHART_REPOSITORY   default oci://ghcr.io/secrets-rotation-operator/charts
 *   CHART_VERSION      overrides Chart.yaml's version and appVersion
 *   CHART_PLAIN_HTTP=1 for a registry without TLS; HELM: the helm binary (default helm on the PATH)
 */
function main(): void {
  const key = process.env.CHART_SIGNING_KEY;
  if (!key) throw new Error('CHART_SIGNING_KEY (the name or email of the signing key) is required');
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const h = { helm: process.env.HELM ?? 'helm' };
  const { tgz, prov } = packageSigned(h, {
    chartDir: path.join(root, 'manifests', 'helm', 'secrets-rotation-operator'),
    outDir: path.join(root, 'dist', 'charts'),
    key,
    keyring: process.env.CHART_KEYRING ?? path.join(os.homedir(), '.gnupg', 'secring.gpg'),
    version: process.env.CHART_VERSION,
  });
  const ref = pushChart(
    h,
    tgz,
    process.env.CHART_REPOSITORY ?? 'oci://ghcr.io/secrets-rotation-operator/charts',
    {
      plainHttp: process.env.CHART_PLAIN_HTTP === '1',
    },
  );
  console.log(`pushed ${path.basename(tgz)} and ${path.basename(prov)} as ${ref}`);
}

main();
