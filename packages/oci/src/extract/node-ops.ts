import { spawnSync } from "node:child_process";
import { StrataError } from "@strata/graph";

/**
 * File-system operations Node has no API for — mknod, mkfifo, setxattr — done in batches
 * through small standard tools (coreutils `mknod`/`mkfifo`, attr's `setfattr`), so an
 * overlay-mode layer with hundreds of whiteouts costs a few process starts, not hundreds.
 * Callers pass absolute paths they have already checked to be inside their root.
 */

export interface SpecialNode {
  readonly abs: string;
  readonly kind: "c" | "b" | "p";
  readonly major: number;
  readonly minor: number;
}

const MKNOD_SCRIPT = `set -e
while [ $# -gt 0 ]; do
  if [ "$1" = p ]; then mkfifo -m 0600 -- "$2"; shift 2
  else mknod -m 0600 -- "$2" "$1" "$3" "$4"; shift 4; fi
done`;

/** Bytes of arguments per `sh` invocation, well under ARG_MAX. */
const ARGS_PER_CALL = 96 << 10;

export function makeSpecialNodes(nodes: readonly SpecialNode[]): void {
  let args: string[] = [];
  let bytes = 0;
  const run = (): void => {
    if (args.length === 0) return;
    const r = spawnSync("sh", ["-c", MKNOD_SCRIPT, "sh", ...args], { encoding: "utf8" });
    if (r.error || r.status !== 0) {
      throw new StrataError("STRATA_EXTRACT_MKNOD_FAILED", `creating device nodes or fifos failed: ${(r.error?.message ?? r.stderr).trim()}`);
    }
    args = [];
    bytes = 0;
  };
  for (const n of nodes) {
    const a = n.kind === "p" ? ["p", n.abs] : [n.kind, n.abs, String(n.major), String(n.minor)];
    args.push(...a);
    bytes += n.abs.length + 32;
    if (bytes > ARGS_PER_CALL) run();
  }
  run();
}

export interface XattrOp {
  readonly abs: string;
  readonly name: string;
  readonly value: Uint8Array;
}

let setfattrChecked: boolean | undefined;

/** Whether attr's `setfattr` is installed (checked once). */
function hasSetfattr(): boolean {
  if (setfattrChecked === undefined) {
    const r = spawnSync("setfattr", ["--version"], { encoding: "utf8" });
    setfattrChecked = !r.error && r.status === 0;
  }
  return setfattrChecked;
}

/**
 * Sets extended attributes without following symlinks (`setfattr -h --restore`); returns one
 * message per attribute the file system refused (e.g. `user.*` on a symlink, `security.selinux`
 * without SELinux), which callers report as warnings.
 */
export function setXattrs(ops: readonly XattrOp[]): string[] {
  if (ops.length === 0) return [];
  if (!hasSetfattr()) {
    throw new StrataError("STRATA_EXTRACT_XATTR_UNAVAILABLE", "setting extended attributes needs the setfattr command", {
      hint: "install it (Debian/Ubuntu: apt-get install attr)",
    });
  }
  const lines: string[] = [];
  for (const op of ops) {
    lines.push(`# file: ${quote(Buffer.from(op.abs, "utf8"))}`, `${quote(Buffer.from(op.name, "utf8"))}=0x${Buffer.from(op.value).toString("hex")}`, "");
  }
  const r = spawnSync("setfattr", ["-h", "--restore=-"], { input: `${lines.join("\n")}\n`, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) throw new StrataError("STRATA_EXTRACT_XATTR_FAILED", `setfattr failed: ${r.error.message}`);
  return r.status === 0 ? [] : r.stderr.split("\n").filter((l) => l.trim() !== "");
}

/** getfattr's quoting, which `setfattr --restore` undoes: anything unusual as `\ooo`. */
function quote(b: Buffer): string {
  let s = "";
  for (const c of b) {
    const safe = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2f || c === 0x2e || c === 0x5f || c === 0x2d;
    s += safe ? String.fromCharCode(c) : `\\${c.toString(8).padStart(3, "0")}`;
  }
  return s;
}
