import { availableParallelism } from "node:os";
import { gzip } from "node:zlib";
import type { ByteSink } from "../io/byte-sink.ts";

export interface GzipOptions {
  /** zlib level 1–9; default 6 (level 9 saves ~1 % for 5× the time, level 1 is twice as fast). */
  readonly level?: number;
  /** Chunks compressed at once; default `os.availableParallelism()`. Output does not depend on it. */
  readonly threads?: number;
}

/**
 * Uncompressed bytes per gzip member. Part of the output format: changing it changes every
 * compressed digest, so it is a constant, not an option.
 */
export const GZIP_CHUNK_SIZE = 4 << 20;

/**
 * Parallel gzip: the input is cut at fixed 4 MiB boundaries and each piece is compressed as
 * an independent gzip member; the members are concatenated in order, which RFC 1952 defines
 * as one valid gzip stream (Go's compress/gzip — Docker, containerd, skopeo — and GNU gzip
 * read it as a whole; pigz and bgzip do the same). Because the cut points depend only on
 * byte offsets, the result is byte-identical for any number of threads.
 *
 * The parallelism comes from zlib's asynchronous API, which runs each job on libuv's thread
 * pool: no worker_threads, no copies through structured clone. Node's zlib writes a fixed
 * gzip header (mtime 0, OS 3), so output depends only on the input, the level and Node's
 * bundled zlib version.
 */
export class GzipSink implements ByteSink {
  private readonly level: number;
  private readonly threads: number;
  private chunk: Buffer = Buffer.allocUnsafe(GZIP_CHUNK_SIZE);
  private fill = 0;
  private members = 0;
  private readonly inflight: Promise<Buffer>[] = [];

  constructor(private readonly next: ByteSink, opts: GzipOptions = {}) {
    this.level = opts.level ?? 6;
    this.threads = Math.max(1, opts.threads ?? availableParallelism());
  }

  async write(data: Buffer): Promise<void> {
    let at = 0;
    while (at < data.length) {
      const n = Math.min(GZIP_CHUNK_SIZE - this.fill, data.length - at);
      data.copy(this.chunk, this.fill, at, at + n);
      this.fill += n;
      at += n;
      if (this.fill === GZIP_CHUNK_SIZE) await this.dispatch();
    }
  }

  async close(): Promise<void> {
    // An empty input still needs one (empty) member to be a valid gzip stream.
    if (this.fill > 0 || this.members === 0) await this.dispatch();
    while (this.inflight.length > 0) await this.drainOne();
    await this.next.close();
  }

  private async dispatch(): Promise<void> {
    const input = this.chunk.subarray(0, this.fill);
    this.chunk = Buffer.allocUnsafe(GZIP_CHUNK_SIZE);
    this.fill = 0;
    this.members++;
    // At most `threads` compressions at once: wait for the oldest before starting another.
    while (this.inflight.length >= this.threads) await this.drainOne();
    // A large output chunk keeps each job on its pool thread (the 16 KiB default bounces to
    // the main thread every 16 KiB); the compressed bytes do not depend on it.
    const job = new Promise<Buffer>((resolve, reject) =>
      gzip(input, { level: this.level, chunkSize: 1 << 20 }, (err, out) => (err ? reject(err) : resolve(out))),
    );
    job.catch(() => {}); // awaited in order by drainOne; this only silences the unhandled-rejection warning
    this.inflight.push(job);
  }

  private async drainOne(): Promise<void> {
    const out = await (this.inflight.shift() as Promise<Buffer>);
    const r = this.next.write(out);
    if (r) await r;
  }
}
