import { StrataError } from "@strata/graph";
import { layerLimits, layerTooLarge, layerTooManyEntries, oldGnuExtension, oldGnuSparse, paxSparse, SparseExpander, type SparseInfo } from "@strata/oci";

type TarMemberType = "file" | "directory" | "symlink" | "link" | "char-device" | "block-device" | "fifo";

/** One member's header, pax and GNU long-name records already applied. */
export interface TarMember {
  readonly name: string;
  readonly type: TarMemberType;
  /** Permission bits with setuid/setgid/sticky. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
  readonly linkname: string;
  readonly devmajor: number;
  readonly devminor: number;
}

const BLOCK = 512;

/**
 * Reads a tar stream (v7, ustar, pax, GNU long names and base-256 numbers), yielding each
 * member with its body as a stream of chunks. A body must be consumed (or abandoned) before
 * asking for the next member; what is left of it is skipped. Written for ADD, which reads
 * archives from users: lengths are bounded, checksums verified, a truncated archive is an
 * error rather than a short file.
 */
export async function* readTar(input: AsyncIterable<Uint8Array>, maxEntries: number = layerLimits().maxEntries): AsyncGenerator<{ header: TarMember; body: AsyncIterable<Buffer> }> {
  const r = new ByteReader(input);
  let entries = 0;
  // Sparse files' holes become bytes: their real sizes count against the byte bound too.
  let sparseBytes = 0;
  const maxBytes = layerLimits().maxBytes;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  const globalPax: Record<string, string> = {};
  try {
    for (;;) {
      const block = await r.exact(BLOCK);
      if (block.length === 0) return; // no end marker: tolerated, as Go's reader does at a block boundary
      if (block.length < BLOCK) throw corrupt("the archive ends inside a header");
      if (isZero(block)) return;
      if (!checksumOk(block)) throw corrupt("a header checksum does not match");
      const flag = String.fromCharCode(block[156] as number);
      const size = num(block, 124, 12);
      if (flag === "x" || flag === "g" || flag === "L" || flag === "K") {
        if (size > 16 << 20) throw corrupt("an extended header is larger than 16 MiB");
        const data = await r.exact(size);
        if (data.length < size) throw corrupt("the archive ends inside an extended header");
        await r.skip(pad(size));
        if (flag === "x") pax = { ...pax, ...parsePax(data) };
        else if (flag === "g") Object.assign(globalPax, parsePax(data));
        else if (flag === "L") longName = cstr(data, 0, data.length);
        else longLink = cstr(data, 0, data.length);
        continue;
      }
      if (++entries > maxEntries) throw layerTooManyEntries(maxEntries);
      const ext = { ...globalPax, ...pax };
      const ustar = block.subarray(257, 263).toString("latin1") === "ustar\0";
      let name = cstr(block, 0, 100);
      if (ustar) {
        const prefix = cstr(block, 345, 155);
        if (prefix !== "") name = `${prefix}/${name}`;
      }
      name = ext.path ?? longName ?? name;
      let sparse: SparseInfo | undefined;
      if (flag === "S") {
        // Old GNU sparse: the map is in the header, and in extension blocks before the data.
        const old = oldGnuSparse(block);
        let extended = old.extended;
        while (extended) {
          const more = await r.exact(BLOCK);
          if (more.length < BLOCK) throw corrupt("the archive ends inside a sparse map");
          extended = oldGnuExtension(more, old.segments);
        }
        sparse = { realSize: old.realSize, segments: old.segments };
      } else sparse = paxSparse(sparseRecords(ext), 0);
      if (sparse?.name !== undefined) name = sparse.name;
      const type = sparse ? "file" : typeOf(flag, name);
      const bodySize = ext.size !== undefined ? Number(ext.size) : size;
      if (!Number.isSafeInteger(bodySize) || bodySize < 0) throw corrupt(`bad size for ${JSON.stringify(name)}`);
      const header: TarMember = {
        name,
        type,
        mode: num(block, 100, 8) & 0o7777,
        uid: ext.uid !== undefined ? Number(ext.uid) : num(block, 108, 8),
        gid: ext.gid !== undefined ? Number(ext.gid) : num(block, 116, 8),
        size: sparse ? sparse.realSize : type === "file" ? bodySize : 0,
        mtime: Math.floor(ext.mtime !== undefined ? Number(ext.mtime) : num(block, 136, 12)),
        linkname: ext.linkpath ?? longLink ?? cstr(block, 157, 100),
        devmajor: type === "char-device" || type === "block-device" ? num(block, 329, 8) : 0,
        devminor: type === "char-device" || type === "block-device" ? num(block, 337, 8) : 0,
      };
      longName = undefined;
      longLink = undefined;
      pax = {};
      // Directories and links may carry a size in odd archives; their data is skipped.
      r.startBody(bodySize);
      if (sparse) {
        sparseBytes += sparse.realSize;
        if (sparseBytes > maxBytes) throw layerTooLarge(maxBytes);
      }
      yield { header, body: sparse ? expandSparse(r.body(), sparse) : r.body() };
      await r.skip(r.bodyLeft);
      await r.skip(pad(bodySize));
    }
  } finally {
    await r.close();
  }
}

/** The GNU.sparse.* pax records, as the shared sparse reader takes them. */
function sparseRecords(ext: Readonly<Record<string, string>>): Record<string, Buffer> | undefined {
  let out: Record<string, Buffer> | undefined;
  for (const [k, v] of Object.entries(ext)) {
    if (!k.startsWith("GNU.sparse.")) continue;
    out ??= {};
    out[k] = Buffer.from(v, "utf8");
  }
  return out;
}

/** A sparse member's content, as Docker reads it: its stored segments at their offsets, zeros elsewhere. */
async function* expandSparse(stored: AsyncIterable<Buffer>, sparse: SparseInfo): AsyncGenerator<Buffer> {
  const out: Buffer[] = [];
  const x = new SparseExpander((c) => out.push(c), sparse.realSize, sparse.segments, 0);
  for await (const chunk of stored) {
    x.feed(chunk);
    yield* out.splice(0);
  }
  x.finish();
  yield* out.splice(0);
}

function typeOf(flag: string, name: string): TarMemberType {
  switch (flag) {
    case "0":
    case "\0":
    case "7":
      // v7 archives mark directories with a trailing slash only
      return flag === "\0" && name.endsWith("/") ? "directory" : "file";
    case "1":
      return "link";
    case "2":
      return "symlink";
    case "3":
      return "char-device";
    case "4":
      return "block-device";
    case "5":
      return "directory";
    case "6":
      return "fifo";
    default:
      throw new StrataError("STRATA_COPY_ARCHIVE_UNSUPPORTED", `archive member ${JSON.stringify(name)} has unsupported type ${JSON.stringify(flag)}`);
  }
}

function corrupt(why: string): StrataError {
  return new StrataError("STRATA_COPY_BAD_ARCHIVE", `cannot read the archive: ${why}`);
}

function pad(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Unsigned or signed sum of the header with the checksum field read as spaces. */
export function checksumOk(b: Uint8Array): boolean {
  const field = Buffer.from(b.subarray(148, 156)).toString("latin1").replace(/[\0 ]+$/, "").replace(/^[\0 ]+/, "");
  if (!/^[0-7]+$/.test(field)) return false;
  const want = parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : (b[i] as number);
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  return want === unsigned || want === signed;
}

/** An octal field, or a GNU base-256 one (high bit of the first byte set). */
function num(b: Buffer, off: number, len: number): number {
  const first = b[off] as number;
  if (first & 0x80) {
    let v = first & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + (b[off + i] as number);
    return v;
  }
  const s = b.toString("latin1", off, off + len).replace(/\0.*$/s, "").trim();
  return s === "" ? 0 : parseInt(s, 8) || 0;
}

function cstr(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString("utf8", off, end < 0 || end > off + len ? off + len : end);
}

/** pax records: "<len> <key>=<value>\n". */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number(data.toString("latin1", i, sp));
    if (!Number.isSafeInteger(len) || len <= 0 || i + len > data.length) throw corrupt("a pax record is malformed");
    const rec = data.toString("utf8", sp + 1, i + len - 1);
    const eq = rec.indexOf("=");
    const key = rec.slice(0, eq);
    // PAX sparse 0.0 repeats offset/numbytes per segment: keep them all, in order, as 0.1's map.
    if (key === "GNU.sparse.offset" || key === "GNU.sparse.numbytes") out["GNU.sparse.map"] = out["GNU.sparse.map"] === undefined ? rec.slice(eq + 1) : `${out["GNU.sparse.map"]},${rec.slice(eq + 1)}`;
    else if (eq > 0) out[key] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

/** Pulls exact byte counts out of a chunk stream. */
class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  bodyLeft = 0;

  constructor(input: AsyncIterable<Uint8Array>) {
    this.it = input[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    const c = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    this.buf = this.buf.length === 0 ? c : Buffer.concat([this.buf, c]);
    return true;
  }

  /** n bytes, fewer only at the end of the stream. */
  async exact(n: number): Promise<Buffer> {
    while (this.buf.length < n && (await this.fill()));
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.fill())) throw corrupt("the archive ends inside a member");
      const k = Math.min(left, this.buf.length);
      this.buf = this.buf.subarray(k);
      left -= k;
      if (this.bodyLeft > 0) this.bodyLeft = Math.max(0, this.bodyLeft - k);
    }
  }

  startBody(n: number): void {
    this.bodyLeft = n;
  }

  async *body(): AsyncGenerator<Buffer> {
    while (this.bodyLeft > 0) {
      if (this.buf.length === 0 && !(await this.fill())) throw corrupt("the archive ends inside a member");
      const k = Math.min(this.bodyLeft, this.buf.length);
      const out = this.buf.subarray(0, k);
      this.buf = this.buf.subarray(k);
      this.bodyLeft -= k;
      yield out;
    }
  }

  async close(): Promise<void> {
    if (!this.done) await this.it.return?.();
  }
}
