// Sharing the build cache across machines (--cache-to / --cache-from): see README "Sharing the cache".
export * from "./format.ts";
export * from "./spec.ts";
export type { CacheSource } from "./source.ts";
export { RegistryCacheSource } from "./registry-source.ts";
export { LocalCacheSource } from "./local-source.ts";
export { RemoteCache, CacheBlobError, type RemoteHit } from "./remote-cache.ts";
export { CacheCollector } from "./collector.ts";
export { exportCache, type CacheExportOptions, type CacheExportResult } from "./export.ts";
