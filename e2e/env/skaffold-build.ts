import { buildImage, pushImage } from './image.js';

/**
 * skaffold's custom builder for the `local` profile: the Dockerfile built with buildah (no Docker
 * engine), tagged $IMAGE, pushed to the local registry when skaffold asks ($PUSH_IMAGE).
 */
function main(): void {
  const { IMAGE, PUSH_IMAGE, BUILD_CONTEXT } = process.env;
  if (!IMAGE) throw new Error('IMAGE is not set: run this through skaffold (custom builder)');
  buildImage(IMAGE, BUILD_CONTEXT);
  if (PUSH_IMAGE === 'true') pushImage(IMAGE);
}

main();
