import { TarFileIndex, TypeFlag, type TarMember } from "@strata/oci";

export type TocType = "file" | "directory" | "symlink" | "hardlink" | "char-device" | "block-device" | "fifo";

/** One path of one layer, with where its bytes are in the layer's uncompressed tar. */
export interface TocNode {
  readonly type: TocType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: number;
  readonly size: number;
  readonly linkname?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
  /** Byte offset of a file's content in the layer tar. */
  readonly offset: number;
}

/** A layer's table of contents: its entries, and what it deletes from the layers below. */
export interface Toc {
  readonly entries: ReadonlyMap<string, TocNode>;
  /** Paths removed from lower layers (`.wh.<name>`). */
  readonly whiteouts: readonly string[];
  /** Directories whose lower content is hidden (`.wh..wh..opq`). */
  readonly opaque: readonly string[];
}

const WH = ".wh.";
const OPQ = ".wh..wh..opq";

function typeOf(m: TarMember): TocType | undefined {
  switch (m.typeflag) {
    case TypeFlag.File:
    case TypeFlag.Contiguous:
      return "file";
    case TypeFlag.Directory:
      return "directory";
    case TypeFlag.Symlink:
      return "symlink";
    case TypeFlag.Hardlink:
      return "hardlink";
    case TypeFlag.CharDevice:
      return "char-device";
    case TypeFlag.BlockDevice:
      return "block-device";
    case TypeFlag.Fifo:
      return "fifo";
    default:
      return undefined;
  }
}

/** Reads a layer tar's headers (seeking over contents) into its table of contents. */
export async function readToc(tarPath: string): Promise<Toc> {
  const index = await TarFileIndex.open(tarPath);
  const entries = new Map<string, TocNode>();
  const whiteouts: string[] = [];
  const opaque: string[] = [];
  for (const m of index.all()) {
    const slash = m.name.lastIndexOf("/");
    const base = m.name.slice(slash + 1);
    const dir = slash >= 0 ? m.name.slice(0, slash) : "";
    if (base === OPQ) {
      opaque.push(dir);
      continue;
    }
    if (base.startsWith(WH)) {
      whiteouts.push(dir ? `${dir}/${base.slice(WH.length)}` : base.slice(WH.length));
      continue;
    }
    const type = typeOf(m);
    if (!type || m.name === "") continue;
    const h = m.header;
    entries.set(m.name, {
      type,
      mode: h.mode & 0o7777,
      uid: h.uid,
      gid: h.gid,
      mtime: Math.floor(h.mtime),
      size: type === "file" ? m.size : 0,
      ...(type === "symlink" || type === "hardlink" ? { linkname: type === "hardlink" ? h.linkname.replace(/^\.?\/+/, "") : h.linkname } : {}),
      ...(type === "char-device" || type === "block-device" ? { devmajor: h.devmajor, devminor: h.devminor } : {}),
      offset: m.offset,
    });
  }
  return { entries, whiteouts, opaque };
}

export function tocToJson(toc: Toc): unknown {
  return { entries: [...toc.entries], whiteouts: toc.whiteouts, opaque: toc.opaque };
}

export function tocFromJson(data: unknown): Toc {
  const d = data as { entries: [string, TocNode][]; whiteouts: string[]; opaque: string[] };
  return { entries: new Map(d.entries), whiteouts: d.whiteouts, opaque: d.opaque };
}
