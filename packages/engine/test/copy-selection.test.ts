/** The selection digest the solver puts in COPY cache keys. */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { snapshotContext } from "../src/context/snapshot.ts";
import { selectionDigest, type SelectionOptions } from "../src/copy/selection-digest.ts";
import { contextSourceTree, MemorySourceTree } from "../src/copy/source-tree.ts";

const work = mkdtempSync(join(tmpdir(), "strata-selection-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function context(): string {
  const root = mkdtempSync(join(work, "ctx-"));
  for (const [p, data] of Object.entries({ "src/a.ts": "a", "src/lib/b.ts": "b", "README.md": "r", "pkg.json": "{}", "notes.txt": "n", ".dockerignore": "notes.txt\n" })) {
    mkdirSync(join(root, p, ".."), { recursive: true });
    writeFileSync(join(root, p), data);
  }
  return root;
}

const digest = (root: string, opts: SelectionOptions, cache?: string) => {
  const snap = snapshotContext(root, cache ? { statCache: cache, racyWindowMs: -60_000 } : {});
  return selectionDigest(contextSourceTree(snap), opts).then((d) => ({ d, snap }));
};

describe("selection digest", () => {
  const sel: SelectionOptions = { src: ["src", "*.json"] };

  test("stable for the same selection, and a no-op recomputation reads no file", async () => {
    const root = context();
    const cache = join(work, "cache");
    const first = await digest(root, sel, cache);
    first.snap.saveStatCache();
    const again = await digest(root, sel, cache);
    expect(again.d).toBe(first.d);
    expect(again.d).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(again.snap.stats).toEqual({ hits: 3, misses: 0, bytesRead: 0 });
  });

  test.each([
    ["a file's content", (r: string) => writeFileSync(join(r, "src/a.ts"), "A")],
    ["a file's mode", (r: string) => chmodSync(join(r, "src/lib/b.ts"), 0o755)],
    ["a new file in a copied directory", (r: string) => writeFileSync(join(r, "src/lib/c.ts"), "c")],
    ["a new file matching a glob", (r: string) => writeFileSync(join(r, "other.json"), "{}")],
    ["a rename inside a copied directory", (r: string) => renameSync(join(r, "src/a.ts"), join(r, "src/z.ts"))],
    ["a file in a copied directory becoming a symlink", (r: string) => { rmSync(join(r, "src/a.ts")); symlinkSync("lib/b.ts", join(r, "src/a.ts")); }],
  ])("changes with %s", async (_what, change) => {
    const root = context();
    const before = (await digest(root, sel)).d;
    change(root);
    expect((await digest(root, sel)).d).not.toBe(before);
  });

  test.each([
    ["a file outside the selection", (r: string) => writeFileSync(join(r, "README.md"), "changed")],
    ["a file excluded by .dockerignore", (r: string) => writeFileSync(join(r, "notes.txt"), "changed")],
    ["only mtimes", (r: string) => utimesSync(join(r, "src/a.ts"), new Date(1e12), new Date(1e12))],
    ["the owner on disk (the context is sent as 0:0)", (r: string) => chownSync(join(r, "src/a.ts"), 1234, 1234)],
    // A named source symlink is followed: the copy is the same file.
    ["a named source replaced by a symlink to the same bytes", (r: string) => { renameSync(join(r, "pkg.json"), join(r, "x")); symlinkSync("x", join(r, "pkg.json")); }],
  ])("does not change with %s", async (_what, change) => {
    const root = context();
    const before = (await digest(root, sel)).d;
    change(root);
    expect((await digest(root, sel)).d).toBe(before);
  });

  test("mtimes count when asked; --exclude and --parents shape the selection", async () => {
    const root = context();
    const withMtime = { ...sel, mtime: true };
    const before = (await digest(root, withMtime)).d;
    utimesSync(join(root, "src/a.ts"), new Date(1e12), new Date(1e12));
    expect((await digest(root, withMtime)).d).not.toBe(before);

    const excluded = { src: ["src"], exclude: ["lib"] };
    const e1 = (await digest(root, excluded)).d;
    writeFileSync(join(root, "src/lib/b.ts"), "changed");
    expect((await digest(root, excluded)).d).toBe(e1);

    // The same files under another path (--parents keeps `src/`) is another selection.
    expect((await digest(root, { src: ["src"], parents: true })).d).not.toBe((await digest(root, { src: ["src"] })).d);
  });

  test("another image's owners are part of the selection", async () => {
    const t1 = new MemorySourceTree().file("app/bin", "x", { uid: 1000, gid: 1000 });
    const t2 = new MemorySourceTree().file("app/bin", "x", { uid: 0, gid: 0 });
    expect(await selectionDigest(t1, { src: ["app"] })).not.toBe(await selectionDigest(t2, { src: ["app"] }));
  });
});
