import { StrataError } from "@strata/graph";
import { layerLimits, layerTooLarge, layerTooManyEntries } from "../layer-limits.ts";
import { BLOCK, padded, TypeFlag } from "./header.ts";
import { oldGnuExtension, oldGnuSparse, paxSparse, SparseExpander, type SparseSegment } from "./sparse.ts";

/** A decoded tar entry header (pax and GNU long names already applied). */
export interface TarHeader {
  /** The entry name as stored (may start with `./` or `/`, may end with `/`). */
  readonly name: string;
  readonly typeflag: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of content that follow (0 for header-only types, whatever the field says). */
  readonly size: number;
  /** Seconds since the epoch (pax mtimes may carry a fraction). */
  readonly mtime: number;
  readonly linkname: string;
  readonly uname: string;
  readonly gname: string;
  readonly devmajor: number;
  readonly devminor: number;
  /** `SCHILY.xattr.*` records, values as raw bytes. */
  readonly xattrs: Readonly<Record<string, Buffer>> | undefined;
}

export interface TarHandler {
  /** Called for every entry, before its content. */
  entry(header: TarHeader): void;
  /** Content of the current entry, in order; the buffer is only valid during the call. */
  data(chunk: Buffer): void;
  /** Called once the current entry's content is complete. */
  entryEnd(): void;
}

/** Metadata bodies (pax, GNU long names) beyond this are refused: a tar bomb guard. */
const MAX_META_BODY = 16 << 20;

const HEADER_ONLY = new Set<number>([TypeFlag.Hardlink, TypeFlag.Symlink, TypeFlag.CharDevice, TypeFlag.BlockDevice, TypeFlag.Directory, TypeFlag.Fifo]);

type State =
  | { kind: "header" }
  | { kind: "body"; left: number; pad: number; sparse?: SparseExpander }
  /** Old GNU sparse: extension blocks of the map follow the header. */
  | { kind: "sparseExt"; header: TarHeader; segments: SparseSegment[]; stored: number }
  | { kind: "meta"; typeflag: number; size: number; parts: Buffer[]; got: number; pad: number }
  | { kind: "end" };

/**
 * A synchronous push parser: feed it chunks with `write`, and it calls the handler
 * synchronously, so a consumer can write files with sync fs calls and no queueing.
 * Checksums are verified; anything malformed throws STRATA_TAR_CORRUPT.
 */
export class TarParser {
  private state: State = { kind: "header" };
  private pending: Buffer | undefined;
  private pax: Record<string, Buffer> | undefined;
  private longName: string | undefined;
  private longLink: string | undefined;
  private zeroBlocks = 0;
  /** Total bytes consumed, for error messages. */
  private offset = 0;
  private headers = 0;
  private readonly maxEntries: number;
  /** The real sizes of sparse files: their holes become bytes on extraction, so they count against the byte bound. */
  private sparseBytes = 0;
  private readonly maxBytes: number;

  /**
   * `maxEntries`: entries before STRATA_LAYER_TOO_MANY_ENTRIES; `maxBytes`: the real size of
   * sparse files before STRATA_LAYER_TOO_LARGE (their holes are not in the stream the
   * decompressor counts). Defaults: the layer bounds (STRATA_MAX_LAYER_ENTRIES / _BYTES).
   */
  constructor(
    private readonly handler: TarHandler,
    opts: { readonly maxEntries?: number; readonly maxBytes?: number } = {},
  ) {
    const limits = opts.maxEntries === undefined || opts.maxBytes === undefined ? layerLimits() : undefined;
    this.maxEntries = opts.maxEntries ?? limits!.maxEntries;
    this.maxBytes = opts.maxBytes ?? limits!.maxBytes;
  }

  get ended(): boolean {
    return this.state.kind === "end";
  }

  write(input: Buffer): void {
    let chunk = input;
    if (this.pending) {
      chunk = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let at = 0;
    while (at < chunk.length) {
      const st = this.state;
      if (st.kind === "end") return;
      let n: number;
      if (st.kind === "body") {
        if (st.left > 0) {
          n = Math.min(st.left, chunk.length - at);
          if (st.sparse) st.sparse.feed(chunk.subarray(at, at + n));
          else this.handler.data(chunk.subarray(at, at + n));
          st.left -= n;
          if (st.left === 0) {
            st.sparse?.finish();
            this.handler.entryEnd();
          }
        } else {
          n = Math.min(st.pad, chunk.length - at);
          st.pad -= n;
        }
        if (st.left === 0 && st.pad === 0) this.state = { kind: "header" };
      } else if (st.kind === "meta") {
        if (st.got < st.size) {
          n = Math.min(st.size - st.got, chunk.length - at);
          st.parts.push(Buffer.from(chunk.subarray(at, at + n)));
          st.got += n;
        } else {
          n = Math.min(st.pad, chunk.length - at);
          st.pad -= n;
        }
        if (st.got === st.size && st.pad === 0) this.finishMeta(st);
      } else {
        if (chunk.length - at < BLOCK) {
          this.pending = Buffer.from(chunk.subarray(at));
          return;
        }
        if (st.kind === "sparseExt") this.onSparseExtension(st, chunk.subarray(at, at + BLOCK));
        else this.onHeaderBlock(chunk.subarray(at, at + BLOCK));
        n = BLOCK;
      }
      at += n;
      this.offset += n;
    }
  }

  /** Call at end of input: throws if the archive stopped in the middle of an entry. */
  finish(): void {
    const st = this.state;
    if (st.kind === "end" || (st.kind === "header" && !this.pending)) {
      if (st.kind === "header" && (this.pax || this.longName || this.longLink)) corrupt("archive ends after an extended header", this.offset);
      return;
    }
    if (st.kind === "body" && st.left === 0) return; // missing final padding: tolerated, as GNU tar does
    corrupt("archive is truncated", this.offset);
  }

  private onHeaderBlock(block: Buffer): void {
    if (isZero(block)) {
      // Two zero blocks end the archive; tolerate a single one followed by EOF.
      if (++this.zeroBlocks >= 2) this.state = { kind: "end" };
      return;
    }
    if (this.zeroBlocks > 0) corrupt("data after an end-of-archive block", this.offset);
    verifyChecksum(block, this.offset);
    const typeflag = block[156] === 0 ? TypeFlag.File : (block[156] as number);
    const size = readNumber(block, 124, 12, this.offset);
    if (typeflag === TypeFlag.PaxHeader || typeflag === TypeFlag.PaxGlobal || typeflag === TypeFlag.GnuLongName || typeflag === TypeFlag.GnuLongLink) {
      if (size > MAX_META_BODY) corrupt(`extended header of ${size} bytes is too large`, this.offset);
      this.state = { kind: "meta", typeflag, size, parts: [], got: 0, pad: padded(size) - size };
      if (size === 0) this.finishMeta(this.state);
      return;
    }
    // Extended headers only prefix entries (and the byte bound covers a run of them): count entries.
    if (++this.headers > this.maxEntries) throw layerTooManyEntries(this.maxEntries);
    const old = typeflag === TypeFlag.GnuSparse ? oldGnuSparse(block) : undefined;
    const sparse = old ? { realSize: old.realSize, segments: old.segments } : paxSparse(this.pax, this.offset);
    const h0 = decodeHeader(block, { pax: this.pax, longName: this.longName, longLink: this.longLink }, this.offset, { sparse: sparse !== undefined });
    this.pax = undefined;
    this.longName = undefined;
    this.longLink = undefined;
    if (sparse) {
      // A regular file of its real size, as Docker (Go's archive/tar) extracts it.
      this.sparseBytes += sparse.realSize;
      if (this.sparseBytes > this.maxBytes) throw layerTooLarge(this.maxBytes);
      const h: TarHeader = { ...h0, typeflag: TypeFlag.File, size: sparse.realSize, name: "name" in sparse && sparse.name !== undefined ? sparse.name : h0.name };
      if (old?.extended) this.state = { kind: "sparseExt", header: h, segments: old.segments, stored: h0.size };
      else this.startSparse(h, sparse.segments, h0.size);
      return;
    }
    const h = h0;
    this.handler.entry(h);
    if (h.size === 0) {
      this.handler.entryEnd();
      this.state = { kind: "header" };
    } else {
      this.state = { kind: "body", left: h.size, pad: padded(h.size) - h.size };
    }
  }

  private onSparseExtension(st: Extract<State, { kind: "sparseExt" }>, block: Buffer): void {
    if (!oldGnuExtension(block, st.segments)) this.startSparse(st.header, st.segments, st.stored);
  }

  /** Starts a sparse entry whose `stored` bytes of data (segments, or PAX 1.0's map and segments) follow. */
  private startSparse(h: TarHeader, segments: SparseSegment[] | undefined, stored: number): void {
    this.handler.entry(h);
    const sparse = new SparseExpander((c) => this.handler.data(c), h.size, segments, this.offset);
    if (stored === 0) {
      sparse.finish();
      this.handler.entryEnd();
      this.state = { kind: "header" };
    } else {
      this.state = { kind: "body", left: stored, pad: padded(stored) - stored, sparse };
    }
  }

  private finishMeta(st: Extract<State, { kind: "meta" }>): void {
    const body = Buffer.concat(st.parts);
    this.state = { kind: "header" };
    if (st.typeflag === TypeFlag.GnuLongName) this.longName = cString(body);
    else if (st.typeflag === TypeFlag.GnuLongLink) this.longLink = cString(body);
    else if (st.typeflag === TypeFlag.PaxHeader) this.pax = { ...this.pax, ...parsePax(body, this.offset) };
    // Global pax headers ('g') carry archive-wide defaults nobody uses in layers; ignored like Docker does.
  }
}

/** Extended header state that applies to the next entry. */
export interface PendingExtensions {
  readonly pax?: Readonly<Record<string, Buffer>> | undefined;
  readonly longName?: string | undefined;
  readonly longLink?: string | undefined;
}

/**
 * Decodes an entry header block (checksum already verified), applying pax and GNU long names.
 * Sparse entries are refused unless `opts.sparse` says the caller expands them (TarParser does).
 */
export function decodeHeader(block: Buffer, ext: PendingExtensions, offset: number, opts: { readonly sparse?: boolean } = {}): TarHeader {
  const typeflag = block[156] === 0 ? TypeFlag.File : (block[156] as number);
  const sizeField = readNumber(block, 124, 12, offset);
  const pax = ext.pax;
  const magic = block.toString("latin1", 257, 263);
  let name = cString(block.subarray(0, 100));
  if (magic === "ustar\0" && block[345] !== 0) name = `${cString(block.subarray(345, 500))}/${name}`;
  if (ext.longName !== undefined) name = ext.longName;
  let linkname = cString(block.subarray(157, 257));
  if (ext.longLink !== undefined) linkname = ext.longLink;
  let uid = readNumber(block, 108, 8, offset);
  let gid = readNumber(block, 116, 8, offset);
  let size = sizeField;
  let mtime = readNumber(block, 136, 12, offset);
  let uname = cString(block.subarray(265, 297));
  let gname = cString(block.subarray(297, 329));
  let xattrs: Record<string, Buffer> | undefined;
  if (pax) {
    for (const [k, v] of Object.entries(pax)) {
      switch (k) {
        case "path": name = v.toString("utf8"); break;
        case "linkpath": linkname = v.toString("utf8"); break;
        case "uid": uid = paxInt(v, k, offset); break;
        case "gid": gid = paxInt(v, k, offset); break;
        case "size": size = paxInt(v, k, offset); break;
        case "mtime": mtime = paxFloat(v, offset); break;
        case "uname": uname = v.toString("utf8"); break;
        case "gname": gname = v.toString("utf8"); break;
        default:
          if (k.startsWith("SCHILY.xattr.")) {
            xattrs ??= {};
            xattrs[k.slice("SCHILY.xattr.".length)] = v;
          }
          else if (k.startsWith("GNU.sparse.") && !opts.sparse) corrupt(`sparse files are not supported here (${JSON.stringify(name)})`, offset);
      }
    }
  }
  if (typeflag === TypeFlag.GnuSparse && !opts.sparse) corrupt(`sparse files are not supported here (${JSON.stringify(name)})`, offset);
  // A trailing slash on an old-style regular file means a directory.
  const tf = typeflag === TypeFlag.File && name.endsWith("/") ? TypeFlag.Directory : typeflag;
  return {
    name,
    typeflag: tf,
    mode: readNumber(block, 100, 8, offset) & 0o7777,
    uid,
    gid,
    size: HEADER_ONLY.has(tf) ? 0 : size,
    mtime,
    linkname,
    uname,
    gname,
    devmajor: readNumber(block, 329, 8, offset),
    devminor: readNumber(block, 337, 8, offset),
    xattrs,
  };
}

export function corrupt(msg: string, offset: number): never {
  throw new StrataError("STRATA_TAR_CORRUPT", `invalid tar archive at byte ${offset}: ${msg}`, {
    hint: "the layer or archive is damaged, truncated, or not a tar (is it compressed with an unsupported algorithm?)",
  });
}

export function isZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

export function verifyChecksum(block: Buffer, offset: number): void {
  const stored = readNumber(block, 148, 8, offset);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (stored !== unsigned && stored !== signed) corrupt("header checksum mismatch", offset);
}

export function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString("utf8", 0, nul < 0 ? b.length : nul);
}

/** Octal (with optional spaces/NULs) or GNU base-256 numeric field. */
export function readNumber(b: Buffer, at: number, len: number, offset: number): number {
  const first = b[at] as number;
  if (first & 0x80) {
    if (first === 0xff) corrupt("negative numeric field", offset);
    let v = first & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + (b[at + i] as number);
    if (!Number.isSafeInteger(v)) corrupt("numeric field too large", offset);
    return v;
  }
  let v = 0;
  let seen = false;
  for (let i = at; i < at + len; i++) {
    const c = b[i] as number;
    if (c === 0 || c === 0x20) {
      if (seen) break;
      continue;
    }
    if (c < 0x30 || c > 0x37) corrupt(`invalid octal digit in a numeric field`, offset);
    v = v * 8 + (c - 0x30);
    seen = true;
  }
  return v;
}

export function parsePax(body: Buffer, offset: number): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  let at = 0;
  while (at < body.length) {
    if (body[at] === 0) break; // some writers pad with NULs
    const sp = body.indexOf(0x20, at);
    if (sp < 0) corrupt("malformed pax record", offset);
    const len = Number(body.toString("latin1", at, sp));
    if (!Number.isInteger(len) || len <= sp - at + 1 || at + len > body.length || body[at + len - 1] !== 0x0a) corrupt("malformed pax record", offset);
    const eq = body.indexOf(0x3d, sp + 1);
    if (eq < 0 || eq >= at + len - 1) corrupt("malformed pax record", offset);
    const key = body.toString("utf8", sp + 1, eq);
    const value = Buffer.from(body.subarray(eq + 1, at + len - 1));
    if (key === "GNU.sparse.offset" || key === "GNU.sparse.numbytes") {
      // PAX sparse 0.0 repeats these two records per segment: keep every one, in order, as 0.1's map.
      const map = out["GNU.sparse.map"];
      out["GNU.sparse.map"] = map ? Buffer.concat([map, Buffer.from(","), value]) : value;
    } else out[key] = value;
    at += len;
  }
  return out;
}

function paxInt(v: Buffer, key: string, offset: number): number {
  const n = Number(v.toString("latin1"));
  if (!Number.isSafeInteger(n) || n < 0) corrupt(`invalid pax ${key}`, offset);
  return n;
}

function paxFloat(v: Buffer, offset: number): number {
  const n = Number(v.toString("latin1"));
  if (!Number.isFinite(n)) corrupt("invalid pax mtime", offset);
  return n;
}
