// Sparse files as Docker extracts them: a regular file of the real size, holes as zeros.
// The archives are made by GNU tar at test time, in every sparse encoding it writes.
import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { extractLayer, readLayerEntries } from "../src/index.ts";
import { hasCommand, run, tempDir } from "./helpers.ts";
import { missing } from "../../../test/helpers/requires.ts";

const haveTar = hasCommand("tar");

/** A 5 MiB file with data at 0, 1 MiB + 7 and near the end, holes between (and a trailing hole). */
function sparseSource(dir: string): { path: string; sha: string; size: number } {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "sparse.bin");
  const fd = openSync(path, "w");
  writeSync(fd, Buffer.from("head"), 0, 4, 0);
  writeSync(fd, Buffer.alloc(70_000, 0x61), 0, 70_000, (1 << 20) + 7);
  writeSync(fd, Buffer.from("tail"), 0, 4, (4 << 20) + 3);
  closeSync(fd);
  run("truncate", ["-s", String(5 << 20), path]);
  const bytes = readFileSync(path);
  return { path, sha: createHash("sha256").update(bytes).digest("hex"), size: bytes.length };
}

const formats: Array<[string, string[]]> = [
  ["GNU (old-style 'S' headers)", ["--format=gnu"]],
  ["PAX 0.0", ["--format=pax", "--sparse-version=0.0"]],
  ["PAX 0.1", ["--format=pax", "--sparse-version=0.1"]],
  ["PAX 1.0", ["--format=pax", "--sparse-version=1.0"]],
];

describe.skipIf(missing({ "GNU tar": haveTar }))("sparse entries", () => {
  const work = tempDir("strata-sparse-");
  const src = sparseSource(join(work, "src"));

  test.each(formats)("%s extracts to the real size with holes as zeros", async (_label, args) => {
    const tarPath = join(work, `${args.join("_").replace(/[^a-z0-9]/gi, "")}.tar`);
    run("tar", ["--sparse", ...args, "-cf", tarPath, "-C", join(work, "src"), "sparse.bin"]);
    const archive = readFileSync(tarPath);
    // The archive really is sparse (much smaller than the file).
    expect(archive.length).toBeLessThan(src.size / 4);
    const root = join(work, `out-${args.join("").replace(/[^a-z0-9]/gi, "")}`);
    await extractLayer([archive], root, { mode: "apply" });
    const out = readFileSync(join(root, "sparse.bin"));
    expect(statSync(join(root, "sparse.bin")).size).toBe(src.size);
    expect(createHash("sha256").update(out).digest("hex")).toBe(src.sha);
    // The layer reader sees the same regular file.
    const entries = [];
    for await (const x of readLayerEntries([archive], { content: true })) entries.push(x);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ type: "file", path: "sparse.bin" });
    const content = (entries[0] as { content: { bytes: Uint8Array } }).content.bytes;
    expect(createHash("sha256").update(content).digest("hex")).toBe(src.sha);
  });

  test("a sparse file's real size counts against the layer byte bound", async () => {
    const tarPath = join(work, "bound.tar");
    run("tar", ["--sparse", "--format=pax", "-cf", tarPath, "-C", join(work, "src"), "sparse.bin"]);
    const saved = process.env.STRATA_MAX_LAYER_BYTES;
    process.env.STRATA_MAX_LAYER_BYTES = "1m";
    try {
      await expect(extractLayer([readFileSync(tarPath)], join(work, "bound-out"), { mode: "apply" })).rejects.toMatchObject({ code: "STRATA_LAYER_TOO_LARGE" });
    } finally {
      if (saved === undefined) delete process.env.STRATA_MAX_LAYER_BYTES;
      else process.env.STRATA_MAX_LAYER_BYTES = saved;
    }
  });
});
