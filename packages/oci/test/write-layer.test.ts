import { createReadStream, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { gunzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { FsBlobStore, GZIP_CHUNK_SIZE, MediaType, readLayerEntries, writeLayer, type LayerEntry } from "../src/index.ts";
import { run, sha256, sha256File, tempDir, utf8 } from "./helpers.ts";

const dir = tempDir();

const base = { mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000 } as const;
const file = (path: string, text: string, extra: Partial<LayerEntry> = {}): LayerEntry =>
  ({ ...base, type: "file", path, size: utf8(text).length, content: { bytes: utf8(text) }, ...extra }) as LayerEntry;
const dirEntry = (path: string): LayerEntry => ({ ...base, mode: 0o755, type: "directory", path });

const sample: LayerEntry[] = [
  dirEntry("etc"),
  file("etc/hostname", "strata\n"),
  { ...base, mode: 0o777, type: "symlink", path: "etc/localtime", linkname: "/usr/share/zoneinfo/UTC" },
  dirEntry("usr"),
  dirEntry("usr/bin"),
  file("usr/bin/tool", "#!/bin/sh\necho hi\n", { mode: 0o4755, uid: 1000, gid: 1000, uname: "app", gname: "app" }),
  { ...base, type: "hardlink", path: "usr/bin/tool-alias", linkname: "usr/bin/tool" },
  { type: "whiteout", path: "usr/bin/old" },
  { type: "opaque", path: "var" },
  dirEntry("var"),
  { ...base, type: "fifo", path: "var/pipe" },
  { ...base, type: "char-device", path: "var/null", devmajor: 1, devminor: 3, mode: 0o666 },
];

async function layerBytes(entries: LayerEntry[], opts: { sourceDateEpoch?: number } = {}): Promise<{ bytes: Buffer; diffId: string }> {
  const path = join(dir, `l-${Math.random().toString(36).slice(2)}.tar`);
  const r = await writeLayer(entries, { to: { file: path }, ...opts });
  return { bytes: readFileSync(path), diffId: r.diffId };
}

describe("writeLayer", () => {
  test("is deterministic: input order and on-disk mtimes do not matter", async () => {
    const a = await layerBytes(sample);
    const b = await layerBytes([...sample].reverse());
    expect(b.diffId).toBe(a.diffId);
    expect(b.bytes.equals(a.bytes)).toBe(true);
    // Golden digest: changes only if the byte format changes (which changes every user's layer digests).
    expect(a.diffId).toMatchInlineSnapshot(`"sha256:f50e234267f15b0e613cabc587be3a3664caed044ab58bc2a50e78b65f8c2740"`);
  });

  test("digest and size are those of the bytes written; media type is the uncompressed OCI layer", async () => {
    const path = join(dir, "digest.tar");
    const r = await writeLayer(sample, { to: { file: path } });
    expect(r.diffId).toBe(sha256File(path));
    expect(r.size).toBe(statSync(path).size);
    expect(r.descriptor).toEqual({ mediaType: MediaType.OciLayer, digest: r.diffId, size: r.size });
    expect(r.path).toBe(path);
    expect(r.size % 512).toBe(0);
  });

  test("GNU tar reads it: types, modes, owners, link targets, whiteouts sorted before their target", async () => {
    const path = join(dir, "gnu.tar");
    await writeLayer(sample, { to: { file: path } });
    const listing = run("tar", ["--numeric-owner", "-tvf", path]);
    expect(listing.trim().split("\n").map((l) => l.replace(/\s+/g, " "))).toEqual([
      "drwxr-xr-x 0/0 0 1970-01-01 00:00 etc/",
      "-rw-r--r-- 0/0 7 1970-01-01 00:00 etc/hostname",
      "lrwxrwxrwx 0/0 0 1970-01-01 00:00 etc/localtime -> /usr/share/zoneinfo/UTC",
      "drwxr-xr-x 0/0 0 1970-01-01 00:00 usr/",
      "drwxr-xr-x 0/0 0 1970-01-01 00:00 usr/bin/",
      "---------- 0/0 0 1970-01-01 00:00 usr/bin/.wh.old",
      "-rwsr-xr-x 1000/1000 18 1970-01-01 00:00 usr/bin/tool",
      "hrw-r--r-- 0/0 0 1970-01-01 00:00 usr/bin/tool-alias link to usr/bin/tool",
      "drwxr-xr-x 0/0 0 1970-01-01 00:00 var/",
      "---------- 0/0 0 1970-01-01 00:00 var/.wh..wh..opq",
      "crw-rw-rw- 0/0 1,3 1970-01-01 00:00 var/null",
      "prw-r--r-- 0/0 0 1970-01-01 00:00 var/pipe",
    ]);
    // Owner names only where given.
    expect(run("tar", ["-tvf", path, "usr/bin/tool"])).toContain("app/app");
    expect(run("tar", ["-tvf", path, "etc/hostname"])).toContain(" 0/0 ");
  });

  test("sourceDateEpoch clamps later mtimes and keeps earlier ones", async () => {
    const entries = [file("a", "x", { mtime: 100 }), file("b", "y", { mtime: 5_000 })];
    const path = join(dir, "epoch.tar");
    await writeLayer(entries, { to: { file: path }, sourceDateEpoch: 1_000 });
    const got = [];
    for await (const e of readLayerEntries(createReadStream(path))) got.push([e.path, "mtime" in e ? e.mtime : -1]);
    expect(got).toEqual([["a", 100], ["b", 1_000]]);
    const kept = await layerBytes(entries, { sourceDateEpoch: Infinity });
    const times = [];
    for await (const e of readLayerEntries([kept.bytes])) times.push("mtime" in e ? e.mtime : -1);
    expect(times).toEqual([100, 5_000]);
  });

  test("pax records for long and non-ASCII names, big ids, binary xattrs; round trip through readLayerEntries", async () => {
    const long = `${"d".repeat(120)}/${"e".repeat(140)}/${"f".repeat(90)}`;
    // cap_net_bind_service+ep (VFS_CAP_REVISION_2) and a user xattr with bytes that are not UTF-8.
    const cap = new Uint8Array([0x01, 0, 0, 0x02, 0, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const bin = new Uint8Array([0xff, 0x80, 0x00, 0x0a, 0x3d]);
    const entries: LayerEntry[] = [
      file(long, "long"),
      file("ünïcødé/файл.txt", "utf8", { uname: "用户", gname: "grüppe" }),
      file("big-ids", "ids", { uid: 3_000_000, gid: 70_000_000 }),
      file("cap", "bin", { xattrs: { "security.capability": cap, "user.bin": bin } }),
      { ...base, type: "symlink", path: "longlink", linkname: `/${"t".repeat(200)}` },
    ];
    const { bytes } = await layerBytes(entries);
    const back = [];
    for await (const e of readLayerEntries([bytes], { content: true })) back.push(e);
    const byPath = new Map(back.map((e) => [e.path, e]));
    expect(Buffer.from((byPath.get(long) as { content: { bytes: Uint8Array } }).content.bytes).toString()).toBe("long");
    expect(byPath.get("ünïcødé/файл.txt")).toMatchObject({ uname: "用户", gname: "grüppe" });
    expect(byPath.get("big-ids")).toMatchObject({ uid: 3_000_000, gid: 70_000_000 });
    const x = (byPath.get("cap") as { xattrs: Record<string, Uint8Array> }).xattrs;
    expect(Buffer.from(x["security.capability"] as Uint8Array).equals(Buffer.from(cap))).toBe(true);
    expect(Buffer.from(x["user.bin"] as Uint8Array).equals(Buffer.from(bin))).toBe(true);
    expect(byPath.get("longlink")).toMatchObject({ type: "symlink", linkname: `/${"t".repeat(200)}` });
    // GNU tar agrees on the names, ids and xattrs.
    const tarPath = join(dir, "pax.tar");
    writeFileSync(tarPath, bytes);
    const names = run("tar", ["-tf", tarPath]).trim().split("\n");
    expect(names).toEqual(expect.arrayContaining([long, "ünïcødé/файл.txt", "big-ids"]));
    expect(run("tar", ["--numeric-owner", "-tvf", tarPath, "big-ids"])).toContain("3000000/70000000");
    const xdir = join(dir, "xattr-extract");
    mkdirSync(xdir);
    run("tar", ["--xattrs", "--xattrs-include=*", "-xf", tarPath, "-C", xdir, "cap"]);
    expect(run("getfattr", ["-e", "hex", "-n", "security.capability", join(xdir, "cap")])).toContain("0x0100000200040000000000000000000000000000");
    expect(run("getfattr", ["-e", "hex", "-n", "user.bin", join(xdir, "cap")])).toContain("0xff80000a3d");
  });

  test("content from a path equals content from bytes; a file that changed size is an error", async () => {
    const src = join(dir, "src.txt");
    writeFileSync(src, "from disk\n");
    utimesSync(src, 12345, 12345);
    const fromPath = await layerBytes([{ ...base, type: "file", path: "f", size: 10, content: { path: src } }]);
    const fromBytes = await layerBytes([file("f", "from disk\n")]);
    expect(fromPath.bytes.equals(fromBytes.bytes)).toBe(true);
    await expect(writeLayer([{ ...base, type: "file", path: "f", size: 5, content: { path: src } }], { to: { file: join(dir, "bad.tar") } })).rejects.toMatchObject({
      code: "STRATA_LAYER_FILE_CHANGED",
    });
    await expect(writeLayer([{ ...base, type: "file", path: "f", size: 50, content: { path: src } }], { to: { file: join(dir, "bad.tar") } })).rejects.toMatchObject({
      code: "STRATA_LAYER_FILE_CHANGED",
    });
    expect(() => statSync(join(dir, "bad.tar"))).toThrow(); // nothing half-written is left visible
  });

  test("rejects unclean paths and reserved names with coded errors", async () => {
    for (const path of ["/abs", "a/../b", "./a", "a//b", "a/", ""]) {
      await expect(writeLayer([file(path, "x")], { to: { file: join(dir, "x.tar") } })).rejects.toMatchObject({ code: "STRATA_LAYER_BAD_PATH" });
    }
    await expect(writeLayer([file("a/.wh.b", "x")], { to: { file: join(dir, "x.tar") } })).rejects.toMatchObject({ code: "STRATA_LAYER_RESERVED_NAME" });
    const underSymlink: LayerEntry[] = [{ ...base, type: "symlink", path: "lib", linkname: "usr/lib" }, file("lib/x", "x")];
    await expect(writeLayer(underSymlink, { to: { file: join(dir, "x.tar") } })).rejects.toMatchObject({ code: "STRATA_LAYER_BAD_PATH" });
    await expect(writeLayer([{ ...base, type: "hardlink", path: "l", linkname: "missing" }], { to: { file: join(dir, "x.tar") } })).rejects.toMatchObject({
      code: "STRATA_LAYER_HARDLINK_TARGET",
    });
  });

  test("hard links are re-pointed at the first member in archive order; later duplicates win", async () => {
    const entries: LayerEntry[] = [
      file("z/data", "payload"),
      { ...base, type: "hardlink", path: "a/link", linkname: "z/data" },
      { ...base, type: "hardlink", path: "m/link", linkname: "a/link" },
      file("dup", "first"),
      file("dup", "second"),
    ];
    const { bytes } = await layerBytes(entries);
    const got = [];
    for await (const e of readLayerEntries([bytes], { content: true })) got.push(e);
    expect(got.map((e) => [e.path, e.type, e.type === "hardlink" ? e.linkname : ""])).toEqual([
      ["a/link", "file", ""],
      ["dup", "file", ""],
      ["m/link", "hardlink", "a/link"],
      ["z/data", "hardlink", "a/link"],
    ]);
    const dup = got.find((e) => e.path === "dup") as { content: { bytes: Uint8Array } };
    expect(Buffer.from(dup.content.bytes).toString()).toBe("second");
  });

  test("writes to a blob store and to a stream with the same digest", async () => {
    const store = new FsBlobStore(join(dir, "store"));
    const r = await writeLayer(sample, { to: { store } });
    expect(await store.size(r.diffId)).toBe(r.size);
    expect(r.path).toBe(store.pathOf(r.diffId));
    const chunks: Buffer[] = [];
    const stream = new PassThrough();
    stream.on("data", (c: Buffer) => chunks.push(c));
    const s = await writeLayer(sample, { to: { stream } });
    expect(s.diffId).toBe(r.diffId);
    expect(sha256(Buffer.concat(chunks))).toBe(r.diffId);
  });
});

describe("gzip layers", () => {
  const big: LayerEntry[] = [];
  // ~10 MiB of mildly compressible content: several gzip members.
  for (let i = 0; i < 10; i++) {
    const bytes = Buffer.alloc(1 << 20);
    for (let j = 0; j < bytes.length; j += 4) bytes.writeUInt32LE((Math.imul(j, 2654435761) >>> 20) ^ i, j);
    big.push({ ...base, type: "file", path: `blob-${i}`, size: bytes.length, content: { bytes } });
  }

  test("diffID is the digest of the uncompressed tar; the same bytes for 1 and 2 threads; gzip -t accepts the members", async () => {
    const plain = join(dir, "big.tar");
    const gz1 = join(dir, "big1.tar.gz");
    const gz2 = join(dir, "big2.tar.gz");
    const p = await writeLayer(big, { to: { file: plain } });
    const g1 = await writeLayer(big, { to: { file: gz1 }, compression: "gzip", gzip: { threads: 1 } });
    const g2 = await writeLayer(big, { to: { file: gz2 }, compression: "gzip", gzip: { threads: 2 } });
    expect(g1.diffId).toBe(p.diffId);
    expect(g1.size).toBe(p.size);
    expect(g1.descriptor.mediaType).toBe(MediaType.OciLayerGzip);
    expect(g1.descriptor.digest).toBe(sha256File(gz1));
    expect(g2.descriptor).toEqual(g1.descriptor);
    expect(readFileSync(gz1).equals(readFileSync(gz2))).toBe(true);
    expect(p.size).toBeGreaterThan(2 * GZIP_CHUNK_SIZE);
    run("gzip", ["-t", gz1]);
    expect(sha256(gunzipSync(readFileSync(gz1)))).toBe(p.diffId);
    expect(`sha256:${run("sh", ["-c", `gzip -dc ${gz1} | sha256sum`]).slice(0, 64)}`).toBe(p.diffId);
  });
});
