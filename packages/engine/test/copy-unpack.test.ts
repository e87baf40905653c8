/** ADD of local archives: detection by content, safe unpacking, compression through system tools. */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LayerEntry } from "@strata/oci";
import { pack, type Header } from "tar-stream";
import { afterAll, describe, expect, test } from "vitest";
import { detectArchiveCompression, isTarHeader } from "../src/copy/archive.ts";
import { DirectoryBaseFs, EMPTY_BASE } from "../src/copy/base-fs.ts";
import { planCopy } from "../src/copy/plan-copy.ts";
import { MemorySourceTree } from "../src/copy/source-tree.ts";

const work = mkdtempSync(join(tmpdir(), "strata-unpack-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Member = Partial<Header> & { name: string; body?: string | Buffer };

async function tarOf(members: Member[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    p.on("data", (c: unknown) => chunks.push(c as Buffer));
    p.on("end", () => resolve());
    p.on("error", reject);
  });
  for (const { body, ...h } of members) {
    await new Promise<void>((resolve, reject) => p.entry({ mtime: new Date(1_000_000_000), ...h }, body ?? "", (e) => (e ? reject(e) : resolve())));
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

function compress(data: Buffer, cmd: string[]): Buffer {
  return execFileSync(cmd[0] as string, cmd.slice(1), { input: data });
}

function rows(entries: readonly LayerEntry[]): string[] {
  return entries.map((e) => {
    if (e.type === "whiteout" || e.type === "opaque") return `${e.path} ${e.type}`;
    const link = e.type === "symlink" || e.type === "hardlink" ? ` -> ${e.linkname}` : "";
    const body = e.type === "file" ? ` ${JSON.stringify(Buffer.from("bytes" in e.content ? e.content.bytes : readFileSync(e.content.path)).toString().slice(0, 12))}` : "";
    return `${e.path} ${e.type} ${e.mode.toString(8)} ${e.uid}:${e.gid}${link}${body}`;
  });
}

const add = (tree: MemorySourceTree, src: string[], dest: string, extra: Record<string, unknown> = {}) => planCopy({ source: tree, base: EMPTY_BASE, src, dest, add: true, ...extra });

describe("archive detection", () => {
  test("compression by magic bytes, never by name", () => {
    expect(detectArchiveCompression(Buffer.from([0x1f, 0x8b, 0x08, 0]))).toBe("gzip");
    expect(detectArchiveCompression(Buffer.from("BZh91AY"))).toBe("bzip2");
    expect(detectArchiveCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))).toBe("xz");
    expect(detectArchiveCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe("zstd");
    expect(detectArchiveCompression(Buffer.from("ustar"))).toBe("none");
  });

  test("a tar header needs a valid checksum and is not the all-zero end block", async () => {
    const t = await tarOf([{ name: "a", body: "x" }]);
    expect(isTarHeader(t.subarray(0, 512))).toBe(true);
    const broken = Buffer.from(t.subarray(0, 512));
    broken[0] = 0x41;
    expect(isTarHeader(broken)).toBe(false);
    expect(isTarHeader(Buffer.alloc(512))).toBe(false);
    expect(isTarHeader(t.subarray(0, 100))).toBe(false);
  });

  test.each([
    ["plain", [] as string[]],
    ["gzip", ["gzip", "-n"]],
    ["bzip2", ["bzip2"]],
    ["xz", ["xz"]],
    ["zstd", ["zstd", "-q"]],
  ])("a %s tar is unpacked, whatever its name", async (_kind, cmd) => {
    const t = await tarOf([{ name: "d/", type: "directory", mode: 0o750 }, { name: "d/f", body: "hello", mode: 0o640, uid: 33, gid: 44 }]);
    const data = cmd.length ? compress(t, cmd) : t;
    const tree = new MemorySourceTree().file("archive.bin", data);
    expect(rows(await add(tree, ["archive.bin"], "/x"))).toEqual(["x directory 755 0:0", "x/d directory 750 0:0", 'x/d/f file 640 33:44 "hello"']);
  });

  test("not archives: a text file named .tar.gz, gzip of plain text, an empty tar, an empty file", async () => {
    const tree = new MemorySourceTree()
      .file("fake.tar.gz", "not a tar\n")
      .file("plain.gz", compress(Buffer.from("hello\n"), ["gzip", "-n"]))
      .file("empty.tar", Buffer.alloc(10240))
      .file("zero", "");
    const r = rows(await add(tree, ["fake.tar.gz", "plain.gz", "empty.tar", "zero"], "/o/"));
    expect(r.map((l) => l.split(" ").slice(0, 2).join(" "))).toEqual(["o directory", "o/empty.tar file", "o/fake.tar.gz file", "o/plain.gz file", "o/zero file"]);
  });

  test("ADD with unpack: false copies the archive; COPY with unpack: true unpacks it", async () => {
    const tree = new MemorySourceTree().file("a.tar", await tarOf([{ name: "in", body: "1" }]));
    expect(rows(await add(tree, ["a.tar"], "/o/", { unpack: false })).map((l) => l.split(" ")[0])).toEqual(["o", "o/a.tar"]);
    expect(rows(await planCopy({ source: tree, src: ["a.tar"], dest: "/o/", unpack: true })).map((l) => l.split(" ")[0])).toEqual(["o", "o/in"]);
    expect(rows(await planCopy({ source: tree, src: ["a.tar"], dest: "/o/" })).map((l) => l.split(" ")[0])).toEqual(["o", "o/a.tar"]);
  });

  test("a downloaded file (ADD <url>) is presented with mode 0600 and copied as given", async () => {
    const tree = new MemorySourceTree().file("app.tar.gz", compress(await tarOf([{ name: "x", body: "1" }]), ["gzip"]), { mode: 0o600 });
    expect(rows(await planCopy({ source: tree, src: ["app.tar.gz"], dest: "/dl/" }))[1]).toMatch(/^dl\/app\.tar\.gz file 600 0:0/);
    expect(rows(await planCopy({ source: tree, src: ["app.tar.gz"], dest: "/dl/", chmod: "644" }))[1]).toMatch(/^dl\/app\.tar\.gz file 644 0:0/);
  });
});

describe("safe unpacking", () => {
  test("absolute names are made relative to the destination; missing parents are 0755 root", async () => {
    const tree = new MemorySourceTree().file("a.tar", await tarOf([{ name: "/abs/deep/f", body: "1", uid: 5, gid: 5 }, { name: "./rel", body: "2" }]));
    expect(rows(await add(tree, ["a.tar"], "/d"))).toEqual(["d directory 755 0:0", "d/abs directory 755 0:0", "d/abs/deep directory 755 0:0", 'd/abs/deep/f file 644 5:5 "1"', 'd/rel file 644 0:0 "2"']);
  });

  test.each([
    ["../evil", [{ name: "../evil", body: "x" }]],
    ["a/../../evil", [{ name: "a/../../evil", body: "x" }]],
    ["symlink climbing out", [{ name: "esc", type: "symlink", linkname: "../../.." }, { name: "esc/x", body: "x" }]],
    ["hard link to outside", [{ name: "h", type: "link", linkname: "../../etc/passwd" }]],
  ] as [string, Member[]][])("refuses %s", async (_what, members) => {
    const tree = new MemorySourceTree().file("a.tar", await tarOf(members));
    await expect(add(tree, ["a.tar"], "/d/")).rejects.toMatchObject({ code: "STRATA_COPY_ARCHIVE_UNSAFE" });
  });

  test("an absolute symlink in the archive resolves inside the destination (as in a chroot)", async () => {
    const tree = new MemorySourceTree().file("a.tar", await tarOf([{ name: "etc", type: "symlink", linkname: "/real" }, { name: "etc/passwd", body: "p" }]));
    expect(rows(await add(tree, ["a.tar"], "/d/"))).toEqual(["d directory 755 0:0", "d/etc symlink 644 0:0 -> /real", "d/real directory 755 0:0", 'd/real/passwd file 644 0:0 "p"']);
  });

  test("symlinks of the base below the destination are followed inside it; one leaving it is refused", async () => {
    const b = join(work, "base");
    mkdirSync(join(b, "srv/data"), { recursive: true });
    symlinkSync("data", join(b, "srv/cur"));
    symlinkSync("../..", join(b, "srv/up"));
    const base = new DirectoryBaseFs(b);
    const tree = new MemorySourceTree().file("a.tar", await tarOf([{ name: "cur/f", body: "1" }]));
    expect(rows(await planCopy({ source: tree, base, src: ["a.tar"], dest: "/srv", add: true }))).toEqual(["srv directory 755 0:0", "srv/data directory 755 0:0", 'srv/data/f file 644 0:0 "1"']);
    const bad = new MemorySourceTree().file("a.tar", await tarOf([{ name: "up/f", body: "1" }]));
    await expect(planCopy({ source: bad, base, src: ["a.tar"], dest: "/srv", add: true })).rejects.toMatchObject({ code: "STRATA_COPY_ARCHIVE_UNSAFE" });
  });

  test("hard links point at members written before; later members replace earlier ones", async () => {
    const tree = new MemorySourceTree().file(
      "a.tar",
      await tarOf([
        { name: "f", body: "first" },
        { name: "g", type: "link", linkname: "f" },
        { name: "x/y", body: "old" },
        { name: "x", type: "symlink", linkname: "f" },
        { name: "f2", body: "v1" },
        { name: "f2", body: "v2" },
      ]),
    );
    expect(rows(await add(tree, ["a.tar"], "/d/"))).toEqual(["d directory 755 0:0", 'd/f file 644 0:0 "first"', 'd/f2 file 644 0:0 "v2"', "d/g hardlink 644 0:0 -> d/f", "d/x symlink 644 0:0 -> f"]);
    const dangling = new MemorySourceTree().file("a.tar", await tarOf([{ name: "g", type: "link", linkname: "nothere" }]));
    await expect(add(dangling, ["a.tar"], "/d/")).rejects.toMatchObject({ code: "STRATA_COPY_ARCHIVE_UNSUPPORTED" });
  });

  test("--chown overrides the archive's owners (current BuildKit; docker 20.10 kept them)", async () => {
    const tree = new MemorySourceTree().file("a.tar", await tarOf([{ name: "d/", type: "directory", uid: 3 }, { name: "d/f", body: "1", uid: 33, gid: 44 }]));
    expect(rows(await add(tree, ["a.tar"], "/o", { chown: { uid: 1000, gid: 1000 } }))).toEqual(["o directory 755 1000:1000", "o/d directory 755 1000:1000", 'o/d/f file 644 1000:1000 "1"']);
  });

  test("large members go to the scratch directory instead of memory", async () => {
    const big = Buffer.alloc(200_000, 0x61);
    const tree = new MemorySourceTree().file("a.tar", await tarOf([{ name: "big", body: big }, { name: "small", body: "s" }]));
    const scratchDir = join(work, "scratch");
    const entries = await add(tree, ["a.tar"], "/d/", { scratchDir });
    const bigEntry = entries.find((e) => e.path === "d/big");
    const smallEntry = entries.find((e) => e.path === "d/small");
    expect(bigEntry?.type === "file" && "path" in bigEntry.content && readFileSync(bigEntry.content.path).equals(big)).toBe(true);
    expect(smallEntry?.type === "file" && "bytes" in smallEntry.content).toBe(true);
  });

  test("a missing compression tool is a coded error naming the package", async () => {
    const t = compress(await tarOf([{ name: "a", body: "1" }]), ["xz"]);
    const tree = new MemorySourceTree().file("a.tar.xz", t);
    const path = process.env.PATH;
    process.env.PATH = join(work, "empty-bin");
    try {
      // Not silently copied as a file: the build stops and says what to install.
      await expect(add(tree, ["a.tar.xz"], "/d/")).rejects.toMatchObject({ code: "STRATA_COPY_ARCHIVE_TOOL", hint: "apt-get install xz-utils" });
    } finally {
      process.env.PATH = path;
    }
  });
});

describe("tar formats", () => {
  const longName = `${"dir-with-a-long-name/".repeat(6)}file-with-a-long-name.txt`;
  test.each(["gnu", "posix", "ustar", "v7"])("GNU tar --format=%s: long names, long link targets, large ids", async (format) => {
    const d = mkdtempSync(join(work, "fmt-"));
    mkdirSync(join(d, longName, ".."), { recursive: true });
    writeFileSync(join(d, longName), "deep");
    symlinkSync(format === "ustar" || format === "v7" ? "short" : longName, join(d, "lnk"));
    const bigIds = format === "gnu" || format === "posix";
    const args = ["--numeric-owner", `--format=${format}`, "-C", d, "-cf", "-", ...(bigIds ? ["--owner=3000000", "--group=3000001"] : []), format === "ustar" || format === "v7" ? "lnk" : "."];
    const bytes = execFileSync("tar", args, { maxBuffer: 1 << 26 });
    const entries = await add(new MemorySourceTree().file("a.tar", bytes), ["a.tar"], "/x/");
    const lnk = entries.find((e) => e.path === "x/lnk");
    expect(lnk?.type === "symlink" ? lnk.linkname : undefined).toBe(format === "ustar" || format === "v7" ? "short" : longName);
    if (format === "gnu" || format === "posix") {
      const f = entries.find((e) => e.path === `x/${longName}`);
      expect(f?.type).toBe("file");
      expect(f && f.type === "file" ? [f.uid, f.gid, f.size] : undefined).toEqual([3000000, 3000001, 4]);
    }
  });

  test("a truncated archive is an error, not a short file", async () => {
    const t = await tarOf([{ name: "big", body: Buffer.alloc(5000, 1) }]);
    const tree = new MemorySourceTree().file("t.tar", t.subarray(0, 2048));
    await expect(add(tree, ["t.tar"], "/x/")).rejects.toMatchObject({ code: "STRATA_COPY_BAD_ARCHIVE" });
  });
});
