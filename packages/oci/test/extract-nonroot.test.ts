import { chmodSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { craftTar } from "./tar-craft.ts";
import { hasCommand, isRoot, run, tempDir } from "./helpers.ts";
import { missing } from "../../../test/helpers/requires.ts";

/** Extraction as an unprivileged user (nobody), in a separate process started with setpriv. */
describe.skipIf(missing({ root: isRoot, setpriv: hasCommand("setpriv", ["--version"]) }))("extractLayer without root", () => {
  const top = tempDir();
  const script = join(top, "extract.mjs");
  const tar = join(top, "layer.tar");
  beforeAll(async () => {
    chmodSync(top, 0o755);
    const { build } = await import("esbuild");
    await build({ entryPoints: [join(import.meta.dirname, "support/extract-main.ts")], bundle: true, platform: "node", format: "esm", outfile: script, logLevel: "silent" });
    writeFileSync(
      tar,
      craftTar([
        { name: "dev/null", type: "char", devmajor: 1, devminor: 3, mode: 0o666 },
        { name: "run/fifo", type: "fifo", mode: 0o600 },
        { name: "owned", content: "x", uid: 0, gid: 0, mode: 0o4755, xattrs: { "trusted.secret": Buffer.from("1") } },
        { name: "ro", type: "dir", mode: 0o555 },
        { name: "ro/inside", content: "written before ro was made read-only" },
        { name: "gone/.wh.x" },
      ]),
    );
    chmodSync(tar, 0o644);
  });

  function extractAsNobody(mode: "apply" | "overlay"): { ok: boolean; code?: string; entries?: number; warnings?: string[] } {
    const root = join(top, `root-${mode}`);
    mkdirSync(root, { mode: 0o777 });
    chmodSync(root, 0o777);
    return JSON.parse(run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, script, tar, root, mode]));
  }

  test("apply: device nodes and trusted.* xattrs are skipped with warnings; fifos, files and read-only dirs work", () => {
    const r = extractAsNobody("apply");
    expect(r).toMatchObject({ ok: true, warnings: ["STRATA_EXTRACT_DEVICE_SKIPPED", "STRATA_EXTRACT_XATTR_SKIPPED"] });
    const root = join(top, "root-apply");
    expect(lstatSync(join(root, "dev/null"), { throwIfNoEntry: false })).toBeUndefined();
    expect(lstatSync(join(root, "run/fifo")).isFIFO()).toBe(true);
    expect(lstatSync(join(root, "owned")).uid).toBe(65534); // ownership is not applied without root
    expect(readFileSync(join(root, "ro/inside"), "utf8")).toContain("written before");
    expect(lstatSync(join(root, "ro")).mode & 0o777).toBe(0o555);
  });

  test("overlay: whiteouts need root and fail with a coded error", () => {
    expect(extractAsNobody("overlay")).toEqual({ ok: false, code: "STRATA_EXTRACT_NEEDS_ROOT" });
  });
});
