// ADD's archive reader and sparse members: the real size, holes as zeros, the real name (PAX
// formats store a placeholder), in every encoding GNU tar writes — as Docker's ADD extracts them.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, truncateSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { readTar } from "../src/copy/tar-reader.ts";
import { missing } from "../../../test/helpers/requires.ts";

const haveTar = !spawnSync("tar", ["--version"]).error;

describe.skipIf(missing({ "GNU tar": haveTar }))("sparse members in ADD archives", () => {
  const work = mkdtempSync(join(tmpdir(), "strata-add-sparse-"));
  const dir = join(work, "src");
  mkdirSync(dir);
  const path = join(dir, "holes.bin");
  const fd = openSync(path, "w");
  writeSync(fd, Buffer.from("start"), 0, 5, 0);
  writeSync(fd, Buffer.alloc(50_000, 0x62), 0, 50_000, 3 << 20);
  closeSync(fd);
  truncateSync(path, 6 << 20);
  const want = createHash("sha256").update(readFileSync(path)).digest("hex");

  test.each([["--format=gnu"], ["--format=pax", "--sparse-version=0.0"], ["--format=pax", "--sparse-version=0.1"], ["--format=pax", "--sparse-version=1.0"]])(
    "tar --sparse %s",
    async (...args) => {
      const archive = execFileSync("tar", ["--sparse", ...args, "-cf", "-", "-C", dir, "holes.bin"], { maxBuffer: 64 << 20 });
      expect(archive.length).toBeLessThan(1 << 20);
      const members: Array<{ name: string; type: string; size: number; sha: string }> = [];
      async function* chunks() {
        yield archive;
      }
      for await (const { header, body } of readTar(chunks())) {
        const h = createHash("sha256");
        for await (const c of body) h.update(c);
        members.push({ name: header.name, type: header.type, size: header.size, sha: h.digest("hex") });
      }
      expect(members).toEqual([{ name: "holes.bin", type: "file", size: 6 << 20, sha: want }]);
    },
  );
});
