import { buildImage } from './image.js';

/** `npm run image`: builds the operator image with buildah and prints its size, layer by layer. */
function main(): void {
  const image = buildImage();
  const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
  console.log(`${image.ref}: ${mb(image.size)} uncompressed`);
  for (const [i, l] of image.layers.entries())
    console.log(
      `  layer ${i + 1}  ${mb(l.size).padStart(9)}  ${l.digest.slice(0, 19)}${i === 0 ? '  (base)' : ''}`,
    );
}

main();
