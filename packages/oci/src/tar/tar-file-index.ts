import { createReadStream, promises as fsp } from "node:fs";
import { Readable } from "node:stream";
import { StrataError } from "@strata/graph";
import { BLOCK, padded, TypeFlag } from "./header.ts";
import { cString, corrupt, decodeHeader, isZero, parsePax, readNumber, verifyChecksum, type PendingExtensions, type TarHeader } from "./parser.ts";

/** Where one member of a tar file lives. */
export interface TarMember {
  /** Name without `./` prefix or trailing `/`. */
  readonly name: string;
  readonly typeflag: number;
  /** Byte offset of the content in the tar file. */
  readonly offset: number;
  readonly size: number;
  readonly linkname: string;
  /** The decoded header (mode, owners, mtime, device numbers, xattrs). */
  readonly header: TarHeader;
}

/**
 * An index of a tar file's members, built by reading only the headers (seeking over the
 * content), so a multi-gigabyte `docker save` archive opens in milliseconds and each blob
 * inside it can be streamed with a ranged read, without unpacking anything.
 */
export class TarFileIndex {
  private constructor(
    readonly path: string,
    private readonly members: ReadonlyMap<string, TarMember>,
  ) {}

  static async open(path: string): Promise<TarFileIndex> {
    const fh = await fsp.open(path, "r");
    const members = new Map<string, TarMember>();
    try {
      const block = Buffer.alloc(BLOCK);
      let pos = 0;
      let ext: { pax?: Record<string, Buffer>; longName?: string; longLink?: string } = {};
      for (;;) {
        const { bytesRead } = await fh.read(block, 0, BLOCK, pos);
        if (bytesRead === 0) break;
        if (bytesRead < BLOCK) corrupt("archive is truncated", pos);
        if (isZero(block)) break;
        verifyChecksum(block, pos);
        const typeflag = block[156] === 0 ? TypeFlag.File : (block[156] as number);
        if (typeflag === TypeFlag.PaxHeader || typeflag === TypeFlag.GnuLongName || typeflag === TypeFlag.GnuLongLink || typeflag === TypeFlag.PaxGlobal) {
          const sizeField = readNumber(block, 124, 12, pos);
          if (sizeField > 16 << 20) corrupt("extended header too large", pos);
          const body = Buffer.alloc(sizeField);
          await fh.read(body, 0, sizeField, pos + BLOCK);
          if (typeflag === TypeFlag.PaxHeader) ext.pax = { ...ext.pax, ...parsePax(body, pos) };
          else if (typeflag === TypeFlag.GnuLongName) ext.longName = cString(body);
          else if (typeflag === TypeFlag.GnuLongLink) ext.longLink = cString(body);
          pos += BLOCK + padded(sizeField);
          continue;
        }
        const h = decodeHeader(block, ext as PendingExtensions, pos);
        ext = {};
        const name = clean(h.name);
        // A later member of the same name replaces the earlier one (tar semantics); delete first so order follows the archive.
        members.delete(name);
        members.set(name, { name, typeflag: h.typeflag, offset: pos + BLOCK, size: h.size, linkname: h.linkname, header: h });
        pos += BLOCK + padded(h.size);
      }
    } finally {
      await fh.close();
    }
    return new TarFileIndex(path, members);
  }

  names(): IterableIterator<string> {
    return this.members.keys();
  }

  /** Every member, in archive order. */
  all(): IterableIterator<TarMember> {
    return this.members.values();
  }

  /** The member holding `name`'s bytes, following symlinks (relative to the member) and hard links inside the archive. */
  find(name: string): TarMember | undefined {
    let cur = clean(name);
    for (let hops = 0; hops < 16; hops++) {
      const m = this.members.get(cur);
      if (!m) return undefined;
      if (m.typeflag === TypeFlag.Symlink) {
        const dir = cur.includes("/") ? cur.slice(0, cur.lastIndexOf("/")) : "";
        cur = normalize(m.linkname.startsWith("/") ? m.linkname : `${dir}/${m.linkname}`);
        continue;
      }
      if (m.typeflag === TypeFlag.Hardlink) {
        cur = clean(m.linkname);
        continue;
      }
      return m.typeflag === TypeFlag.File || m.typeflag === TypeFlag.Contiguous ? m : undefined;
    }
    return undefined;
  }

  /** The member's bytes, or STRATA_ARCHIVE_MISSING_MEMBER. */
  get(name: string): TarMember {
    const m = this.find(name);
    if (!m) throw new StrataError("STRATA_ARCHIVE_MISSING_MEMBER", `${this.path} has no file ${JSON.stringify(name)}`);
    return m;
  }

  async read(name: string): Promise<Buffer> {
    const m = this.get(name);
    const fh = await fsp.open(this.path, "r");
    try {
      const buf = Buffer.alloc(m.size);
      await fh.read(buf, 0, m.size, m.offset);
      return buf;
    } finally {
      await fh.close();
    }
  }

  stream(member: TarMember): Readable {
    if (member.size === 0) return Readable.from([]);
    return createReadStream(this.path, { start: member.offset, end: member.offset + member.size - 1, highWaterMark: 1 << 20 });
  }
}

function clean(name: string): string {
  return name
    .split("/")
    .filter((p) => p !== "" && p !== ".")
    .join("/");
}

/** Resolves `.` and `..` lexically (inside the archive's namespace, never above its top). */
function normalize(p: string): string {
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return out.join("/");
}
