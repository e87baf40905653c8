import { createHash, type Hash } from "node:crypto";
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import type { Digest } from "@strata/graph";

/**
 * Where produced bytes go. `write` may return a promise for back-pressure; a sink never
 * keeps a reference to `chunk` once `write` has returned (or its promise resolved), so the
 * producer can reuse one big buffer.
 */
export interface ByteSink {
  write(chunk: Buffer): void | Promise<void>;
  close(): Promise<void>;
}

/** Counts and hashes (sha256, OpenSSL) everything that passes through. */
export class HashingSink implements ByteSink {
  private readonly hash: Hash = createHash("sha256");
  size = 0;

  constructor(private readonly next: ByteSink) {}

  write(chunk: Buffer): void | Promise<void> {
    this.hash.update(chunk);
    this.size += chunk.length;
    return this.next.write(chunk);
  }

  close(): Promise<void> {
    return this.next.close();
  }

  /** Valid after the last write. */
  digest(): Digest {
    return `sha256:${this.hash.digest("hex")}` as Digest;
  }
}

/** Synchronous writes to a file descriptor: the fastest path on local disks. */
export class FileSink implements ByteSink {
  private fd: number | undefined;

  constructor(readonly path: string, private readonly durable = false) {
    this.fd = openSync(path, "wx", 0o644);
  }

  write(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) at += writeSync(this.fd as number, chunk, at, chunk.length - at);
  }

  async close(): Promise<void> {
    if (this.fd === undefined) return;
    if (this.durable) fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }

  /** Closes without flushing to disk (the caller deletes the file). */
  discard(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Writes copies into a Node writable, waiting for `drain` when its buffer is full; never ends it. */
export class StreamSink implements ByteSink {
  constructor(private readonly stream: NodeJS.WritableStream) {}

  write(chunk: Buffer): void | Promise<void> {
    if (this.stream.write(Buffer.from(chunk))) return;
    return new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        this.stream.off("error", onError);
        resolve();
      };
      const onError = (e: Error): void => {
        this.stream.off("drain", onDrain);
        reject(e);
      };
      this.stream.once("drain", onDrain);
      this.stream.once("error", onError);
    });
  }

  async close(): Promise<void> {}
}
