import { randomBytes } from "node:crypto";
import { createReadStream, promises as fsp, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import type { Digest } from "@strata/graph";
import type { BlobStore } from "../blob-store.ts";
import { FsBlobStore } from "../fs-blob-store.ts";
import { FileSink, StreamSink, type ByteSink } from "./byte-sink.ts";

/**
 * Where a produced blob goes: a blob store (stored under its digest), a file path (written
 * atomically: temp file + rename), or a writable stream (written as produced, not ended).
 */
export type BlobTarget =
  | { readonly store: BlobStore }
  | { readonly file: string }
  | { readonly stream: NodeJS.WritableStream };

/** An open target: write into `sink`, then `commit` with the digest, or `abort`. */
export interface OpenTarget {
  readonly sink: ByteSink;
  /** Makes the blob visible; returns its file path when it is a file. */
  commit(digest: Digest, size: number): Promise<string | undefined>;
  abort(): Promise<void>;
}

export async function openTarget(target: BlobTarget): Promise<OpenTarget> {
  if ("stream" in target) {
    return { sink: new StreamSink(target.stream), commit: async () => undefined, abort: async () => {} };
  }
  if ("file" in target) {
    const tmp = join(dirname(target.file), `.${basename(target.file)}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
    const sink = new FileSink(tmp);
    return {
      sink,
      async commit() {
        await sink.close();
        await fsp.rename(tmp, target.file);
        return target.file;
      },
      async abort() {
        sink.discard();
        rmSync(tmp, { force: true });
      },
    };
  }
  const store = target.store;
  const tmp = store instanceof FsBlobStore ? await store.tempPath() : join(tmpdir(), `strata-blob-${process.pid}-${randomBytes(8).toString("hex")}`);
  const sink = new FileSink(tmp);
  return {
    sink,
    async commit(digest, size) {
      await sink.close();
      if (store instanceof FsBlobStore) return store.adopt(tmp, digest, size);
      try {
        await store.put(createReadStream(tmp, { highWaterMark: 1 << 20 }), { digest, size });
        return store.pathOf?.(digest);
      } finally {
        rmSync(tmp, { force: true });
      }
    },
    async abort() {
      sink.discard();
      rmSync(tmp, { force: true });
    },
  };
}
