import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { assembleImage, FsBlobStore, writeLayer, writeOciLayout, type LayerEntry } from "@strata/oci";
import { scratchProject, strata } from "../helpers/cli.ts";

const text = (s: string) => new TextEncoder().encode(s);
const meta = { mode: 0o755, uid: 0, gid: 0, mtime: 0 };

/** A base image whose first layer makes data/link a symlink out of the root, and whose second writes below it. */
async function hostileLayout(dir: string, second: LayerEntry[]): Promise<void> {
  const store = new FsBlobStore(join(dir, ".store"));
  const outside = join(dir, "escape");
  const l1 = await writeLayer([{ type: "directory", path: "data", ...meta }, { type: "symlink", path: "data/link", linkname: outside, ...meta, mode: 0o777 }], { to: { store } });
  const l2 = await writeLayer(second, { to: { store } });
  const image = await assembleImage({ store, config: { architecture: "amd64", os: "linux", config: {} }, layers: [l1, l2].map((l) => ({ descriptor: l.descriptor, diffId: l.diffId })) });
  await writeOciLayout([{ image, ref: "latest" }], { dir: join(dir, "layout") });
}

describe("outputs of hostile images never write outside their destination", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const project = async (second: LayerEntry[]) => {
    const dir = scratchProject({ "h.image.ts": 'import { from, ociLayout } from "@strata/core";\nexport default from(ociLayout("./layout"));\n' });
    dirs.push(dir);
    await hostileLayout(dir, second);
    return dir;
  };
  const home = mkdtempSync(join(tmpdir(), "buildx-hostile-home-"));
  dirs.push(home);

  test("a later layer's directory replaces the symlink: the output holds the directory", async () => {
    const dir = await project([{ type: "directory", path: "data/link", ...meta }, { type: "file", path: "data/link/x", ...meta, mode: 0o644, size: 2, content: { bytes: text("x\n") } }]);
    const r = strata(["build", "h.image.ts", "-o", "out", "-o", "type=tar,dest=fs.tar"], { cwd: dir, env: { STRATA_HOME: home } });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "out", "data", "link", "x"), "utf8")).toBe("x\n");
    expect(existsSync(join(dir, "escape"))).toBe(false);
  });

  test("an entry below a symlink is a coded error, and nothing is written", async () => {
    const dir = await project([{ type: "file", path: "data/link/x", ...meta, mode: 0o644, size: 2, content: { bytes: text("x\n") } }]);
    const r = strata(["build", "h.image.ts", "-o", "out", "-o", "type=tar,dest=fs.tar"], { cwd: dir, env: { STRATA_HOME: home } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("STRATA_LAYER_BAD_PATH");
    expect(existsSync(join(dir, "escape"))).toBe(false);
    expect(existsSync(join(dir, "out"))).toBe(false);
    expect(existsSync(join(dir, "fs.tar"))).toBe(false);
  });
});
