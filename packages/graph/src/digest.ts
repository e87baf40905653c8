import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";

/** A content digest: `sha256:` followed by 64 lowercase hex digits. */
export type Digest = `sha256:${string}` & { readonly __brand: "Digest" };

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export function isDigest(value: unknown): value is Digest {
  return typeof value === "string" && DIGEST_RE.test(value);
}

/** Validates and brands a digest string; throws a TypeError on anything else. */
export function parseDigest(value: string): Digest {
  if (!isDigest(value)) throw new TypeError(`not a sha256 digest: ${JSON.stringify(value)}`);
  return value;
}

/** The hex part of a digest (what goes into `blobs/sha256/<hex>`). */
export function digestHex(digest: Digest): string {
  return digest.slice("sha256:".length);
}

/** sha256 over bytes with @noble/hashes: fine for graph digests (small inputs), not for blobs. */
export function sha256Digest(data: Uint8Array | string): Digest {
  const bytes = typeof data === "string" ? utf8ToBytes(data) : data;
  return `sha256:${bytesToHex(sha256(bytes))}` as Digest;
}
