export * from "./media-types.ts";
export * from "./descriptor.ts";
export * from "./layer-entry.ts";
export * from "./blob-store.ts";
export * from "./fs-blob-store.ts";
