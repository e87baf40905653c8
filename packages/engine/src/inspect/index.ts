export { listImages, type ImageSummary } from "./image-list.ts";
export { inspectImage, type ImageDetails, type LayerDetails } from "./image-details.ts";
export { analyzeLayers, type LayerChanges, type LayerReport, type PathChange } from "./layer-changes.ts";
