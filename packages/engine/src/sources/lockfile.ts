import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { formatPlatform, StrataError, type Digest, type Platform } from "@strata/graph";
import { formatReference, normalizePlatform, parseReference } from "@strata/registry";
import { writeFileAtomic } from "../store/atomic.ts";

/** The lockfile's name: it sits beside the image module or Dockerfile, and is committed. */
export const LOCKFILE_NAME = "strata.lock";
export const LOCKFILE_VERSION = 1;

/** What one reference resolved to on one platform. */
export interface LockEntry {
  /** The platform image's manifest digest: what the build pulls and keys its cache on. */
  readonly digest: Digest;
  /** The index the reference named when it resolved, if it named one (for humans and `docker pull`). */
  readonly index?: Digest;
}

/**
 * `strata.lock`:
 *
 *   { "lockfileVersion": 1,
 *     "platforms": ["linux/amd64"],
 *     "images": { "docker.io/library/node:22-slim": { "linux/amd64": { "digest": "sha256:…", "index": "sha256:…" } } } }
 *
 * `platforms` are the platforms the lock was made for (what `strata lock` re-resolves by
 * default). Keys are normalised references (so `node:22` and `docker.io/library/node:22` are
 * one entry) and normalised platforms; both levels are sorted, so the file diffs and merges well.
 */
export interface Lockfile {
  readonly lockfileVersion: typeof LOCKFILE_VERSION;
  readonly platforms?: readonly string[];
  readonly images: Readonly<Record<string, Readonly<Record<string, LockEntry>>>>;
}

export function lockfilePath(dir: string): string {
  return join(dir, LOCKFILE_NAME);
}

/** The key a reference is locked under: `docker.io/library/node:22-slim`. */
export function lockKey(ref: string): string {
  return formatReference(parseReference(ref));
}

/** The key a platform is locked under: `linux/amd64`, `linux/arm64/v8`. */
export function lockPlatform(p: Platform): string {
  return formatPlatform(normalizePlatform(p));
}

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

function invalid(path: string, why: string): StrataError {
  return new StrataError("STRATA_LOCKFILE_INVALID", `${path} is not a valid lockfile: ${why}`, {
    hint: "fix or delete it and run `strata lock` to write it anew",
  });
}

/** Reads a lockfile; `undefined` when there is none, a coded error when it is malformed. */
export function readLockfile(path: string): Lockfile | undefined {
  if (!existsSync(path)) return undefined;
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw invalid(path, (e as Error).message);
  }
  if (typeof j !== "object" || j === null || Array.isArray(j)) throw invalid(path, "not a JSON object");
  const o = j as Record<string, unknown>;
  if (o.lockfileVersion !== LOCKFILE_VERSION) {
    throw invalid(path, `lockfileVersion ${JSON.stringify(o.lockfileVersion)} (this strata reads version ${LOCKFILE_VERSION})`);
  }
  if (o.platforms !== undefined && (!Array.isArray(o.platforms) || o.platforms.some((p) => typeof p !== "string"))) throw invalid(path, '"platforms" is not a list of strings');
  if (typeof o.images !== "object" || o.images === null || Array.isArray(o.images)) throw invalid(path, '"images" is not an object');
  for (const [ref, platforms] of Object.entries(o.images as Record<string, unknown>)) {
    if (typeof platforms !== "object" || platforms === null) throw invalid(path, `${ref}: not an object of platforms`);
    for (const [p, e] of Object.entries(platforms as Record<string, unknown>)) {
      const entry = e as Partial<LockEntry> | null;
      if (!entry || typeof entry.digest !== "string" || !DIGEST_RE.test(entry.digest)) throw invalid(path, `${ref} (${p}): "digest" is not a sha256 digest`);
      if (entry.index !== undefined && (typeof entry.index !== "string" || !DIGEST_RE.test(entry.index))) throw invalid(path, `${ref} (${p}): "index" is not a sha256 digest`);
    }
  }
  return j as Lockfile;
}

/** The entry for a reference on a platform, if locked. */
export function lookupLock(lock: Lockfile | undefined, ref: string, platform: Platform): LockEntry | undefined {
  return lock?.images[lockKey(ref)]?.[lockPlatform(platform)];
}

/** A lockfile with sorted keys (references, then platforms): stable bytes for the same content. */
export function normalizeLockfile(images: Lockfile["images"], platforms: readonly string[] = []): Lockfile {
  const out: Record<string, Record<string, LockEntry>> = {};
  for (const ref of Object.keys(images).sort()) {
    const platforms = images[ref]!;
    const keys = Object.keys(platforms).sort();
    if (!keys.length) continue;
    out[ref] = {};
    for (const p of keys) {
      const e = platforms[p]!;
      out[ref][p] = { digest: e.digest, ...(e.index ? { index: e.index } : {}) };
    }
  }
  return { lockfileVersion: LOCKFILE_VERSION, ...(platforms.length ? { platforms: [...new Set(platforms)].sort() } : {}), images: out };
}

export function formatLockfile(lock: Lockfile): string {
  return `${JSON.stringify(normalizeLockfile(lock.images, lock.platforms), null, 2)}\n`;
}

/** Writes the lockfile atomically (temp file + rename): a reader sees the old lock or the new. */
export function writeLockfile(path: string, lock: Lockfile): void {
  writeFileAtomic(path, formatLockfile(lock), { fsync: true });
}
