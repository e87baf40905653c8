/**
 * `@strata/core/internal`: what Strata's own packages (the Dockerfile importer, the CLI's module
 * loader, test harnesses) need from core and an image module never does. Not a stable API.
 */
export { atLocation } from "./callsite.ts";
export { named, imageState, createImage } from "./image.ts";
export type { ImageState } from "./image.ts";
export { withFreshGlobalArgs } from "./arg.ts";
