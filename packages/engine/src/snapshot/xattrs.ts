import { StrataError } from "@strata/graph";
import { runCommand, which } from "../sandbox-util/command.ts";

/** Extended attributes per absolute path, as raw bytes. */
export type XattrMap = Map<string, Map<string, Uint8Array>>;

export const OPAQUE_XATTR = "trusted.overlay.opaque";

/** Many paths per getfattr call, few enough to stay far below ARG_MAX. */
const BATCH = 500;

/**
 * Node has no xattr API, so attributes are read with getfattr (package `attr`): one process
 * for a whole tree (`-R`) or per batch of paths. Symlinks are not followed. Paths that vanished
 * are skipped. Throws `STRATA_SNAPSHOT_TOOL_MISSING` when getfattr is not installed.
 */
export async function readXattrs(target: { tree: string } | { paths: readonly string[] }, pattern = "-"): Promise<XattrMap> {
  const getfattr = await which("getfattr");
  if (!getfattr) {
    throw new StrataError("STRATA_SNAPSHOT_TOOL_MISSING", "reading a RUN step's changes needs getfattr", {
      hint: "install the attr package (apt-get install attr)",
    });
  }
  const base = [getfattr, "-h", "-d", "-m", pattern, "-e", "base64", "--absolute-names"];
  const out: XattrMap = new Map();
  if ("tree" in target) {
    const r = await runCommand([...base, "-R", "-P", target.tree]);
    if (r.code !== 0 && r.code !== 1) throw new StrataError("STRATA_SNAPSHOT_XATTR", `getfattr failed: ${r.stderr.trim()}`);
    parseDump(r.stdout, out);
    return out;
  }
  for (let i = 0; i < target.paths.length; i += BATCH) {
    // Exit status 1 only means some paths had no attribute of that name or vanished.
    const r = await runCommand([...base, "--", ...target.paths.slice(i, i + BATCH)]);
    parseDump(r.stdout, out);
  }
  return out;
}

/** Parses `getfattr -d -e base64` output ("# file: <escaped path>" then `name=0s<base64>` lines). */
export function parseDump(text: Buffer, into: XattrMap = new Map()): XattrMap {
  let current: Map<string, Uint8Array> | undefined;
  for (const raw of splitLines(text)) {
    if (raw.length === 0) continue;
    const line = raw.toString("latin1");
    if (line.startsWith("# file: ")) {
      const path = unescapeName(raw.subarray(8));
      current = into.get(path) ?? new Map();
      into.set(path, current);
      continue;
    }
    if (!current) continue;
    const eq = line.indexOf("=");
    const name = eq < 0 ? line : line.slice(0, eq);
    const value = eq < 0 ? "" : line.slice(eq + 1);
    current.set(name, decodeValue(value));
  }
  return into;
}

/** The input format of `setfattr --restore`: one block per path, values in base64. */
export function formatDump(entries: Iterable<readonly [string, ReadonlyMap<string, Uint8Array>]>): Buffer {
  const parts: Buffer[] = [];
  for (const [path, attrs] of entries) {
    if (attrs.size === 0) continue;
    parts.push(Buffer.from("# file: "), escapeName(path), Buffer.from("\n"));
    for (const [name, value] of attrs) parts.push(Buffer.from(`${name}=0s${Buffer.from(value).toString("base64")}\n`));
    parts.push(Buffer.from("\n"));
  }
  return Buffer.concat(parts);
}

/** Writes attributes with one `setfattr --restore` call. */
export async function writeXattrs(entries: Iterable<readonly [string, ReadonlyMap<string, Uint8Array>]>): Promise<void> {
  const dump = formatDump(entries);
  if (dump.length === 0) return;
  const setfattr = await which("setfattr");
  if (!setfattr) {
    throw new StrataError("STRATA_SNAPSHOT_TOOL_MISSING", "copying a root filesystem with extended attributes needs setfattr", {
      hint: "install the attr package (apt-get install attr)",
    });
  }
  const r = await runCommand([setfattr, "-h", "--restore=-"], { input: dump });
  if (r.code !== 0) throw new StrataError("STRATA_SNAPSHOT_XATTR", `setfattr --restore failed: ${r.stderr.trim()}`);
}

function decodeValue(v: string): Uint8Array {
  if (v.startsWith("0s")) return new Uint8Array(Buffer.from(v.slice(2), "base64"));
  if (v.startsWith("0x")) return new Uint8Array(Buffer.from(v.slice(2), "hex"));
  if (v.startsWith('"') && v.endsWith('"')) return new Uint8Array(Buffer.from(unescapeName(Buffer.from(v.slice(1, -1), "latin1")), "utf8"));
  return new Uint8Array(Buffer.from(v, "utf8"));
}

function splitLines(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x0a) {
      out.push(buf.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < buf.length) out.push(buf.subarray(start));
  return out;
}

/** getfattr writes control characters and backslashes in names as `\ooo`; other bytes raw. */
function unescapeName(raw: Buffer): string {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0x5c && i + 3 < raw.length && /^[0-7]{3}$/.test(raw.subarray(i + 1, i + 4).toString("latin1"))) {
      bytes.push(parseInt(raw.subarray(i + 1, i + 4).toString("latin1"), 8));
      i += 3;
    } else {
      bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

function escapeName(path: string): Buffer {
  const src = Buffer.from(path, "utf8");
  const out: number[] = [];
  for (const b of src) {
    if (b < 0x20 || b === 0x5c || b === 0x7f) out.push(...Buffer.from(`\\${b.toString(8).padStart(3, "0")}`, "latin1"));
    else out.push(b);
  }
  return Buffer.from(out);
}
