// The light entry point the CLI's build path loads (the package index also re-exports the
// executors, snapshots and copy planner, which a cached build never needs).
export { Store, STORE_VERSION } from "./store/store.ts";
export { buildImage, type BuildResult } from "./build.ts";
export type { SolveOptions, SecretSource } from "./solver/options.ts";
export { checkGraphEntitlements, ENTITLEMENTS, parseEntitlements, type Entitlement } from "./solver/entitlements.ts";
export type { ProgressEvent, ProgressSink } from "./progress/events.ts";
export { LocalImageResolver, splitPathRef, type ImageResolver, type ImageSpec, type ResolvedImage, type LoadedImage } from "./sources/image-sources.ts";
export { parseOutput, checkOutputs, STDOUT_DEST, type OutputSpec } from "./outputs/outputs.ts";
export { ONBUILD_BASE } from "./solver/options.ts";
export { lockfilePath, readLockfile, type Lockfile } from "./sources/lockfile.ts";
export { parseImageOverrides } from "./sources/image-overrides.ts";
export { MirroredRegistry, parseMirrors } from "./sources/registry-mirrors.ts";
export { BaseImageResolver } from "./sources/base-images.ts";
export { withCompression } from "./outputs/compress.ts";
export { adoptBaseLayerBlobs } from "./sources/base-layer-blobs.ts";
export { acquireBuildLock } from "./store/locks.ts";
export * from "./cache-share/index.ts";
