import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, readdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { snapshotContext } from "../src/context/snapshot.ts";
import { StatCache } from "../src/context/stat-cache.ts";
import { findIgnoreFile } from "../src/context/ignore-file.ts";

const work = mkdtempSync(join(tmpdir(), "strata-ctx-"));
chmodSync(work, 0o755);
afterAll(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
function tree(files: Record<string, string>): string {
  const root = join(work, `t${n++}`);
  mkdirSync(root, { recursive: true });
  for (const [p, data] of Object.entries(files)) {
    mkdirSync(join(root, p, ".."), { recursive: true });
    if (p.endsWith("/")) mkdirSync(join(root, p), { recursive: true });
    else writeFileSync(join(root, p), data);
  }
  return root;
}
const paths = (root: string, opts: Parameters<typeof snapshotContext>[1] = {}) => snapshotContext(root, opts).entries.map((e) => e.path);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("context walk with .dockerignore", () => {
  test("lexical order, parents before children, symlinks not followed", () => {
    const root = tree({ "b/x": "1", "a-b": "2", "a/c": "3", "A": "4" });
    symlinkSync("a", join(root, "lnk"));
    const snap = snapshotContext(root, { ignoreFile: false });
    expect(snap.entries.map((e) => e.path)).toEqual(["A", "a", "a/c", "a-b", "b", "b/x", "lnk"]);
    expect(snap.get("lnk")).toMatchObject({ type: "symlink", linkname: "a" });
    expect(snap.get("a")?.type).toBe("directory");
    expect(snap.get("a/c")).toMatchObject({ type: "file", size: 1 });
  });

  test("an excluded directory is walked when a wildcard exception may re-include below it (current BuildKit)", () => {
    const root = tree({ "dir/keep.txt": "", "dir/x": "", "dir/sub/keep.txt": "", "dir/sub/y": "", "other/y": "", "top.txt": "", ".dockerignore": "dir\n!**/keep.txt\nother\n" });
    expect(paths(root)).toEqual([".dockerignore", "dir", "dir/keep.txt", "dir/sub", "dir/sub/keep.txt", "top.txt"]);
  });

  test("a literal exception re-includes a path below an excluded directory; the directory keeps its own metadata", () => {
    const root = tree({ "build/out.o": "", "build/keep/a": "", "build/keep/b": "", "z": "" });
    chmodSync(join(root, "build"), 0o700);
    const snap = snapshotContext(root, { exclude: ["build", "!build/keep"], ignoreFile: false });
    expect(snap.entries.map((e) => e.path)).toEqual(["build", "build/keep", "build/keep/a", "build/keep/b", "z"]);
    expect(snap.get("build")?.mode).toBe(0o700);
  });

  test("last matching pattern wins; `**` spans directories; leading `/` and comments", () => {
    const root = tree({
      "README.md": "", "README-secret.md": "", "CHANGES.md": "", "docs/x.md": "", "a/node_modules/m": "", "node_modules/n": "", "abs": "", "sub/abs": "",
      ".dockerignore": "# comment\n*.md\n!README*.md\nREADME-secret.md\n**/node_modules\n/abs\n",
    });
    expect(paths(root)).toEqual([".dockerignore", "README.md", "a", "docs", "docs/x.md", "sub", "sub/abs"]);
  });

  test("include patterns keep only what they name (and the directories leading there)", () => {
    const root = tree({ "src/a.ts": "", "src/b.js": "", "pkg/package.json": "", "other": "" });
    expect(paths(root, { include: ["src/*.ts", "pkg"], ignoreFile: false })).toEqual(["pkg", "pkg/package.json", "src", "src/a.ts"]);
  });

  test("sockets and fifos are left out and reported", async () => {
    const root = tree({ "f": "x" });
    execFileSync("mkfifo", [join(root, "fifo")]);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(root, "sock"), resolve));
    try {
      const snap = snapshotContext(root, { ignoreFile: false });
      expect(snap.entries.map((e) => e.path)).toEqual(["f"]);
      expect(snap.skipped).toEqual([{ path: "fifo", kind: "fifo" }, { path: "sock", kind: "socket" }]);
    } finally {
      server.close();
    }
  });

  test("the context directory may be a symlink to a directory", () => {
    const root = tree({ "f": "1" });
    symlinkSync(root, join(work, `alias${n}`));
    expect(paths(join(work, `alias${n}`), { ignoreFile: false })).toEqual(["f"]);
  });

  test("a bad pattern is a coded error; a missing context too", () => {
    const root = tree({ "f": "", ".dockerignore": "[\n" });
    expect(() => snapshotContext(root)).toThrowError(expect.objectContaining({ code: "STRATA_IGNORE_BAD_PATTERN" }));
    expect(() => snapshotContext(join(root, "nope"))).toThrowError(expect.objectContaining({ code: "STRATA_CONTEXT_NOT_FOUND" }));
  });

  test("<Dockerfile>.dockerignore beside the Dockerfile takes precedence over <context>/.dockerignore", () => {
    const root = tree({ ".dockerignore": "a\n", "build/app.Dockerfile": "", "build/app.Dockerfile.dockerignore": "b\n", "a": "", "b": "" });
    expect(findIgnoreFile(root, "build/app.Dockerfile")).toEqual({ path: join(root, "build/app.Dockerfile.dockerignore"), patterns: ["b"] });
    expect(findIgnoreFile(root, "Dockerfile")).toEqual({ path: join(root, ".dockerignore"), patterns: ["a"] });
    expect(findIgnoreFile(root)?.patterns).toEqual(["a"]);
    expect(paths(root, { ignoreFile: { dockerfile: "build/app.Dockerfile" } })).toEqual([".dockerignore", "a", "build", "build/app.Dockerfile", "build/app.Dockerfile.dockerignore"]);
    expect(findIgnoreFile(tree({ "x": "" }), "Dockerfile")).toBeUndefined();
  });
});

describe("content digests and the stat cache", () => {
  test("digestOf is the sha256 of the bytes, small files and streamed large ones", async () => {
    const big = Buffer.alloc(9 << 20, 7);
    const root = tree({ "small": "hello" });
    writeFileSync(join(root, "big"), big);
    const snap = snapshotContext(root, { ignoreFile: false });
    expect(await snap.digestOf("small")).toBe(`sha256:${createHash("sha256").update("hello").digest("hex")}`);
    expect(await snap.digestOf("big")).toBe(`sha256:${createHash("sha256").update(big).digest("hex")}`);
    expect(snap.stats).toEqual({ hits: 0, misses: 2, bytesRead: 5 + big.length });
    await expect(snap.digestOf("nope")).rejects.toMatchObject({ code: "STRATA_CONTEXT_NOT_FOUND" });
  });

  test("a no-op rebuild reads no file: proven by reading as an unprivileged user who cannot open them", async () => {
    const root = tree({});
    for (let d = 0; d < 20; d++) for (let f = 0; f < 50; f++) {
      mkdirSync(join(root, `d${d}`), { recursive: true });
      writeFileSync(join(root, `d${d}`, `f${f}`), `${d}/${f}`);
    }
    // Unreadable for anyone but root; directories stay traversable.
    for (const d of readdirSync(root)) for (const f of readdirSync(join(root, d))) chmodSync(join(root, d, f), 0o000);
    chmodSync(root, 0o755);
    const cacheDir = join(work, "statcache");
    await sleep(1100); // out of the racy window
    const first = snapshotContext(root, { ignoreFile: false, statCache: cacheDir });
    const digests = await Promise.all(first.entries.filter((e) => e.type === "file").map((e) => first.digestOf(e)));
    expect(first.stats.misses).toBe(1000);
    first.saveStatCache();
    chmodSync(cacheDir, 0o755);

    const again = snapshotContext(root, { ignoreFile: false, statCache: cacheDir });
    const seteuid = process.seteuid as (id: number) => void;
    seteuid(65534);
    let second: string[];
    try {
      second = await Promise.all(again.entries.filter((e) => e.type === "file").map((e) => again.digestOf(e)));
    } finally {
      seteuid(0);
    }
    expect(second).toEqual(digests);
    expect(again.stats).toEqual({ hits: 1000, misses: 0, bytesRead: 0 });

    // Editing one file (same size) makes exactly that one be read again.
    chmodSync(join(root, "d3/f7"), 0o644);
    writeFileSync(join(root, "d3/f7"), "X3/f7".slice(0, 4));
    const third = snapshotContext(root, { ignoreFile: false, statCache: cacheDir, racyWindowMs: 0 });
    for (const e of third.entries) if (e.type === "file") await third.digestOf(e);
    expect(third.stats).toEqual({ hits: 999, misses: 1, bytesRead: 4 });
    expect(await third.digestOf("d3/f7")).toBe(`sha256:${createHash("sha256").update("X3/f").digest("hex")}`);
  });

  test("files changed within the racy window are hashed but not cached", async () => {
    const root = tree({ "fresh": "abc" });
    const cacheDir = join(work, "statcache-racy");
    const s1 = snapshotContext(root, { ignoreFile: false, statCache: cacheDir });
    await s1.digestOf("fresh");
    s1.saveStatCache();
    const s2 = snapshotContext(root, { ignoreFile: false, statCache: cacheDir });
    await s2.digestOf("fresh");
    expect(s2.stats.misses).toBe(1);
  });

  test("a corrupt or truncated cache file reads as empty", async () => {
    const root = tree({ "a": "1", "b": "2" });
    const cacheDir = join(work, "statcache-corrupt");
    const s1 = snapshotContext(root, { ignoreFile: false, statCache: cacheDir, racyWindowMs: -10_000 });
    await s1.digestOf("a");
    await s1.digestOf("b");
    s1.saveStatCache();
    const file = (StatCache.open(cacheDir, root) as unknown as { file: string }).file;
    expect(StatCache.open(cacheDir, root).size).toBe(2);
    const text = readFileSync(file);
    for (const broken of [text.subarray(0, text.length - 3), Buffer.concat([text, Buffer.from("x")]), Buffer.from("garbage"), Buffer.alloc(0)]) {
      writeFileSync(file, broken);
      const s = snapshotContext(root, { ignoreFile: false, statCache: cacheDir });
      expect(s.statCache.size).toBe(0);
      expect(await s.digestOf("a")).toBe(`sha256:${createHash("sha256").update("1").digest("hex")}`);
    }
  });
});

// How fast the walk and the no-op pass are: bench/context-walk.mjs. Here, what they do.
describe("20,200 entries", () => {
  test("the walk reads no file content, and a no-op digest pass answers every file from the stat cache", async () => {
    const root = join(work, "big");
    for (let d = 0; d < 200; d++) {
      mkdirSync(join(root, `d${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) writeFileSync(join(root, `d${d}`, `f${f}.txt`), `${d}-${f}\n`);
    }
    const cacheDir = join(work, "statcache-big");
    const warm = snapshotContext(root, { ignoreFile: false, statCache: cacheDir, racyWindowMs: -60_000 });
    for (const e of warm.entries) if (e.type === "file") warm.digestOfSync(e);
    warm.saveStatCache();

    let bytes = 0;
    for (let d = 0; d < 200; d++) for (let f = 0; f < 100; f++) bytes += `${d}-${f}\n`.length;
    expect(warm.stats).toEqual({ hits: 0, misses: 20_000, bytesRead: bytes });

    const snap = snapshotContext(root, { ignoreFile: false, statCache: cacheDir });
    expect(snap.entries).toHaveLength(20_200);
    // Walking lists and stats; it opens no file.
    expect(snap.stats).toEqual({ hits: 0, misses: 0, bytesRead: 0 });
    const digests: string[] = [];
    for (const e of snap.entries) if (e.type === "file") digests.push(await snap.digestOf(e));
    expect(snap.stats).toEqual({ hits: 20_000, misses: 0, bytesRead: 0 });
    // The cached digests are the files' own: a cold pass without the cache reads and agrees.
    const cold = snapshotContext(root, { ignoreFile: false });
    const fresh: string[] = [];
    for (const e of cold.entries) if (e.type === "file") fresh.push(cold.digestOfSync(e));
    expect(fresh).toEqual(digests);
    expect(cold.stats.misses).toBe(20_000);
  });
});
