import { decompressed, type ByteSource } from "../compress/decompress.ts";
import type { EntryContent, LayerEntry } from "../layer-entry.ts";
import { TypeFlag } from "../tar/header.ts";
import { TarParser, type TarHeader } from "../tar/parser.ts";
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from "./order-entries.ts";

/** A layer entry as read back: like `LayerEntry`, but a file's content is there only when asked for. */
export type ReadLayerEntry = LayerEntry extends infer E
  ? E extends { readonly type: "file" }
    ? Omit<E, "content"> & { readonly content?: EntryContent }
    : E
  : never;

export interface ReadLayerOptions {
  /** Include each file's bytes as `content: { bytes }` (buffers whole files: for tests and small layers). */
  readonly content?: boolean;
}

/**
 * The entries of a layer (plain, gzip or zstd) in archive order, decoded the way
 * `writeLayer` encodes them: names without `./`, directories without the trailing `/`,
 * `.wh.` files as whiteout and opaque entries, pax xattrs as `xattrs`. Names are not
 * checked for safety here (this is for inspection); `extractLayer` is the safe consumer.
 * The root directory entry (`./`) and aufs metadata (`.wh..wh.*`) are left out.
 */
export function readLayerEntries(input: ByteSource, opts: ReadLayerOptions & { readonly content: true }): AsyncGenerator<LayerEntry>;
export function readLayerEntries(input: ByteSource, opts?: ReadLayerOptions): AsyncGenerator<ReadLayerEntry>;
export async function* readLayerEntries(input: ByteSource, opts: ReadLayerOptions = {}): AsyncGenerator<ReadLayerEntry> {
  const ready: ReadLayerEntry[] = [];
  let header: TarHeader | undefined;
  let parts: Buffer[] = [];
  const parser = new TarParser({
    entry(h) {
      header = h;
      parts = [];
    },
    data(chunk) {
      if (opts.content) parts.push(Buffer.from(chunk));
    },
    entryEnd() {
      const h = header as TarHeader;
      const e = toEntry(h, opts.content ? Buffer.concat(parts) : undefined);
      if (e) ready.push(e);
      header = undefined;
      parts = [];
    },
  });
  for await (const chunk of decompressed(input)) {
    parser.write(chunk);
    yield* ready.splice(0);
    if (parser.ended) break;
  }
  parser.finish();
  yield* ready.splice(0);
}

function toEntry(h: TarHeader, bytes: Buffer | undefined): ReadLayerEntry | undefined {
  const path = cleanName(h.name);
  if (path === "") return undefined;
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "" : path.slice(0, slash);
  const base = path.slice(slash + 1);
  if (base === OPAQUE_MARKER) return { type: "opaque", path: dir };
  if (base.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) return undefined;
  if (base.startsWith(WHITEOUT_PREFIX)) {
    const target = base.slice(WHITEOUT_PREFIX.length);
    return { type: "whiteout", path: dir === "" ? target : `${dir}/${target}` };
  }
  const common = {
    path,
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    mtime: h.mtime,
    ...(h.uname ? { uname: h.uname } : {}),
    ...(h.gname ? { gname: h.gname } : {}),
    ...(h.xattrs ? { xattrs: Object.fromEntries(Object.entries(h.xattrs).map(([k, v]) => [k, new Uint8Array(v)])) } : {}),
  };
  switch (h.typeflag) {
    case TypeFlag.File:
    case TypeFlag.Contiguous:
      return { ...common, type: "file", size: h.size, ...(bytes ? { content: { bytes: new Uint8Array(bytes) } } : {}) };
    case TypeFlag.Directory:
      return { ...common, type: "directory" };
    case TypeFlag.Symlink:
      return { ...common, type: "symlink", linkname: h.linkname };
    case TypeFlag.Hardlink:
      return { ...common, type: "hardlink", linkname: cleanName(h.linkname) };
    case TypeFlag.CharDevice:
    case TypeFlag.BlockDevice:
      return { ...common, type: h.typeflag === TypeFlag.CharDevice ? "char-device" : "block-device", devmajor: h.devmajor, devminor: h.devminor };
    case TypeFlag.Fifo:
      return { ...common, type: "fifo" };
    default:
      return undefined;
  }
}

/** `./a//b/` → `a/b`: the root-relative form LayerEntry uses. */
function cleanName(name: string): string {
  return name
    .split("/")
    .filter((p) => p !== "" && p !== ".")
    .join("/");
}
