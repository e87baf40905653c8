import type { Digest } from "@strata/graph";
import { openTarget, type BlobTarget } from "../io/blob-target.ts";
import { HashingSink } from "../io/byte-sink.ts";
import type { ByteSource } from "./decompress.ts";
import { GzipSink, type GzipOptions } from "./gzip-sink.ts";

export interface GzipBlobResult {
  /** Digest and size of the gzip stream written. */
  readonly digest: Digest;
  readonly size: number;
  /** Digest and size of the input (for a layer: its diffID). */
  readonly uncompressedDigest: Digest;
  readonly uncompressedSize: number;
  readonly path: string | undefined;
}

/**
 * Compresses an uncompressed blob (typically a stored layer, when exporting or pushing) with
 * the same parallel, deterministic member layout as `writeLayer(…, { compression: "gzip" })`,
 * so both give the same compressed digest for the same tar.
 */
export async function gzipBlob(input: ByteSource, opts: { readonly to: BlobTarget } & GzipOptions): Promise<GzipBlobResult> {
  const target = await openTarget(opts.to);
  const out = new HashingSink(target.sink);
  const inHash = new HashingSink(new GzipSink(out, opts));
  try {
    for await (const chunk of input) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      const r = inHash.write(b);
      if (r) await r;
    }
    await inHash.close();
    const digest = out.digest();
    const path = await target.commit(digest, out.size);
    return { digest, size: out.size, uncompressedDigest: inHash.digest(), uncompressedSize: inHash.size, path };
  } catch (e) {
    await target.abort();
    throw e;
  }
}
