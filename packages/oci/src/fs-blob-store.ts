import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, promises as fsp } from "node:fs";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { digestHex, StrataError, type Digest } from "@strata/graph";
import type { BlobStore } from "./blob-store.ts";

/**
 * Blobs as files at `<root>/sha256/<hex>` (the layout of an OCI image layout's `blobs/`
 * directory and of Strata's store). Writes go to `<root>/.tmp/` and are renamed into place
 * after the digest is verified, so readers see complete blobs or none.
 */
export class FsBlobStore implements BlobStore {
  constructor(readonly root: string) {}

  pathOf(digest: Digest): string {
    return join(this.root, "sha256", digestHex(digest));
  }

  async has(digest: Digest): Promise<boolean> {
    return (await this.size(digest)) !== undefined;
  }

  async size(digest: Digest): Promise<number | undefined> {
    try {
      return (await fsp.stat(this.pathOf(digest))).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  async open(digest: Digest): Promise<Readable> {
    const path = this.pathOf(digest);
    try {
      await fsp.access(path);
    } catch {
      throw new StrataError("STRATA_BLOB_NOT_FOUND", `blob ${digest} is not in ${this.root}`);
    }
    return createReadStream(path, { highWaterMark: 1 << 20 });
  }

  /**
   * A fresh temp path inside the store (same file system as the blobs, so `adopt` can
   * rename): for producers that hash while writing and then hand the file over.
   */
  async tempPath(): Promise<string> {
    const tmpDir = join(this.root, ".tmp");
    await fsp.mkdir(tmpDir, { recursive: true });
    await fsp.mkdir(join(this.root, "sha256"), { recursive: true });
    return join(tmpDir, `${process.pid}-${randomBytes(8).toString("hex")}`);
  }

  /**
   * Moves a complete file whose digest and size the caller computed while writing it (e.g.
   * from `tempPath()`) into place; returns the blob's path. If the blob is already stored,
   * the temp file is dropped.
   */
  async adopt(tmpPath: string, digest: Digest, size: number): Promise<string> {
    const dest = this.pathOf(digest);
    if ((await this.size(digest)) === size) {
      await fsp.rm(tmpPath, { force: true });
      return dest;
    }
    await fsp.mkdir(join(this.root, "sha256"), { recursive: true });
    await fsp.rename(tmpPath, dest);
    return dest;
  }

  /** Removes the temp directory if nothing is being written (e.g. after an OCI layout export). */
  async removeTempDir(): Promise<void> {
    await fsp.rmdir(join(this.root, ".tmp")).catch(() => {});
  }

  async put(data: Readable | Uint8Array, expected: { digest?: Digest; size?: number } = {}): Promise<{ digest: Digest; size: number }> {
    if (expected.digest && expected.size !== undefined && (await this.size(expected.digest)) === expected.size) {
      if (data instanceof Readable) data.resume();
      return { digest: expected.digest, size: expected.size };
    }
    const tmp = await this.tempPath();
    const hash = createHash("sha256");
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      const source = data instanceof Readable ? data : Readable.from([Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
      await pipeline(source, tap, createWriteStream(tmp));
      const digest = `sha256:${hash.digest("hex")}` as Digest;
      if (expected.digest && expected.digest !== digest) {
        throw new StrataError("STRATA_DIGEST_MISMATCH", `content does not match its digest: expected ${expected.digest}, got ${digest}`);
      }
      if (expected.size !== undefined && expected.size !== size) {
        throw new StrataError("STRATA_SIZE_MISMATCH", `content of ${digest} has ${size} bytes, expected ${expected.size}`);
      }
      await fsp.rename(tmp, this.pathOf(digest));
      return { digest, size };
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      throw e;
    }
  }
}
