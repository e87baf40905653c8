import { gzipSync } from "node:zlib";
import { BLOCK, encodeHeader, TypeFlag, type HeaderFields } from "../src/tar/header.ts";

/** One hand-made tar entry: anything goes (these build malicious archives). */
export interface Crafted {
  readonly name: string;
  readonly type?: "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";
  readonly linkname?: string;
  readonly content?: string | Uint8Array;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly mtime?: number;
  readonly devmajor?: number;
  readonly devminor?: number;
  readonly xattrs?: Record<string, Uint8Array>;
}

const FLAGS = {
  file: TypeFlag.File,
  dir: TypeFlag.Directory,
  symlink: TypeFlag.Symlink,
  hardlink: TypeFlag.Hardlink,
  char: TypeFlag.CharDevice,
  block: TypeFlag.BlockDevice,
  fifo: TypeFlag.Fifo,
} as const;

/** Builds a tar in the given order with no validation at all. */
export function craftTar(entries: readonly Crafted[], opts: { gzip?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = e.content === undefined ? Buffer.alloc(0) : Buffer.from(e.content);
    const h: HeaderFields = {
      name: e.name,
      typeflag: FLAGS[e.type ?? "file"],
      mode: e.mode ?? (e.type === "dir" ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      size: body.length,
      mtime: e.mtime ?? 1_000_000,
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(e.devmajor !== undefined ? { devmajor: e.devmajor, devminor: e.devminor ?? 0 } : {}),
      ...(e.xattrs ? { xattrs: e.xattrs } : {}),
    };
    const hdr = Buffer.alloc(64 * BLOCK);
    const n = encodeHeader(h, hdr, 0);
    parts.push(hdr.subarray(0, n), body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  const tar = Buffer.concat(parts);
  return opts.gzip ? gzipSync(tar) : tar;
}
