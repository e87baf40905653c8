/**
 * @strata/images: reusable, typed images and fragments. A team publishes its own package of
 * this shape (see the README, "Sharing images across repositories").
 */
export { nodeBase, nodeRuntime, nodeDeps } from "./node.ts";
export type { NodeVersion, NodeVariant, NodeBaseOptions, NodeRuntimeOptions, NodeDepsOptions } from "./node.ts";
export { goBuild, staticImage } from "./go.ts";
export type { GoVersion, GoBuildOptions, StaticImageOptions } from "./go.ts";
export { ociLabels } from "./oci-labels.ts";
export type { OciLabels } from "./oci-labels.ts";
