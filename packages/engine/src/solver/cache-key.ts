import { createHash } from "node:crypto";
import { canonicalJson, type CanonicalValue, type Digest } from "@strata/graph";

/**
 * Bumped when what a cache key covers changes, so old entries stop matching instead of lying.
 * (BuildKit carries a special case "for cache compatibility with buggy versions"; a version
 * bump is cheaper than that.)
 */
export const CACHE_KEY_VERSION = 1;

/**
 * A cache key: sha256 over a versioned canonical encoding of everything the op's result
 * depends on: the op digest, its inputs' cache keys, and what the build resolved for it
 * (expanded args, file contents, the base image's manifest digest). Never a secret's value.
 */
export function cacheKey(kind: string, parts: { readonly [key: string]: CanonicalValue | undefined }): Digest {
  const text = `strata.cache/v${CACHE_KEY_VERSION}\n${kind}\n${canonicalJson(parts)}`;
  return `sha256:${createHash("sha256").update(text).digest("hex")}` as Digest;
}
