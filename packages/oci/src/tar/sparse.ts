/**
 * GNU sparse files, read as Docker reads them (Go's archive/tar): a regular file of its real
 * size whose holes read as zeros. Three encodings exist: the old GNU header ('S' entries, with
 * the map in the header and in extension blocks), PAX 0.0/0.1 (the map in pax records) and
 * PAX 1.0 (the map as decimal text at the start of the entry's data).
 */
import { StrataError } from "@strata/graph";
import { BLOCK } from "./header.ts";

export interface SparseSegment {
  readonly offset: number;
  readonly length: number;
}

/** What an entry's headers say about its sparseness. */
export interface SparseInfo {
  readonly realSize: number;
  /** The data segments; undefined for PAX 1.0, whose map precedes the data. */
  readonly segments: SparseSegment[] | undefined;
  /** The real name (PAX formats store the entry under a placeholder name). */
  readonly name?: string;
}

function bad(msg: string, offset: number): never {
  throw new StrataError("STRATA_TAR_CORRUPT", `invalid tar archive at byte ${offset}: sparse file: ${msg}`, {
    hint: "the layer or archive is damaged, or not a tar GNU tar or Go could read",
  });
}

function num(b: Buffer, at: number, len: number): number {
  const first = b[at] as number;
  if (first & 0x80) {
    let v = first & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + (b[at + i] as number);
    return v;
  }
  const s = b.toString("latin1", at, at + len).replace(/[\0 ]+$/, "").replace(/^[\0 ]+/, "");
  return s === "" ? 0 : parseInt(s, 8);
}

/** Reads `count` 24-byte (offset, numbytes) pairs at `at`; an all-zero pair ends the list. */
function readOldGnuEntries(block: Buffer, at: number, count: number, into: SparseSegment[]): void {
  for (let i = 0; i < count; i++) {
    const p = at + i * 24;
    if (block[p] === 0 && block[p + 12] === 0) return;
    into.push({ offset: num(block, p, 12), length: num(block, p + 12, 12) });
  }
}

/** The old GNU header's map: 4 entries at 386, `isextended` at 482, real size at 483. */
export function oldGnuSparse(block: Buffer): { segments: SparseSegment[]; extended: boolean; realSize: number } {
  const segments: SparseSegment[] = [];
  readOldGnuEntries(block, 386, 4, segments);
  return { segments, extended: block[482] === 1, realSize: num(block, 483, 12) };
}

/** An extension block: 21 entries, `isextended` at 504. */
export function oldGnuExtension(block: Buffer, into: SparseSegment[]): boolean {
  readOldGnuEntries(block, 0, 21, into);
  return block[504] === 1;
}

/** Sparse info from pax records, or undefined for an ordinary entry. */
export function paxSparse(pax: Readonly<Record<string, Buffer>> | undefined, offset: number): SparseInfo | undefined {
  if (!pax) return undefined;
  const s = (k: string) => pax[k]?.toString("utf8");
  const int = (k: string) => {
    const v = s(k);
    const n = Number(v);
    if (v === undefined || !/^\d+$/.test(v) || !Number.isSafeInteger(n)) bad(`bad ${k}`, offset);
    return n;
  };
  const name = s("GNU.sparse.name");
  if (s("GNU.sparse.major") === "1" && s("GNU.sparse.minor") === "0") {
    return { realSize: int("GNU.sparse.realsize"), segments: undefined, ...(name !== undefined ? { name } : {}) };
  }
  const map = s("GNU.sparse.map");
  if (map === undefined) return undefined;
  const nums = map === "" ? [] : map.split(",").map((x) => (/^\d+$/.test(x) ? Number(x) : bad("bad map", offset)));
  if (nums.length % 2) bad("odd map", offset);
  const segments: SparseSegment[] = [];
  for (let i = 0; i < nums.length; i += 2) segments.push({ offset: nums[i]!, length: nums[i + 1]! });
  return { realSize: int("GNU.sparse.size"), segments, ...(name !== undefined ? { name } : {}) };
}

const ZEROS = Buffer.alloc(1 << 20);

/**
 * Turns an entry's stored data (the segments, back to back; for PAX 1.0 preceded by the map)
 * into the file's content: zeros for the holes, the segments at their offsets, zeros to the
 * real size. Segments must ascend, not overlap, and fit the real size, as Go requires.
 */
export class SparseExpander {
  private pos = 0;
  private seg = 0;
  private segLeft = 0;
  private segments: SparseSegment[] | undefined;
  /** PAX 1.0: the map text read so far, and how many bytes of it (with padding) remain to skip. */
  private mapText = "";
  private mapConsumed = 0;
  private mapSkip = -1;

  constructor(
    private readonly emit: (chunk: Buffer) => void,
    private readonly realSize: number,
    segments: SparseSegment[] | undefined,
    private readonly offset: number,
  ) {
    if (segments) this.setSegments(segments);
  }

  private setSegments(segments: SparseSegment[]): void {
    let end = 0;
    for (const s of segments) {
      if (!Number.isSafeInteger(s.offset) || !Number.isSafeInteger(s.length) || s.offset < end || s.offset + s.length > this.realSize) bad("segments overlap or exceed the real size", this.offset);
      end = s.offset + s.length;
    }
    this.segments = segments;
    this.segLeft = segments[0]?.length ?? 0;
  }

  feed(chunk: Buffer): void {
    let at = 0;
    if (!this.segments) at = this.readMap(chunk);
    if (this.mapSkip > 0) {
      const n = Math.min(this.mapSkip, chunk.length - at);
      this.mapSkip -= n;
      at += n;
    }
    const segs = this.segments;
    while (segs && at < chunk.length) {
      while (this.seg < segs.length && this.segLeft === 0) {
        this.seg++;
        this.segLeft = segs[this.seg]?.length ?? 0;
      }
      const s = segs[this.seg];
      if (!s) bad("more data than the map describes", this.offset);
      if (this.pos < s.offset) this.zeros(s.offset - this.pos);
      const n = Math.min(this.segLeft, chunk.length - at);
      this.emit(chunk.subarray(at, at + n));
      this.pos += n;
      this.segLeft -= n;
      at += n;
    }
  }

  /** PAX 1.0's map: decimal numbers, one per line (count, then offset/length pairs), padded to a block. */
  private readMap(chunk: Buffer): number {
    let at = 0;
    while (at < chunk.length && !this.segments) {
      const c = chunk[at++]!;
      this.mapConsumed++;
      if (this.mapConsumed > 16 << 20) bad("map too large", this.offset);
      if (c !== 0x0a) {
        if (c < 0x30 || c > 0x39) bad("bad map", this.offset);
        this.mapText += String.fromCharCode(c);
        continue;
      }
      this.mapText += "\n";
      const nums = this.mapText.split("\n").slice(0, -1).map(Number);
      const count = nums[0]!;
      if (nums.length === 1 + 2 * count) {
        const segments: SparseSegment[] = [];
        for (let i = 1; i < nums.length; i += 2) segments.push({ offset: nums[i]!, length: nums[i + 1]! });
        this.setSegments(segments);
        this.mapSkip = (BLOCK - (this.mapConsumed % BLOCK)) % BLOCK;
      }
    }
    return at;
  }

  private zeros(n: number): void {
    let left = n;
    while (left > 0) {
      const k = Math.min(left, ZEROS.length);
      this.emit(ZEROS.subarray(0, k));
      left -= k;
    }
    this.pos += n;
  }

  /** The stored data is complete: every segment must be full; the rest of the file is a hole. */
  finish(): void {
    const segs = this.segments;
    if (!segs) bad("the map is incomplete", this.offset);
    if (this.segLeft > 0 || segs.slice(this.seg + 1).some((s) => s.length > 0)) bad("less data than the map describes", this.offset);
    if (this.pos < this.realSize) this.zeros(this.realSize - this.pos);
  }
}
