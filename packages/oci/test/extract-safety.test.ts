import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { extractLayer, type ExtractWarning } from "../src/index.ts";
import { craftTar } from "./tar-craft.ts";
import { tempDir } from "./helpers.ts";

/**
 * Escape attempts, each with a hand-crafted archive. Every test plants a "victim" outside the
 * extraction root and checks it is untouched, beside the error or warning the extractor gives.
 */
describe("extractLayer refuses to write outside its root", () => {
  const top = tempDir();
  let n = 0;
  function setup(): { root: string; outside: string; victim: string } {
    const base = join(top, `case-${n++}`);
    const root = join(base, "root");
    const outside = join(base, "outside");
    mkdirSync(root, { recursive: true });
    mkdirSync(outside, { recursive: true });
    const victim = join(outside, "victim");
    writeFileSync(victim, "original");
    return { root, outside, victim };
  }

  test.each([
    ["../escape", "climbs out"],
    ["a/../../escape", "climbs out"],
    ["/tmp/strata-abs-escape", "absolute"],
  ])("entry named %j is rejected (%s)", async (name, why) => {
    const { root } = setup();
    const tar = craftTar([{ name, content: "pwned" }]);
    await expect(extractLayer([tar], root, { mode: "apply" })).rejects.toMatchObject({ code: "STRATA_EXTRACT_UNSAFE_PATH", message: expect.stringContaining(why) });
    expect(existsSync(join(root, "..", "escape"))).toBe(false);
    expect(existsSync("/tmp/strata-abs-escape")).toBe(false);
  });

  test("unsafe: 'skip' skips such entries (content included) with a warning and extracts the rest", async () => {
    const { root } = setup();
    const warnings: ExtractWarning[] = [];
    const tar = craftTar([{ name: "../escape", content: "pwned".repeat(300) }, { name: "ok", content: "fine" }]);
    const r = await extractLayer([tar], root, { mode: "apply", unsafe: "skip", onWarning: (w) => warnings.push(w) });
    expect(readFileSync(join(root, "ok"), "utf8")).toBe("fine");
    expect(existsSync(join(root, "..", "escape"))).toBe(false);
    expect(warnings.map((w) => w.code)).toEqual(["STRATA_EXTRACT_UNSAFE_PATH"]);
    expect(r.warnings).toEqual(warnings);
  });

  test("a file written through an absolute symlink lands inside the root", async () => {
    const { root, outside, victim } = setup();
    const tar = craftTar([
      { name: "evil", type: "symlink", linkname: outside },
      { name: "evil/victim", content: "pwned" },
    ]);
    await extractLayer([tar], root, { mode: "apply" });
    expect(readFileSync(victim, "utf8")).toBe("original");
    expect(readFileSync(join(root, outside, "victim"), "utf8")).toBe("pwned");
    expect(readlinkSync(join(root, "evil"))).toBe(outside); // the symlink itself is kept as written
  });

  test("a relative symlink that climbs above the root is clamped at the root", async () => {
    const { root, victim } = setup();
    const tar = craftTar([
      { name: "a/b", type: "symlink", linkname: "../../../../../../outside" },
      { name: "a/b/victim", content: "pwned" },
    ]);
    await extractLayer([tar], root, { mode: "apply" });
    expect(readFileSync(victim, "utf8")).toBe("original");
    expect(readFileSync(join(root, "outside", "victim"), "utf8")).toBe("pwned");
  });

  test("a file entry over a symlink to an outside file replaces the symlink, never writes through it", async () => {
    const { root, victim } = setup();
    const tar = craftTar([
      { name: "link", type: "symlink", linkname: victim },
      { name: "link", content: "pwned" },
    ]);
    await extractLayer([tar], root, { mode: "apply" });
    expect(readFileSync(victim, "utf8")).toBe("original");
    expect(lstatSync(join(root, "link")).isFile()).toBe(true);
    expect(readFileSync(join(root, "link"), "utf8")).toBe("pwned");
  });

  test("a symlink planted by a lower layer is not followed by an upper layer's file", async () => {
    const { root, victim } = setup();
    await extractLayer([craftTar([{ name: "etc", type: "dir" }, { name: "etc/passwd", type: "symlink", linkname: victim }])], root, { mode: "apply" });
    await extractLayer([craftTar([{ name: "etc/passwd", content: "root::0:0::/:/bin/sh\n" }])], root, { mode: "apply" });
    expect(readFileSync(victim, "utf8")).toBe("original");
  });

  test.each([
    ["../outside/victim", "STRATA_EXTRACT_UNSAFE_PATH"],
    ["/etc/passwd", "STRATA_EXTRACT_UNSAFE_PATH"],
    ["not-yet-extracted", "STRATA_EXTRACT_BAD_HARDLINK"],
  ])("hard link to %j is refused (%s)", async (linkname, code) => {
    const { root } = setup();
    const tar = craftTar([
      { name: "hl", type: "hardlink", linkname },
      { name: "not-yet-extracted", content: "later" },
    ]);
    await expect(extractLayer([tar], root, { mode: "apply" })).rejects.toMatchObject({ code });
    expect(existsSync(join(root, "hl"))).toBe(false);
  });

  test("a hard link through a symlinked directory resolves inside the root, so an outside file cannot be linked", async () => {
    const { root, outside, victim } = setup();
    const tar = craftTar([
      { name: "d", type: "symlink", linkname: outside },
      { name: "hl", type: "hardlink", linkname: "d/victim" },
    ]);
    await expect(extractLayer([tar], root, { mode: "apply" })).rejects.toMatchObject({ code: "STRATA_EXTRACT_BAD_HARDLINK" });
    expect(lstatSync(victim).nlink).toBe(1);
  });

  test("a hard link to a symlink links the symlink itself, not what it points at", async () => {
    const { root, victim } = setup();
    const tar = craftTar([
      { name: "s", type: "symlink", linkname: victim },
      { name: "hl", type: "hardlink", linkname: "s" },
      { name: "hl", content: "x" }, // replacing the link must not touch the victim either
    ]);
    await extractLayer([tar], root, { mode: "apply" });
    expect(lstatSync(victim).nlink).toBe(1);
    expect(readFileSync(victim, "utf8")).toBe("original");
    expect(lstatSync(join(root, "s")).isSymbolicLink()).toBe(true);
  });

  test("whiteouts and opaque markers through a symlink only delete inside the root", async () => {
    const { root, outside, victim } = setup();
    const tar = craftTar([
      { name: "d", type: "symlink", linkname: outside },
      { name: "d/.wh.victim" },
      { name: "d/.wh..wh..opq" },
      { name: "e", type: "symlink", linkname: "../../outside" },
      { name: "e/.wh.victim" },
    ]);
    await extractLayer([tar], root, { mode: "apply" });
    expect(readFileSync(victim, "utf8")).toBe("original");
  });

  test("whiteouts below a file, and names with NUL bytes (via pax), are harmless", async () => {
    const { root } = setup();
    await extractLayer([craftTar([{ name: "f", content: "file" }])], root, { mode: "apply" });
    await extractLayer([craftTar([{ name: "f/.wh.x" }, { name: "f/.wh..wh..opq" }])], root, { mode: "apply" });
    expect(readFileSync(join(root, "f"), "utf8")).toBe("file");
    await expect(extractLayer([craftTar([{ name: "a\0b", content: "x" }])], root, { mode: "apply" })).rejects.toMatchObject({ code: "STRATA_EXTRACT_UNSAFE_PATH" });
  });

  test("symlink loops fail with a coded error", async () => {
    const { root } = setup();
    const tar = craftTar([
      { name: "a", type: "symlink", linkname: "b" },
      { name: "b", type: "symlink", linkname: "a" },
      { name: "a/x", content: "x" },
    ]);
    await expect(extractLayer([tar], root, { mode: "apply" })).rejects.toMatchObject({ code: "STRATA_EXTRACT_SYMLINK_LOOP" });
  });

  test("overlay metadata xattrs are never taken from an archive", async () => {
    const { root } = setup();
    const warnings: ExtractWarning[] = [];
    const tar = craftTar([{ name: "d", type: "dir", xattrs: { "trusted.overlay.opaque": Buffer.from("y"), "trusted.overlay.redirect": Buffer.from("/etc") } }]);
    await extractLayer([tar], root, { mode: "overlay", onWarning: (w) => warnings.push(w) });
    expect(warnings.map((w) => w.code)).toEqual(["STRATA_EXTRACT_XATTR_SKIPPED", "STRATA_EXTRACT_XATTR_SKIPPED"]);
  });

  test("corrupt and truncated archives fail with STRATA_TAR_CORRUPT", async () => {
    const { root } = setup();
    const good = craftTar([{ name: "f", content: "x".repeat(2000) }]);
    const badSum = Buffer.from(good);
    badSum[10] = 0x41; // name byte changed, checksum not updated
    await expect(extractLayer([badSum], root, { mode: "apply" })).rejects.toMatchObject({ code: "STRATA_TAR_CORRUPT" });
    await expect(extractLayer([good.subarray(0, 1200)], join(root, "t"), { mode: "apply" })).rejects.toMatchObject({ code: "STRATA_TAR_CORRUPT" });
  });
});
