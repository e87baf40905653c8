import { spawn } from "node:child_process";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { StrataError } from "@strata/graph";
import { layerLimits, layerTooLarge } from "../layer-limits.ts";

export type Compression = "none" | "gzip" | "zstd";

/** Recognizes a compressed stream by its magic bytes (needs the first 4 bytes). */
export function detectCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}

/** Bytes to read: a Node stream, any async iterable of chunks, or an array of chunks. */
export type ByteSource = Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * The uncompressed bytes of `input`, whatever it is compressed with (detected from its
 * magic). gzip goes through node:zlib (multi-member streams included); zstd, which Node 20
 * lacks, through the `zstd` command when it is installed. At most `maxBytes` (default: the
 * layer bound, STRATA_MAX_LAYER_BYTES) come out: past it, STRATA_LAYER_TOO_LARGE, thrown as
 * the bound is crossed, never after inflating the rest.
 */
export async function* decompressed(input: ByteSource, maxBytes: number = layerLimits().maxBytes): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of decompressedUnbounded(input)) {
    total += chunk.length;
    if (total > maxBytes) throw layerTooLarge(maxBytes);
    yield chunk;
  }
}

async function* decompressedUnbounded(input: ByteSource): AsyncGenerator<Buffer> {
  const it: AsyncIterator<Uint8Array> | Iterator<Uint8Array> =
    Symbol.asyncIterator in input ? (input as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]() : (input as Iterable<Uint8Array>)[Symbol.iterator]();
  const head: Buffer[] = [];
  let headLen = 0;
  let done = false;
  while (headLen < 4) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const b = toBuffer(r.value);
    head.push(b);
    headLen += b.length;
  }
  const kind = detectCompression(Buffer.concat(head));
  async function* rest(): AsyncGenerator<Buffer> {
    yield* head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield toBuffer(r.value);
    }
  }
  try {
    if (kind === "none") {
      yield* rest();
      return;
    }
    const src = Readable.from(rest(), { objectMode: false });
    const decoder = kind === "gzip" ? gunzipStream(src) : zstdStream(src);
    yield* decoder;
  } finally {
    if (!done) await it.return?.();
  }
}

function gunzipStream(src: Readable): AsyncIterable<Buffer> {
  const gz = createGunzip({ chunkSize: 256 << 10 });
  src.on("error", (e) => gz.destroy(e));
  gz.on("close", () => src.destroy());
  src.pipe(gz);
  return wrapErrors(gz, "gzip");
}

function zstdStream(src: Readable): AsyncIterable<Buffer> {
  const child = spawn("zstd", ["-dc", "-q"], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.on("error", (e: NodeJS.ErrnoException) => {
    child.stdout.destroy(
      e.code === "ENOENT"
        ? new StrataError("STRATA_LAYER_UNSUPPORTED_COMPRESSION", "this layer is zstd-compressed and the zstd command is not installed", { hint: "apt-get install zstd" })
        : e,
    );
  });
  child.on("close", (code) => {
    if (code !== 0 && code !== null) child.stdout.destroy(new StrataError("STRATA_LAYER_CORRUPT", `zstd failed: ${stderr.trim()}`));
  });
  src.on("error", (e) => child.stdout.destroy(e));
  child.stdin.on("error", () => {});
  child.stdout.on("close", () => {
    src.destroy();
    if (child.exitCode === null) child.kill();
  });
  src.pipe(child.stdin);
  return wrapErrors(child.stdout, "zstd");
}

async function* wrapErrors(stream: Readable, what: string): AsyncGenerator<Buffer> {
  try {
    for await (const c of stream) yield c as Buffer;
  } catch (e) {
    if (e instanceof StrataError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? "";
    if (code.startsWith("Z_")) throw new StrataError("STRATA_LAYER_CORRUPT", `invalid ${what} data: ${(e as Error).message}`, { cause: e });
    throw e;
  }
}

function toBuffer(c: Uint8Array): Buffer {
  return Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
}
