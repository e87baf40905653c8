import { spawnSync } from "node:child_process";
import { createReadStream, lstatSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { extractLayer, writeLayer, type LayerEntry } from "../src/index.ts";
import { craftTar } from "./tar-craft.ts";
import { isRoot, run, tempDir, utf8 } from "./helpers.ts";
import { missing } from "../../../test/helpers/requires.ts";

const top = tempDir();
const t0 = 1_600_000_000;
const meta = { uid: 0, gid: 0, mtime: t0 } as const;
const f = (path: string, text: string, extra: Partial<LayerEntry> = {}): LayerEntry =>
  ({ ...meta, mode: 0o644, type: "file", path, size: utf8(text).length, content: { bytes: utf8(text) }, ...extra }) as LayerEntry;
const d = (path: string, extra: Partial<LayerEntry> = {}): LayerEntry => ({ ...meta, mode: 0o755, type: "directory", path, ...extra }) as LayerEntry;

async function layer(name: string, entries: LayerEntry[], compression: "none" | "gzip" = "none"): Promise<string> {
  const path = join(top, `${name}.tar${compression === "gzip" ? ".gz" : ""}`);
  await writeLayer(entries, { to: { file: path }, sourceDateEpoch: Infinity, compression });
  return path;
}

/**
 * Type, mode, owner, size, link target, path; link count and mtime of non-directories (an
 * overlay mount reports 1 link for merged directories); content digests.
 */
function snapshot(root: string): string {
  const listing =
    run("find", [".", "-mindepth", "1", "-type", "d", "-printf", "%y %m %U:%G %p\n"], { cwd: root }) +
    run("find", [".", "-mindepth", "1", "-not", "-type", "d", "-printf", "%y %m %U:%G %s %l %n %p\n"], { cwd: root });
  const times = run("find", [".", "-mindepth", "1", "-not", "-type", "d", "-printf", "%T@ %p\n"], { cwd: root });
  const sums = run("sh", ["-c", "find . -type f -print0 | sort -z | xargs -0 -r sha256sum"], { cwd: root });
  const sort = (s: string): string => s.trim().split("\n").sort().join("\n");
  return `${sort(listing)}\n--\n${sort(times)}\n--\n${sums}`;
}

const rich: LayerEntry[] = [
  d("bin"),
  f("bin/tool", "#!/bin/sh\necho tool\n", { mode: 0o4755 }),
  { ...meta, mode: 0o644, type: "hardlink", path: "bin/tool2", linkname: "bin/tool" },
  { ...meta, mode: 0o777, type: "symlink", path: "bin/sh", linkname: "/bin/busybox" },
  d("home", { mode: 0o750 }),
  d("home/app", { mode: 0o700, uid: 1000, gid: 1000 }),
  f("home/app/.profile", "export A=1\n", { mode: 0o600, uid: 1000, gid: 1000 }),
  d("tmp", { mode: 0o1777 }),
  d("ro", { mode: 0o555 }),
  f("ro/file", "read only\n", { mode: 0o444 }),
  { ...meta, mode: 0o644, type: "fifo", path: "tmp/fifo" },
  f("tmp/xattr", "x", { xattrs: { "user.strata": utf8("yes") } }),
  f("big", "y".repeat(3 << 20)),
  f("ünïcødé name", "u"),
];
if (isRoot) rich.push({ ...meta, mode: 0o666, type: "char-device", path: "null", devmajor: 1, devminor: 3 });

describe("extractLayer (apply)", () => {
  test("gives the same tree as GNU tar: types, modes, owners, times, links, xattrs, content", async () => {
    const tar = await layer("rich", rich);
    const ours = join(top, "ours");
    const gnu = join(top, "gnu");
    mkdirSync(gnu);
    const r = await extractLayer(createReadStream(tar), ours, { mode: "apply" });
    run("tar", ["--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", tar, "-C", gnu]);
    expect(snapshot(ours)).toBe(snapshot(gnu));
    expect(r.entries).toBe(rich.length);
    expect(r.bytes).toBe(rich.reduce((n, e) => n + (e.type === "file" ? e.size : 0), 0));
    expect(run("getfattr", ["-n", "user.strata", "--only-values", join(ours, "tmp/xattr")])).toBe("yes");
    expect(lstatSync(join(ours, "bin/tool")).ino).toBe(lstatSync(join(ours, "bin/tool2")).ino);
    expect(statSync(join(ours, "ro")).mode & 0o7777).toBe(0o555);
    expect(statSync(join(ours, "home/app")).mtime.getTime()).toBe(t0 * 1000);
  });

  test("gzip layers are detected and extracted the same way", async () => {
    const tar = await layer("rich-gz", rich, "gzip");
    const out = join(top, "ours-gz");
    await extractLayer(createReadStream(tar), out, { mode: "apply" });
    expect(snapshot(out)).toBe(snapshot(join(top, "ours")));
  });

  test("flattens layers: whiteouts delete, opaque directories drop lower content only", async () => {
    const lower = await layer("lower", [
      d("etc"),
      f("etc/a", "a"),
      f("etc/b", "b"),
      d("var"),
      d("var/lib"),
      f("var/lib/x", "x"),
      d("var/lib/sub"),
      f("var/lib/sub/y", "y"),
      d("gone"),
      f("gone/z", "z"),
    ]);
    const upper = await layer("upper", [
      d("etc"),
      { type: "whiteout", path: "etc/a" },
      f("etc/c", "c"),
      d("var/lib"),
      { type: "opaque", path: "var/lib" },
      f("var/lib/new", "new"),
      d("var/lib/sub"),
      f("var/lib/sub/kept", "k"),
      { type: "whiteout", path: "gone" },
    ]);
    const root = join(top, "flat");
    await extractLayer(createReadStream(lower), root, { mode: "apply" });
    await extractLayer(createReadStream(upper), root, { mode: "apply" });
    expect(run("find", [".", "-mindepth", "1"], { cwd: root }).trim().split("\n").sort()).toEqual(
      ["./etc", "./etc/b", "./etc/c", "./var", "./var/lib", "./var/lib/new", "./var/lib/sub", "./var/lib/sub/kept"].sort(),
    );
  });

  test("an opaque marker after this layer's own children keeps them (archives from other tools)", async () => {
    const root = join(top, "late-opaque");
    await extractLayer([craftTar([{ name: "d/", type: "dir" }, { name: "d/old", content: "old" }])], root, { mode: "apply" });
    await extractLayer([craftTar([{ name: "d/sub/new", content: "new" }, { name: "d/.wh..wh..opq" }])], root, { mode: "apply" });
    expect(run("find", ["d"], { cwd: root }).trim().split("\n").sort()).toEqual(["d", "d/sub", "d/sub/new"]);
  });

  test("replaces a directory with a file and a file with a directory, as Docker does", async () => {
    const root = join(top, "replace");
    await extractLayer([craftTar([{ name: "x/", type: "dir" }, { name: "x/inner", content: "i" }, { name: "y", content: "file" }])], root, { mode: "apply" });
    await extractLayer([craftTar([{ name: "x", content: "now a file" }, { name: "y/", type: "dir" }, { name: "y/z", content: "z" }])], root, { mode: "apply" });
    expect(readFileSync(join(root, "x"), "utf8")).toBe("now a file");
    expect(readdirSync(join(root, "y"))).toEqual(["z"]);
  });

  test("missing parents are created; entries with ./ prefixes are accepted", async () => {
    const root = join(top, "parents");
    await extractLayer([craftTar([{ name: "./", type: "dir" }, { name: "./a/b/c/file", content: "deep" }])], root, { mode: "apply" });
    expect(readFileSync(join(root, "a/b/c/file"), "utf8")).toBe("deep");
    expect(statSync(join(root, "a/b")).mode & 0o777).toBe(0o755);
  });
});

describe.skipIf(missing({ root: isRoot }))("extractLayer (overlay)", () => {
  test("whiteouts become 0/0 character devices and opaque markers trusted.overlay.opaque; overlayfs shows the flattened tree", async () => {
    const lowerEntries: LayerEntry[] = [d("etc"), f("etc/a", "a"), f("etc/b", "b"), d("var"), f("var/old", "old"), d("var/keep")];
    const upperEntries: LayerEntry[] = [
      d("etc"),
      { type: "whiteout", path: "etc/a" },
      f("etc/c", "c"),
      d("var"),
      { type: "opaque", path: "var" },
      f("var/new", "new"),
    ];
    const lower = await layer("ov-lower", lowerEntries);
    const upper = await layer("ov-upper", upperEntries);
    const l1 = join(top, "ov/l1");
    const l2 = join(top, "ov/l2");
    await extractLayer(createReadStream(lower), l1, { mode: "overlay" });
    await extractLayer(createReadStream(upper), l2, { mode: "overlay" });
    const wh = lstatSync(join(l2, "etc/a"));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect(run("getfattr", ["-n", "trusted.overlay.opaque", "--only-values", join(l2, "var")])).toBe("y");

    const flat = join(top, "ov/flat");
    await extractLayer(createReadStream(lower), flat, { mode: "apply" });
    await extractLayer(createReadStream(upper), flat, { mode: "apply" });
    const mnt = join(top, "ov/mnt");
    mkdirSync(mnt);
    const m = spawnSync("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${l2}:${l1}`, mnt], { encoding: "utf8" });
    expect(m.status, m.stderr).toBe(0);
    try {
      expect(snapshot(mnt)).toBe(snapshot(flat));
      expect(readdirSync(join(mnt, "var"))).toEqual(["new"]);
    } finally {
      spawnSync("umount", [mnt]);
    }
  });
});

// How fast: bench/oci-layer.mjs (20,000 files); here, that many files come out whole.
describe("extractLayer of many files", () => {
  test("extracts 5,000 small files, each with its own content", async () => {
    const entries: LayerEntry[] = [d("many")];
    for (let i = 0; i < 5000; i++) entries.push(f(`many/f${i}`, `content ${i}\n`.repeat(20)));
    const tar = await layer("many", entries);
    const out = join(top, "many-out");
    const r = await extractLayer(createReadStream(tar), out, { mode: "apply" });
    expect(r.entries).toBe(5001);
    const names = readdirSync(join(out, "many"));
    expect(names).toHaveLength(5000);
    for (const i of [0, 1, 2499, 4999]) expect(readFileSync(join(out, "many", `f${i}`), "utf8")).toBe(`content ${i}\n`.repeat(20));
    expect(names.every((n) => statSync(join(out, "many", n)).size === `content ${n.slice(1)}\n`.length * 20)).toBe(true);
  });
});
