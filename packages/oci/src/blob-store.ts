import type { Digest } from "@strata/graph";
import type { Readable } from "node:stream";

/**
 * A content-addressed blob store: the shape every store (the build cache's, an OCI layout's)
 * presents. A blob becomes visible only complete and verified: writers stream into a temp
 * file and rename it into place, so a killed process never leaves a truncated blob behind.
 */
export interface BlobStore {
  has(digest: Digest): Promise<boolean>;
  /** Size in bytes, or undefined if absent. */
  size(digest: Digest): Promise<number | undefined>;
  /** A stream of the blob; rejects with code STRATA_BLOB_NOT_FOUND if absent. */
  open(digest: Digest): Promise<Readable>;
  /** The blob's file path, for stores that keep blobs as files (zero-copy hard links, `docker load`). */
  pathOf?(digest: Digest): string;
  /**
   * Writes a blob. With `expected`, the bytes are verified while streaming and a mismatch
   * rejects with STRATA_DIGEST_MISMATCH, leaving nothing behind.
   */
  put(data: Readable | Uint8Array, expected?: { digest?: Digest; size?: number }): Promise<{ digest: Digest; size: number }>;
}
