import { spawn } from "node:child_process";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { StrataError } from "@strata/graph";
import { layerLimits, layerTooLarge } from "@strata/oci";
import { checksumOk, readTar, type TarMember } from "./tar-reader.ts";

export type ArchiveCompression = "none" | "gzip" | "bzip2" | "xz" | "zstd";

/** Recognises compression by magic bytes (never by file name), as Docker's DecompressStream. */
export function detectArchiveCompression(head: Uint8Array): ArchiveCompression {
  if (head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return "gzip";
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return "bzip2";
  if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a && head[5] === 0x00) return "xz";
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}

const TOOLS: Record<Exclude<ArchiveCompression, "none" | "gzip">, { cmd: string; pkg: string }> = {
  bzip2: { cmd: "bzip2", pkg: "bzip2" },
  xz: { cmd: "xz", pkg: "xz-utils" },
  zstd: { cmd: "zstd", pkg: "zstd" },
};

/**
 * The decompressed bytes of `input` (plain, gzip, bzip2, xz or zstd, detected from the first
 * bytes). gzip goes through node:zlib; the others through the system `bzip2`, `xz` and
 * `zstd` commands, streamed. Stopping the iteration early ends the decoder.
 */
export async function* decompressArchive(input: AsyncIterable<Uint8Array>, maxBytes: number = layerLimits().maxBytes): AsyncGenerator<Buffer> {
  // The archive becomes (part of) a layer: the layer bound applies, as the bytes come out.
  let total = 0;
  for await (const chunk of decompressArchiveUnbounded(input)) {
    total += chunk.length;
    if (total > maxBytes) throw layerTooLarge(maxBytes);
    yield chunk;
  }
}

async function* decompressArchiveUnbounded(input: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const it = input[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLen = 0;
  let ended = false;
  while (headLen < 6) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    const b = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    head.push(b);
    headLen += b.length;
  }
  const kind = detectArchiveCompression(Buffer.concat(head));
  async function* all(): AsyncGenerator<Buffer> {
    yield* head;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    }
  }
  if (kind === "none") {
    try {
      yield* all();
    } finally {
      if (!ended) await it.return?.();
    }
    return;
  }
  const src = Readable.from(all());
  const decoder = kind === "gzip" ? gunzip(src) : command(src, TOOLS[kind].cmd, TOOLS[kind].pkg);
  try {
    for await (const chunk of decoder) yield chunk as Buffer;
  } catch (e) {
    if (e instanceof StrataError) throw e;
    throw new StrataError("STRATA_COPY_BAD_ARCHIVE", `cannot decompress ${kind} data: ${(e as Error).message}`, { cause: e });
  } finally {
    src.destroy();
    decoder.destroy();
  }
}

function gunzip(src: Readable): Readable {
  const gz = createGunzip();
  src.on("error", (e) => gz.destroy(e));
  src.pipe(gz);
  return gz;
}

function command(src: Readable, cmd: string, pkg: string): Readable {
  const child = spawn(cmd, ["-dc"], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.on("error", (e: NodeJS.ErrnoException) => {
    child.stdout.destroy(
      e.code === "ENOENT" ? new StrataError("STRATA_COPY_ARCHIVE_TOOL", `the ${cmd} command is needed to unpack this archive`, { hint: `apt-get install ${pkg}` }) : e,
    );
  });
  child.on("close", (code) => {
    if (code !== 0 && code !== null) child.stdout.destroy(new Error(`${cmd} exited with ${code}: ${stderr.trim()}`));
  });
  child.stdin.on("error", () => {});
  src.on("error", (e) => child.stdout.destroy(e));
  child.stdout.on("close", () => {
    src.destroy();
    if (child.exitCode === null) child.kill();
  });
  src.pipe(child.stdin);
  return child.stdout;
}

/**
 * Whether a 512-byte block is a tar header Go's archive/tar accepts as the first entry: not
 * all zeros (that is the end marker) and with a valid checksum (unsigned or signed sum, the
 * checksum field counted as spaces). BuildKit unpacks an ADD source exactly when reading the
 * first header succeeds, so a file named `.tar.gz` that is not an archive is copied as is.
 */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < 512) return false;
  if (block.subarray(0, 512).every((b) => b === 0)) return false;
  return checksumOk(block);
}

/** Reads just enough of a (possibly compressed) stream to tell whether it is a tar archive. */
export async function looksLikeArchive(input: AsyncIterable<Uint8Array>): Promise<boolean> {
  const parts: Buffer[] = [];
  let len = 0;
  try {
    for await (const chunk of decompressArchive(input)) {
      parts.push(chunk);
      len += chunk.length;
      if (len >= 512) break;
    }
  } catch (e) {
    // Compressed data we cannot decode because the tool is missing must not be silently
    // copied as a file: say what to install.
    if (e instanceof StrataError && e.code === "STRATA_COPY_ARCHIVE_TOOL") throw e;
    return false;
  }
  return isTarHeader(Buffer.concat(parts));
}

export type { TarMember } from "./tar-reader.ts";

/** The members of a (possibly compressed) tar archive, in archive order. */
export function readArchive(input: AsyncIterable<Uint8Array>): AsyncGenerator<{ header: TarMember; body: AsyncIterable<Buffer> }> {
  return readTar(decompressArchive(input));
}
