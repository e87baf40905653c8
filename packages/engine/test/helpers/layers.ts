import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LayerEntry } from "@strata/oci";
import { makeBusyboxRootfs } from "./busybox-rootfs.ts";

/** A deletion marker as overlayfs (and @strata/oci's overlay-mode extractor) writes it. */
export function whiteout(path: string): void {
  execFileSync("mknod", [path, "c", "0", "0"]);
}

export function setOpaque(dir: string): void {
  execFileSync("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", dir]);
}

/**
 * Two overlay-format lowers: a busybox root with /data, and a layer above it that changes a
 * file, deletes one (whiteout), replaces a directory (opaque), and adds a device node, a fifo,
 * a symlink and a file with a user xattr. Times are fixed so both snapshotters copy the same.
 */
export function makeLowers(dir: string): string[] {
  const l0 = makeBusyboxRootfs(join(dir, "l0"));
  mkdirSync(join(l0, "data/sub"), { recursive: true });
  mkdirSync(join(l0, "data/opq"), { recursive: true });
  mkdirSync(join(l0, "opt/app"), { recursive: true });
  writeFileSync(join(l0, "data/a"), "a0\n");
  writeFileSync(join(l0, "data/keep"), "keep\n");
  writeFileSync(join(l0, "data/gone"), "gone\n");
  writeFileSync(join(l0, "data/sub/x"), "x\n");
  writeFileSync(join(l0, "data/opq/old"), "old\n");
  writeFileSync(join(l0, "opt/app/run.sh"), "#!/bin/sh\necho run\n", { mode: 0o755 });

  const l1 = join(dir, "l1");
  mkdirSync(join(l1, "data/opq"), { recursive: true });
  writeFileSync(join(l1, "data/a"), "a1\n");
  whiteout(join(l1, "data/gone"));
  setOpaque(join(l1, "data/opq"));
  writeFileSync(join(l1, "data/opq/new"), "new\n");
  execFileSync("mknod", [join(l1, "data/null"), "c", "1", "3"]);
  execFileSync("mkfifo", [join(l1, "data/fifo")]);
  symlinkSync("a", join(l1, "data/link"));
  writeFileSync(join(l1, "data/tagged"), "tagged\n");
  execFileSync("setfattr", ["-n", "user.strata.test", "-v", "hello", join(l1, "data/tagged")]);
  // Fixed times on everything, so that "changed" never depends on when the test ran.
  execFileSync("find", [l0, l1, "-exec", "touch", "-h", "-d", "@1600000000", "{}", "+"]);
  utimesSync(join(l1, "data"), 1600000000, 1600000000);
  return [l0, l1];
}

/** Entries with file contents read into bytes and without mtimes (to compare two runs). */
export function comparable(entries: readonly LayerEntry[]): unknown[] {
  return entries.map((e) => {
    const { mtime: _mtime, ...rest } = e as LayerEntry & { mtime?: number };
    if (e.type === "file") {
      const c = e.content;
      return { ...rest, content: "path" in c ? readFileSync(c.path, "utf8") : Buffer.from(c.bytes).toString("utf8") };
    }
    if ("xattrs" in rest && rest.xattrs) {
      return { ...rest, xattrs: Object.fromEntries(Object.entries(rest.xattrs).map(([k, v]) => [k, Buffer.from(v).toString("utf8")])) };
    }
    return rest;
  });
}

/** A short summary line per entry, for readable expectations. */
export function summary(entries: readonly LayerEntry[]): string[] {
  return entries.map((e) => {
    switch (e.type) {
      case "whiteout":
      case "opaque":
        return `${e.type} ${e.path}`;
      case "symlink":
      case "hardlink":
        return `${e.type} ${e.path} -> ${e.linkname}`;
      case "char-device":
      case "block-device":
        return `${e.type} ${e.path} ${e.devmajor},${e.devminor}`;
      default:
        return `${e.type} ${e.path} ${e.mode.toString(8)} ${e.uid}:${e.gid}`;
    }
  });
}
