import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { extract as tarStreamExtract } from "tar-stream";
import { describe, expect, test } from "vitest";
import { readLayerEntries, writeLayer, type LayerEntry } from "../src/index.ts";
import { BLOCK, encodeHeader, TypeFlag } from "../src/tar/header.ts";
import { decodeHeader, TarParser, type TarHeader } from "../src/tar/parser.ts";
import { TarFileIndex } from "../src/tar/tar-file-index.ts";
import { hasCommand, run, tempDir, utf8 } from "./helpers.ts";
import { craftTar } from "./tar-craft.ts";
import { missing } from "../../../test/helpers/requires.ts";

const dir = tempDir();

async function entriesOf(bytes: Buffer): Promise<LayerEntry[]> {
  const out: LayerEntry[] = [];
  for await (const e of readLayerEntries([bytes], { content: true })) out.push(e);
  return out;
}

describe("tar header codec", () => {
  test("values beyond ustar's fields go to pax records and decode back", () => {
    const h = { name: "big", typeflag: TypeFlag.File, mode: 0o644, uid: 2_097_152, gid: 0, size: 10 * 2 ** 30, mtime: 0 };
    const buf = Buffer.alloc(4 * BLOCK);
    const n = encodeHeader(h, buf, 0);
    expect(n).toBe(3 * BLOCK); // pax header + pax records + ustar header
    const headers: TarHeader[] = [];
    const p = new TarParser({ entry: (x) => headers.push(x), data() {}, entryEnd() {} });
    p.write(buf.subarray(0, n));
    expect(headers[0]).toMatchObject({ name: "big", uid: 2_097_152, size: 10 * 2 ** 30 });
  });

  test("names up to 255 ASCII bytes use the ustar prefix field, not pax", () => {
    const name = `${"p".repeat(150)}/${"n".repeat(99)}`;
    const buf = Buffer.alloc(2 * BLOCK);
    expect(encodeHeader({ name, typeflag: TypeFlag.File, mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0 }, buf, 0)).toBe(BLOCK);
    expect(decodeHeader(buf.subarray(0, BLOCK), {}, 0).name).toBe(name);
  });

  test("tar-stream, an independent parser, reads a layer with every entry type the same way", async () => {
    const path = join(dir, "all.tar");
    const entries: LayerEntry[] = [
      { type: "directory", path: "d", mode: 0o755, uid: 1, gid: 2, mtime: 3 },
      { type: "file", path: `d/${"long".repeat(40)}`, mode: 0o600, uid: 0, gid: 0, mtime: 0, size: 3, content: { bytes: utf8("abc") } },
      { type: "symlink", path: "d/s", linkname: "../x", mode: 0o777, uid: 0, gid: 0, mtime: 0 },
      { type: "block-device", path: "d/b", devmajor: 8, devminor: 1, mode: 0o660, uid: 0, gid: 6, mtime: 0 },
    ];
    await writeLayer(entries, { to: { file: path }, sourceDateEpoch: Infinity });
    const seen: { name: string; type: string | null | undefined; uid?: number; devmajor?: number; linkname?: string | null }[] = [];
    const ex = tarStreamExtract();
    ex.on("entry", (h, stream, next) => {
      seen.push({ name: h.name, type: h.type, uid: h.uid, devmajor: h.devmajor, linkname: h.linkname });
      stream.on("end", next);
      stream.resume();
    });
    await new Promise<void>((resolve, reject) => {
      ex.on("finish", resolve);
      ex.on("error", reject);
      ex.end(readFileSync(path));
    });
    expect(seen).toMatchObject([
      { name: "d/", type: "directory", uid: 1 },
      { name: "d/b", type: "block-device", devmajor: 8 },
      { name: `d/${"long".repeat(40)}`, type: "file" },
      { name: "d/s", type: "symlink", linkname: "../x" },
    ]);
  });
});

describe("readLayerEntries", () => {
  test("reads GNU tar's own format (GNU long names, ./ prefixes) and gzip", async () => {
    const src = join(dir, "gnu-src");
    const long = `${"x".repeat(120)}/${"y".repeat(120)}`;
    mkdirSync(join(src, long), { recursive: true });
    writeFileSync(join(src, long, "f"), "gnu");
    symlinkSync("f", join(src, long, "l"));
    const tarPath = join(dir, "gnu.tar.gz");
    run("tar", ["--format=gnu", "-czf", tarPath, "-C", src, "."]);
    const entries = await entriesOf(readFileSync(tarPath));
    const file = entries.find((e) => e.path === `${long}/f`);
    expect(file && file.type === "file" && "bytes" in file.content && Buffer.from(file.content.bytes).toString()).toBe("gnu");
    expect(entries.find((e) => e.path === `${long}/l`)).toMatchObject({ type: "symlink", linkname: "f" });
    expect(entries.some((e) => e.path === "" || e.path.startsWith("./"))).toBe(false);
  });

  test.skipIf(missing({ zstd: hasCommand("zstd") }))("reads zstd layers through the zstd command", async () => {
    const tar = craftTar([{ name: "z", content: "zstd!" }]);
    const plain = join(dir, "z.tar");
    writeFileSync(plain, tar);
    run("zstd", ["-q", "-f", plain, "-o", `${plain}.zst`]);
    const entries = await entriesOf(readFileSync(`${plain}.zst`));
    expect(entries).toMatchObject([{ path: "z", type: "file", size: 5 }]);
  });

  test("whiteouts and opaque markers decode as such; aufs metadata is left out", async () => {
    const tar = craftTar([{ name: "a/.wh.b" }, { name: "a/.wh..wh..opq" }, { name: ".wh..wh.plnk", type: "dir" }, { name: "./", type: "dir" }]);
    expect(await entriesOf(tar)).toEqual([
      { type: "whiteout", path: "a/b" },
      { type: "opaque", path: "a" },
    ]);
  });
});

describe("TarFileIndex", () => {
  test("finds members by name through pax long names, symlinks and hard links, and streams them by range", async () => {
    const long = `blobs/${"h".repeat(200)}`;
    const tar = craftTar([
      { name: "dir", type: "dir" },
      { name: long, content: "payload" },
      { name: "dir/layer.tar", type: "symlink", linkname: `../${long}` },
      { name: "hard", type: "hardlink", linkname: long },
      { name: "empty", content: "" },
    ]);
    const path = join(dir, "indexed.tar");
    writeFileSync(path, tar);
    const idx = await TarFileIndex.open(path);
    expect((await idx.read("dir/layer.tar")).toString()).toBe("payload");
    expect((await idx.read("./hard")).toString()).toBe("payload");
    const chunks: Buffer[] = [];
    for await (const c of idx.stream(idx.get(long))) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("payload");
    expect((await idx.read("empty")).length).toBe(0);
    expect(idx.find("dir")).toBeUndefined(); // directories hold no bytes
    expect(() => idx.get("missing")).toThrow(expect.objectContaining({ code: "STRATA_ARCHIVE_MISSING_MEMBER" }));
  });
});
