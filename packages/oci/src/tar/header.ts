/**
 * The tar header codec (POSIX ustar + pax extended headers), written by hand rather than
 * with tar-stream's encoder because layers need exact control of every byte: tar-stream
 * encodes pax values as UTF-8 text (which corrupts binary xattrs such as
 * `security.capability`), silently saturates uids above 0o7777777, and has no pax path for
 * non-ASCII user names. The output follows Go's archive/tar in PAX mode (what Docker,
 * BuildKit and containerd write), so layers look familiar to every tool that reads them.
 */

export const BLOCK = 512;

/** Typeflags used in layers. */
export const TypeFlag = Object.freeze({
  File: 0x30, // '0'
  Hardlink: 0x31, // '1'
  Symlink: 0x32, // '2'
  CharDevice: 0x33, // '3'
  BlockDevice: 0x34, // '4'
  Directory: 0x35, // '5'
  Fifo: 0x36, // '6'
  Contiguous: 0x37, // '7' (read as a regular file)
  PaxHeader: 0x78, // 'x'
  PaxGlobal: 0x67, // 'g'
  GnuLongName: 0x4c, // 'L'
  GnuSparse: 0x53, // 'S' (old GNU sparse file)
  GnuLongLink: 0x4b, // 'K'
} as const);

/** Everything one entry's header(s) carry, before encoding. */
export interface HeaderFields {
  /** Full name as it appears in the archive (directories end with `/`). */
  readonly name: string;
  readonly typeflag: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** Whole seconds since the epoch. */
  readonly mtime: number;
  readonly linkname?: string;
  readonly uname?: string;
  readonly gname?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
  readonly xattrs?: Readonly<Record<string, Uint8Array>>;
}

const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

// biome-ignore lint/suspicious/noControlCharactersInRegex: ustar fields hold any ASCII byte but NUL, control characters included
const ASCII_ONLY = /^[\x01-\x7f]*$/;

/**
 * Bytes needed to encode `h` (pax header, if any, plus the ustar header), so callers can
 * reserve buffer space before calling `encodeHeader`.
 */
export function encodedHeaderSize(h: HeaderFields, pax: Buffer | undefined = paxRecords(h)): number {
  return pax ? BLOCK + padded(pax.length) + BLOCK : BLOCK;
}

/** Round up to a whole number of 512-byte blocks. */
export function padded(n: number): number {
  return (n + BLOCK - 1) & ~(BLOCK - 1);
}

/**
 * Encodes `h` into `out` at `offset` (which must have `encodedHeaderSize(h)` bytes free and
 * be zero-filled or will be overwritten completely) and returns the number of bytes written.
 */
export function encodeHeader(h: HeaderFields, out: Buffer, offset: number, pax: Buffer | undefined = paxRecords(h)): number {
  let at = offset;
  if (pax) {
    const paxName = paxHeaderName(h.name);
    writeUstar(out, at, { name: paxName, typeflag: TypeFlag.PaxHeader, mode: 0o644, uid: 0, gid: 0, size: pax.length, mtime: h.mtime }, true);
    at += BLOCK;
    pax.copy(out, at);
    const end = at + padded(pax.length);
    out.fill(0, at + pax.length, end);
    at = end;
  }
  writeUstar(out, at, h, false);
  return at + BLOCK - offset;
}

/**
 * The pax records `h` needs (sorted by key, as Go writes them), or undefined if ustar
 * suffices. Callers that size a buffer first pass the result on to avoid computing it twice.
 */
export function paxRecords(h: HeaderFields): Buffer | undefined {
  // Fast path: the common entry (short ASCII name, small numbers, no owner names or xattrs).
  if (
    h.xattrs === undefined &&
    h.uname === undefined &&
    h.gname === undefined &&
    h.linkname === undefined &&
    h.uid <= MAX_OCTAL_7 &&
    h.gid <= MAX_OCTAL_7 &&
    h.size <= MAX_OCTAL_11 &&
    h.mtime <= MAX_OCTAL_11 &&
    h.name.length <= 100 &&
    ASCII_ONLY.test(h.name)
  ) {
    return undefined;
  }
  const recs: [string, string | Uint8Array][] = [];
  if (!splitUstarName(h.name)) recs.push(["path", h.name]);
  if (h.linkname !== undefined && (!ASCII_ONLY.test(h.linkname) || h.linkname.length > 100)) recs.push(["linkpath", h.linkname]);
  if (h.uid > MAX_OCTAL_7) recs.push(["uid", String(h.uid)]);
  if (h.gid > MAX_OCTAL_7) recs.push(["gid", String(h.gid)]);
  if (h.size > MAX_OCTAL_11) recs.push(["size", String(h.size)]);
  if (h.mtime > MAX_OCTAL_11) recs.push(["mtime", String(h.mtime)]);
  if (h.uname !== undefined && (!ASCII_ONLY.test(h.uname) || h.uname.length > 32)) recs.push(["uname", h.uname]);
  if (h.gname !== undefined && (!ASCII_ONLY.test(h.gname) || h.gname.length > 32)) recs.push(["gname", h.gname]);
  if (h.xattrs) {
    for (const key of Object.keys(h.xattrs)) recs.push([`SCHILY.xattr.${key}`, h.xattrs[key] as Uint8Array]);
  }
  if (recs.length === 0) return undefined;
  recs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return Buffer.concat(recs.map(([k, v]) => paxRecord(k, v)));
}

/** One `"%d %s=%s\n"` record, where the length counts itself. */
function paxRecord(key: string, value: string | Uint8Array): Buffer {
  const v = typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const body = Buffer.byteLength(key) + v.length + 3; // ' ', '=', '\n'
  let len = body + String(body).length;
  if (String(len).length !== String(body).length) len = body + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`, "utf8"), v, Buffer.from("\n")]);
}

/** Go's archive/tar names the pax header `<dir>/PaxHeaders.0/<base>`: deterministic, unlike GNU tar's pid-based name. */
function paxHeaderName(name: string): string {
  const trimmed = name.endsWith("/") ? name.slice(0, -1) : name;
  const slash = trimmed.lastIndexOf("/");
  const dir = slash < 0 ? "" : trimmed.slice(0, slash + 1);
  const base = slash < 0 ? trimmed : trimmed.slice(slash + 1);
  return toAscii(`${dir}PaxHeaders.0/${base}`).slice(0, 100);
}

/** ASCII-only fallback for the ustar fields when the real value lives in a pax record. */
function toAscii(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the complement of ASCII_ONLY above
  return ASCII_ONLY.test(s) ? s : s.replace(/[^\x01-\x7f]/g, "");
}

/** `[prefix, name]` when `name` fits ustar's 155 + 100 byte split, else undefined. */
function splitUstarName(name: string): [string, string] | undefined {
  if (!ASCII_ONLY.test(name)) return undefined;
  if (name.length <= 100) return ["", name];
  // Split at the last '/' that leaves a prefix <= 155 bytes and a non-empty name <= 100.
  const limit = Math.min(name.length - 1, 155);
  for (let i = limit; i >= 0; i--) {
    if (name.charCodeAt(i) !== 0x2f) continue;
    const rest = name.length - i - 1;
    if (rest > 100) return undefined;
    if (rest === 0) continue;
    return [name.slice(0, i), name.slice(i + 1)];
  }
  return undefined;
}

function writeUstar(out: Buffer, at: number, h: HeaderFields, isPax: boolean): void {
  out.fill(0, at, at + BLOCK);
  const split: [string, string] | undefined = isPax ? ["", h.name] : splitUstarName(h.name);
  const [prefix, name] = split ?? ["", toAscii(h.name).slice(0, 100)];
  out.write(name, at, 100, "latin1");
  writeOctal(out, at + 100, 8, h.mode & 0o7777);
  writeOctal(out, at + 108, 8, h.uid > MAX_OCTAL_7 ? 0 : h.uid);
  writeOctal(out, at + 116, 8, h.gid > MAX_OCTAL_7 ? 0 : h.gid);
  writeOctal(out, at + 124, 12, h.size > MAX_OCTAL_11 ? 0 : h.size);
  writeOctal(out, at + 136, 12, h.mtime > MAX_OCTAL_11 ? 0 : h.mtime);
  out[at + 156] = h.typeflag;
  if (h.linkname !== undefined) out.write(toAscii(h.linkname).slice(0, 100), at + 157, 100, "latin1");
  out.write("ustar\x0000", at + 257, 8, "latin1");
  if (h.uname !== undefined) out.write(toAscii(h.uname).slice(0, 32), at + 265, 32, "latin1");
  if (h.gname !== undefined) out.write(toAscii(h.gname).slice(0, 32), at + 297, 32, "latin1");
  writeOctal(out, at + 329, 8, h.devmajor ?? 0);
  writeOctal(out, at + 337, 8, h.devminor ?? 0);
  if (prefix) out.write(prefix, at + 345, 155, "latin1");
  // Checksum: sum of all bytes with the checksum field taken as spaces; "%06o\0 ".
  out.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + BLOCK; i++) sum += out[i] as number;
  const ck = sum.toString(8).padStart(6, "0");
  out.write(ck, at + 148, 6, "latin1");
  out[at + 154] = 0;
  out[at + 155] = 0x20;
}

/** Zero-padded octal digits followed by NUL, filling the field (Go and GNU tar do the same). */
function writeOctal(out: Buffer, at: number, width: number, value: number): void {
  let v = Math.max(0, Math.floor(value));
  out[at + width - 1] = 0;
  for (let i = at + width - 2; i >= at; i--) {
    out[i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
}
