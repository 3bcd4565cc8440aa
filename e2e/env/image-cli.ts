import path from 'node:path';
import { readState } from './env.js';
import { buildImage, exportImage } from './image.js';
import { stateDir } from './paths.js';
import { loadImage } from './real-node.js';

/**
 * `npm run image`: builds the operator image with buildah and prints its size, layer by layer; when
 * the local environment runs a real node, loads the image into its containerd (manifests/local).
 */
function main(): void {
  const image = buildImage();
  const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
  console.log(`${image.ref}: ${mb(image.size)} uncompressed`);
  for (const [i, l] of image.layers.entries())
    console.log(
      `  layer ${i + 1}  ${mb(l.size).padStart(9)}  ${l.digest.slice(0, 19)}${i === 0 ? '  (base)' : ''}`,
    );
  const state = readState();
  if (state && !state.noRealNode) {
    const archive = path.join(stateDir, 'operator-image.tar');
    exportImage(image.ref, archive);
    loadImage(archive);
    console.log(`loaded into real-node's containerd: kubectl apply --server-side -k manifests/local`);
  }
}

main();
