import { resolve } from "node:path";
import { StrataError } from "@strata/graph";

/** Where a cache is read from (`--cache-from`). */
export type CacheImportSpec = { readonly type: "registry"; readonly ref: string } | { readonly type: "local"; readonly src: string };

/** Where a cache is written to (`--cache-to`), and what goes in it. */
export type CacheExportSpec = ({ readonly type: "registry"; readonly ref: string } | { readonly type: "local"; readonly dest: string }) & {
  /** min: the steps of the exported image; max: every step of every stage built, and cache mounts. */
  readonly mode: "min" | "max";
  readonly compression: "gzip" | "uncompressed";
  /** Largest cache mount (bytes, uncompressed) exported with mode=max; bigger ones are skipped with a warning. */
  readonly mountMax: number;
  /** `ignore-error=true`: a failed export is a warning (buildx's option); by default it fails the build. */
  readonly ignoreError?: boolean;
};

/** Default `cache-mount-max`: a package manager's download cache fits, a runaway one does not travel. */
export const DEFAULT_CACHE_MOUNT_MAX = 512 << 20;

function usage(message: string, hint: string): StrataError {
  return new StrataError("STRATA_USAGE", message, { hint });
}

function fields(flag: string, text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw usage(`${flag} ${text}: ${JSON.stringify(part)} is not KEY=VALUE`, `e.g. ${flag} type=registry,ref=registry.example.com/team/app:cache`);
    const k = part.slice(0, eq).trim();
    if (out.has(k)) throw usage(`${flag} ${text}: ${k}= is given twice`, "give each key once");
    out.set(k, part.slice(eq + 1));
  }
  return out;
}

function unknown(flag: string, text: string, kv: Map<string, string>, allowed: readonly string[]): void {
  for (const k of kv.keys()) {
    if (!allowed.includes(k)) throw usage(`${flag} ${text}: unknown key ${JSON.stringify(k)}`, `${flag} takes ${allowed.join(", ")}`);
  }
}

/**
 * Parses `--cache-from` as buildx spells it: `type=registry,ref=REF` or `type=local,src=DIR`;
 * a bare value is a registry reference (buildx's shorthand). Anything buildx means but Strata
 * does not do (type=gha, type=s3, type=inline…) is a usage error, never ignored.
 */
export function parseCacheFrom(text: string, cwd: string): CacheImportSpec {
  if (!text.includes("=")) return { type: "registry", ref: text };
  const kv = fields("--cache-from", text);
  const type = kv.get("type") ?? "registry";
  if (type === "registry") {
    unknown("--cache-from", text, kv, ["type", "ref"]);
    const ref = kv.get("ref");
    if (!ref) throw usage(`--cache-from ${text}: ref= is required`, "e.g. --cache-from type=registry,ref=registry.example.com/team/app:cache");
    return { type, ref };
  }
  if (type === "local") {
    unknown("--cache-from", text, kv, ["type", "src", "digest", "tag"]);
    if (kv.has("digest") || kv.has("tag")) throw usage(`--cache-from ${text}: digest= and tag= are not supported`, "Strata reads the cache the layout's index names; drop digest=/tag=");
    const src = kv.get("src");
    if (!src) throw usage(`--cache-from ${text}: src= is required`, "e.g. --cache-from type=local,src=.cache/strata");
    return { type, src: resolve(cwd, src) };
  }
  throw usage(`--cache-from ${text}: cache type ${JSON.stringify(type)} is not supported`, "use type=registry,ref=REF or type=local,src=DIR");
}

/** Parses a size: `512m`, `2g`, `1048576`, `0` (no cache mounts). */
export function parseSize(text: string, what: string): number {
  const m = /^(\d+)([kmg]i?b?|b)?$/i.exec(text.trim());
  if (!m) throw usage(`${what}: ${JSON.stringify(text)} is not a size`, "e.g. 512m, 2g or a number of bytes");
  const unit = (m[2] ?? "b").toLowerCase()[0]!;
  const mult = unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : 1;
  return Number(m[1]) * mult;
}

/**
 * Parses `--cache-to`: `type=registry,ref=REF[,mode=min|max][,compression=gzip|uncompressed]
 * [,cache-mount-max=SIZE]` or `type=local,dest=DIR[,…]`. buildx's default mode is min, so is ours.
 */
export function parseCacheTo(text: string, cwd: string): CacheExportSpec {
  const kv = fields("--cache-to", text.includes("=") ? text : `type=registry,ref=${text}`);
  const type = kv.get("type") ?? "registry";
  const common = ["type", "mode", "compression", "cache-mount-max", "ignore-error"];
  const mode = kv.get("mode") ?? "min";
  if (mode !== "min" && mode !== "max") throw usage(`--cache-to ${text}: mode=${mode} is not min or max`, "mode=min exports the image's steps; mode=max every step and the cache mounts");
  const compression = kv.get("compression") ?? "gzip";
  if (compression !== "gzip" && compression !== "uncompressed") throw usage(`--cache-to ${text}: compression=${compression} is not supported`, "gzip (default) or uncompressed");
  const mountMax = kv.has("cache-mount-max") ? parseSize(kv.get("cache-mount-max")!, "--cache-to cache-mount-max") : DEFAULT_CACHE_MOUNT_MAX;
  const ignoreError = kv.get("ignore-error");
  if (ignoreError !== undefined && ignoreError !== "true" && ignoreError !== "false") throw usage(`--cache-to ${text}: ignore-error=${ignoreError} is not true or false`, "ignore-error=true|false");
  const base = { mode, compression, mountMax, ...(ignoreError === "true" ? { ignoreError: true } : {}) } as const;
  if (type === "registry") {
    unknown("--cache-to", text, kv, [...common, "ref"]);
    const ref = kv.get("ref");
    if (!ref) throw usage(`--cache-to ${text}: ref= is required`, "e.g. --cache-to type=registry,ref=registry.example.com/team/app:cache,mode=max");
    return { type, ref, ...base };
  }
  if (type === "local") {
    unknown("--cache-to", text, kv, [...common, "dest"]);
    const dest = kv.get("dest");
    if (!dest) throw usage(`--cache-to ${text}: dest= is required`, "e.g. --cache-to type=local,dest=.cache/strata,mode=max");
    return { type, dest: resolve(cwd, dest), ...base };
  }
  throw usage(`--cache-to ${text}: cache type ${JSON.stringify(type)} is not supported`, "use type=registry,ref=REF or type=local,dest=DIR");
}

/** How a cache source or destination is named in warnings and --explain. */
export function describeCache(s: CacheImportSpec | CacheExportSpec): string {
  return s.type === "registry" ? `registry:${s.ref}` : `local:${"src" in s ? s.src : s.dest}`;
}
