/**
 * COPY/ADD rules, one table per rule. What docker 20.10 can show is also checked in
 * copy-docker.test.ts; the rest (`--parents`, `--exclude`, `--link`, symbolic `--chmod`, the
 * errors Strata raises where BuildKit is silent) follows the Dockerfile reference and
 * current BuildKit.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LayerEntry } from "@strata/oci";
import { afterAll, describe, expect, test } from "vitest";
import { DirectoryBaseFs, EMPTY_BASE, type BaseFs } from "../src/copy/base-fs.ts";
import { parseChmod } from "../src/copy/chmod.ts";
import { parseChown, resolveChown } from "../src/copy/chown.ts";
import { planCopy, type CopyOptions } from "../src/copy/plan-copy.ts";
import { DirectorySourceTree, MemorySourceTree, type SourceTree } from "../src/copy/source-tree.ts";
import { makeRootfs } from "./fixtures-copy/docker.ts";

const work = mkdtempSync(join(tmpdir(), "strata-copy-rules-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const rootfs = join(work, "rootfs");
mkdirSync(rootfs);
makeRootfs(rootfs);
const base: BaseFs = new DirectoryBaseFs(rootfs);

/** `path type mode uid:gid [-> link]`, the layer as a reader would list it. */
function rows(entries: readonly LayerEntry[]): string[] {
  return entries.map((e) => {
    if (e.type === "whiteout" || e.type === "opaque") return `${e.path} ${e.type}`;
    const link = e.type === "symlink" || e.type === "hardlink" ? ` -> ${e.linkname}` : "";
    return `${e.path} ${e.type} ${e.mode.toString(8)} ${e.uid}:${e.gid}${link}`;
  });
}

function src(): MemorySourceTree {
  return new MemorySourceTree()
    .file("f", "f\n")
    .file("a.txt", "a")
    .file("b.txt", "b")
    .file("dir/x", "x", { mode: 0o600 })
    .dir("dir/sub", { mode: 0o750 })
    .file("dir/sub/y", "y", { mode: 0o755 })
    .symlink("dir/lnk", "x");
}

const plan = (o: Partial<CopyOptions> & Pick<CopyOptions, "src" | "dest">, source: SourceTree = src()) => planCopy({ source, base, ...o });

describe("sources and destinations", () => {
  test("a directory source copies its contents; a new top directory is 0755, nested ones keep their mode", async () => {
    expect(rows(await plan({ src: ["dir"], dest: "/new" }))).toEqual([
      "new directory 755 0:0",
      "new/lnk symlink 777 0:0 -> x",
      "new/sub directory 750 0:0",
      "new/sub/y file 755 0:0",
      "new/x file 600 0:0",
    ]);
  });

  test("`dest/` or an existing directory receives the file inside; otherwise the file is written at dest", async () => {
    expect(rows(await plan({ src: ["f"], dest: "/d/" }))).toEqual(["d directory 755 0:0", "d/f file 644 0:0"]);
    expect(rows(await plan({ src: ["f"], dest: "/existing" }))).toEqual(["existing directory 750 5:5", "existing/f file 644 0:0"]);
    expect(rows(await plan({ src: ["f"], dest: "/renamed" }))).toEqual(["renamed file 644 0:0"]);
    expect(rows(await plan({ src: ["f"], dest: "/usr/local/bin/tool" }))).toEqual(["usr directory 755 0:0", "usr/local directory 755 0:0", "usr/local/bin directory 755 0:0", "usr/local/bin/tool file 644 0:0"]);
  });

  test("relative destinations resolve against WORKDIR; `.` means the WORKDIR itself as a directory", async () => {
    expect(rows(await plan({ src: ["f"], dest: ".", workdir: "/app" }))).toEqual(["app directory 755 0:0", "app/f file 644 0:0"]);
    expect(rows(await plan({ src: ["f"], dest: "sub/", workdir: "/usr/local" }))).toContain("usr/local/sub/f file 644 0:0");
    expect(rows(await plan({ src: ["f"], dest: "../../x", workdir: "/usr" }))).toEqual(["x file 644 0:0"]);
  });

  test("the destination resolves through the base's symlinks and never leaves the root", async () => {
    expect(rows(await plan({ src: ["f"], dest: "/link/g" }))).toEqual(["real directory 755 0:0", "real/g file 644 0:0"]);
    expect(rows(await plan({ src: ["f"], dest: "/lf" }))).toEqual(["afile file 644 0:0"]);
    const escaping = join(work, "escaping");
    mkdirSync(escaping);
    symlinkSync("../../../../..", join(escaping, "up"));
    symlinkSync("/../../etc", join(escaping, "abs"));
    const b = new DirectoryBaseFs(escaping);
    expect(rows(await planCopy({ source: src(), base: b, src: ["f"], dest: "/up/f2" }))).toEqual(["f2 file 644 0:0"]);
    expect(rows(await planCopy({ source: src(), base: b, src: ["f"], dest: "/abs/" }))).toEqual(["etc directory 755 0:0", "etc/f file 644 0:0"]);
  });

  test("a source symlink is followed (its name is kept); links inside directories are copied as links", async () => {
    const s = src().symlink("alias", "dir/x").symlink("dalias", "/dir");
    expect(rows(await plan({ src: ["alias", "dalias"], dest: "/o/" }, s))).toEqual([
      "o directory 755 0:0",
      "o/alias file 600 0:0",
      "o/lnk symlink 777 0:0 -> x",
      "o/sub directory 750 0:0",
      "o/sub/y file 755 0:0",
      "o/x file 600 0:0",
    ]);
    expect(rows(await plan({ src: ["alias"], dest: "/o/", followSymlinks: false }, s))).toEqual(["o directory 755 0:0", "o/alias symlink 777 0:0 -> dir/x"]);
  });

  test("source paths are relative to the source root: `/a`, `./a` and `../a` are `a`", async () => {
    for (const p of ["/f", "./f", "../f", "dir/../f"]) expect(rows(await plan({ src: [p], dest: "/o/" }))).toEqual(["o directory 755 0:0", "o/f file 644 0:0"]);
  });

  test("globs use Go's filepath.Match, do not descend into matches, and match directories as wholes", async () => {
    expect(rows(await plan({ src: ["*.txt", "d?r/s*"], dest: "/g/" }))).toEqual(["g directory 755 0:0", "g/a.txt file 644 0:0", "g/b.txt file 644 0:0", "g/y file 755 0:0"]);
    expect(rows(await plan({ src: ["[a-b].txt"], dest: "/g/" }))).toEqual(["g directory 755 0:0", "g/a.txt file 644 0:0", "g/b.txt file 644 0:0"]);
    // A class escapes a wildcard character (the Dockerfile reference's `arr[[]0].txt`); a
    // backslash only hides it from the wildcard check, so the path is taken literally.
    expect(rows(await plan({ src: ["[*]", "arr[[]0].txt"], dest: "/g/" }, src().file("*", "star").file("arr[0].txt", "0")))).toEqual(["g directory 755 0:0", "g/* file 644 0:0", "g/arr[0].txt file 644 0:0"]);
    await expect(plan({ src: ["a\\.txt"], dest: "/g/" })).rejects.toMatchObject({ code: "STRATA_COPY_NO_MATCH" });
  });

  test("an existing destination directory keeps its metadata; directories below it take the source's", async () => {
    const s = new MemorySourceTree().dir("src/sub", { mode: 0o711, uid: 9, gid: 9 }).file("src/sub/z", "z");
    expect(rows(await plan({ src: ["src"], dest: "/existing/" }, s))).toEqual(["existing directory 750 5:5", "existing/sub directory 711 9:9", "existing/sub/z file 644 0:0"]);
  });

  test("hard links between copied files stay hard links; the first one copied holds the content", async () => {
    const d = join(work, "hl");
    mkdirSync(join(d, "s"), { recursive: true });
    writeFileSync(join(d, "a"), "same");
    linkSync(join(d, "a"), join(d, "b"));
    linkSync(join(d, "a"), join(d, "s/c"));
    const tree = new DirectorySourceTree(d, { owner: { uid: 0, gid: 0 } });
    expect(rows(await plan({ src: ["."], dest: "/h/" }, tree))).toEqual(["h directory 755 0:0", "h/a file 644 0:0", "h/b hardlink 644 0:0 -> h/a", "h/s directory 755 0:0", "h/s/c hardlink 644 0:0 -> h/a"]);
  });

  test("without --chown another image's owners are kept", async () => {
    const s = new MemorySourceTree().file("app/bin", "b", { uid: 1000, gid: 1001, mode: 0o4755 });
    expect(rows(await plan({ src: ["app"], dest: "/opt/" }, s))).toEqual(["opt directory 755 0:0", "opt/bin file 4755 1000:1001"]);
  });
});

describe("errors", () => {
  test.each([
    [{ src: ["missing"], dest: "/x" }, "STRATA_COPY_NO_MATCH", /"missing" not found/],
    [{ src: ["nodir/*.txt"], dest: "/x/" }, "STRATA_COPY_NO_MATCH", /"nodir\/\*\.txt" not found/],
    [{ src: ["*.none"], dest: "/x/" }, "STRATA_COPY_NO_MATCH", /"\*\.none" matched nothing/],
    [{ src: ["*.txt"], dest: "/x" }, "STRATA_COPY_DEST_NOT_DIR", /more than one source file \(2\)/],
    [{ src: ["f", "dir"], dest: "/x" }, "STRATA_COPY_DEST_NOT_DIR", /must be a directory and end with a \//],
    [{ src: ["dir"], dest: "/afile" }, "STRATA_COPY_NOT_DIR", /non-directory \/afile/],
    [{ src: ["f"], dest: "/afile/" }, "STRATA_COPY_NOT_DIR", /\/afile/],
    [{ src: ["f"], dest: "/afile/x" }, "STRATA_COPY_NOT_DIR", /\/afile/],
    [{ src: ["f"], dest: "/x", chown: "nobody" }, "STRATA_COPY_UNKNOWN_USER", /"nobody"/],
    [{ src: ["f"], dest: "/x", chown: "app:nogroup" }, "STRATA_COPY_UNKNOWN_GROUP", /"nogroup"/],
    [{ src: ["f"], dest: "/x", chown: "app:" }, "STRATA_COPY_BAD_CHOWN", /app:/],
    [{ src: ["f"], dest: "/x", chmod: "8" }, "STRATA_COPY_BAD_CHMOD", /octal/],
    [{ src: ["f"], dest: "/x", chmod: "17777" }, "STRATA_COPY_BAD_CHMOD", /07777/],
    [{ src: ["f"], dest: "/x", chmod: "u+q" }, "STRATA_COPY_BAD_CHMOD", /u\+q/],
    [{ src: ["f"], dest: "/x", parents: true, exclude: ["["] }, "STRATA_IGNORE_BAD_PATTERN", /\[/],
  ] as const)("%j → %s", async (o, code, message) => {
    await expect(plan(o as Partial<CopyOptions> & Pick<CopyOptions, "src" | "dest">)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  });

  test("a wildcard matching nothing is fine beside sources that match, or when allowed (BuildKit's behaviour)", async () => {
    expect(rows(await plan({ src: ["f", "yarn.lock*"], dest: "/app/" }))).toEqual(["app directory 755 0:0", "app/f file 644 0:0"]);
    expect(await plan({ src: ["*.none"], dest: "/x/", allowEmptyWildcard: true })).toEqual([]);
  });

  test("several sources into an existing directory without a trailing slash are accepted", async () => {
    expect(rows(await plan({ src: ["*.txt"], dest: "/existing" }))).toEqual(["existing directory 750 5:5", "existing/a.txt file 644 0:0", "existing/b.txt file 644 0:0"]);
  });
});

describe("--chown", () => {
  test.each([
    ["app", { uid: 1000, gid: 1001 }],
    ["app:staff", { uid: 1000, gid: 50 }],
    ["app:7", { uid: 1000, gid: 7 }],
    ["2000", { uid: 2000, gid: 2000 }],
    ["2000:staff", { uid: 2000, gid: 50 }],
    ["12:34", { uid: 12, gid: 34 }],
    ["root", { uid: 0, gid: 0 }],
    ["root:appgrp", { uid: 0, gid: 1001 }],
  ])("%s resolves against the destination's passwd/group → %j", async (spec, owner) => {
    expect(await resolveChown(spec, base)).toEqual(owner);
  });

  test("names need the destination's files (root is 0 even on scratch); /etc reached through a symlink", async () => {
    expect(await resolveChown("root", EMPTY_BASE)).toEqual({ uid: 0, gid: 0 });
    await expect(resolveChown("app", EMPTY_BASE)).rejects.toMatchObject({ code: "STRATA_COPY_UNKNOWN_USER" });
    const b = join(work, "etclink");
    mkdirSync(join(b, "private/etc"), { recursive: true });
    writeFileSync(join(b, "private/etc/passwd"), "# comment\nsvc:x:77:88::/:/bin/false\n");
    symlinkSync("private/etc", join(b, "etc"));
    expect(await resolveChown("svc", new DirectoryBaseFs(b))).toEqual({ uid: 77, gid: 88 });
    expect(parseChown("app:staff")).toEqual({ user: "app", group: "staff" });
  });

  test("applies to every copied entry and to the parents the copy creates, not to existing ones", async () => {
    expect(rows(await plan({ src: ["dir"], dest: "/usr/local/new/deep/", chown: "app" }))).toEqual([
      "usr directory 755 0:0",
      "usr/local directory 755 0:0",
      "usr/local/new directory 755 1000:1001",
      "usr/local/new/deep directory 755 1000:1001",
      "usr/local/new/deep/lnk symlink 777 1000:1001 -> x",
      "usr/local/new/deep/sub directory 750 1000:1001",
      "usr/local/new/deep/sub/y file 755 1000:1001",
      "usr/local/new/deep/x file 600 1000:1001",
    ]);
  });

  test("an already resolved owner or a custom resolver can be passed", async () => {
    expect(rows(await plan({ src: ["f"], dest: "/o", chown: { uid: 5, gid: 6 } }))).toEqual(["o file 644 5:6"]);
    expect(rows(await plan({ src: ["f"], dest: "/o", chown: "x", resolveUser: async () => ({ uid: 8, gid: 9 }) }))).toEqual(["o file 644 8:9"]);
  });
});

describe("--chmod", () => {
  test("applies to copied files and directories, not to symlinks, the new top directory or created parents", async () => {
    expect(rows(await plan({ src: ["dir"], dest: "/p/q", chmod: "640" }))).toEqual([
      "p directory 755 0:0",
      "p/q directory 755 0:0",
      "p/q/lnk symlink 777 0:0 -> x",
      "p/q/sub directory 640 0:0",
      "p/q/sub/y file 640 0:0",
      "p/q/x file 640 0:0",
    ]);
  });

  test("octal sets the mode exactly, special bits included (current BuildKit)", () => {
    expect(parseChmod("4751")(0o644, false)).toBe(0o4751);
    expect(parseChmod("0644")(0o4755, false)).toBe(0o644);
  });

  // Symbolic modes against the real chmod(1) with umask 022 (GNU and BSD agree on these).
  const symbolic = ["u+x", "go-w", "a=rX+x", "+x", "u=rwx,go=rx", "g=u", "g=u-w", "o=", "=r", "u+s", "+t", "a+X", "ug+rw,o-rwx", "u-x,g+x", "go=u-w", "a-w+x"];
  test("`X` only counts with `+` (BuildKit's mode package, unlike chmod(1)): a=rX gives r--r--r--", () => {
    expect(parseChmod("a=rX")(0o700, false)).toBe(0o444);
    expect(parseChmod("a=rX")(0o755, true)).toBe(0o444);
    expect(parseChmod("a=r,a+X")(0o700, false)).toBe(0o555);
    expect(parseChmod("a=r,a+X")(0o600, false)).toBe(0o444);
    expect(parseChmod("a=r,a+X")(0o600, true)).toBe(0o555);
  });

  test.each(symbolic)("symbolic %s matches chmod(1) on files and directories", (mode) => {
    const d = mkdtempSync(join(work, "chmod-"));
    for (const [name, start, isDir] of [["f1", 0o644, false], ["f2", 0o700, false], ["f3", 0o751, false], ["d1", 0o750, true], ["d2", 0o600, true]] as const) {
      const p = join(d, name);
      if (isDir) mkdirSync(p);
      else writeFileSync(p, "");
      chmodSync(p, start);
      execFileSync("sh", ["-c", `umask 022 && chmod ${mode} ${p}`]);
      const real = Number.parseInt(execFileSync("stat", ["-c", "%a", p]).toString().trim(), 8);
      expect([name, parseChmod(mode)(start, isDir).toString(8)]).toEqual([name, real.toString(8)]);
    }
  });
});

describe("--parents, --exclude, --link", () => {
  const tree = () =>
    new MemorySourceTree()
      .dir("proj", { mode: 0o700 })
      .file("proj/a/one.txt", "1")
      .file("proj/a/two.md", "2")
      .file("proj/b/c/three.txt", "3")
      .file("proj/keep.tmp", "k")
      .file("proj/drop.tmp", "d")
      .file("proj/sub/x.tmp", "x")
      .file("home.txt", "h")
      .file("homer.md", "m");

  test("--parents keeps the path below the pivot (`./`), or below the root without one", async () => {
    expect(rows(await plan({ src: ["proj/a/one.txt", "proj/./b/c/three.txt"], dest: "/dst/", parents: true }, tree()))).toEqual([
      "dst directory 755 0:0",
      "dst/b directory 755 0:0",
      "dst/b/c directory 755 0:0",
      "dst/b/c/three.txt file 644 0:0",
      "dst/proj directory 700 0:0",
      "dst/proj/a directory 755 0:0",
      "dst/proj/a/one.txt file 644 0:0",
    ]);
  });

  test("--parents with patterns creates only the directories leading to matches", async () => {
    expect(rows(await plan({ src: ["proj/./**/*.txt"], dest: "/dst/", parents: true }, tree()))).toEqual([
      "dst directory 755 0:0",
      "dst/a directory 755 0:0",
      "dst/a/one.txt file 644 0:0",
      "dst/b directory 755 0:0",
      "dst/b/c directory 755 0:0",
      "dst/b/c/three.txt file 644 0:0",
    ]);
    await expect(plan({ src: ["proj/./nope.txt"], dest: "/dst/", parents: true }, tree())).rejects.toMatchObject({ code: "STRATA_COPY_NO_MATCH" });
  });

  test("--exclude filters below a source (relative to it), with exceptions, and filters wildcard matches", async () => {
    expect(rows(await plan({ src: ["proj"], dest: "/e/", exclude: ["*.tmp", "!keep.tmp", "a/*.md"] }, tree()))).toEqual([
      "e directory 755 0:0",
      "e/a directory 755 0:0",
      "e/a/one.txt file 644 0:0",
      "e/b directory 755 0:0",
      "e/b/c directory 755 0:0",
      "e/b/c/three.txt file 644 0:0",
      "e/keep.tmp file 644 0:0",
      "e/sub directory 755 0:0",
      "e/sub/x.tmp file 644 0:0",
    ]);
    expect(rows(await plan({ src: ["proj"], dest: "/e/", exclude: ["**/*.tmp", "b"] }, tree()))).toEqual([
      "e directory 755 0:0",
      "e/a directory 755 0:0",
      "e/a/one.txt file 644 0:0",
      "e/a/two.md file 644 0:0",
      "e/sub directory 755 0:0",
    ]);
    expect(rows(await plan({ src: ["hom*"], dest: "/m/", exclude: ["*.txt"] }, tree()))).toEqual(["m directory 755 0:0", "m/homer.md file 644 0:0"]);
  });

  test("--link plans onto an empty filesystem: no base symlinks, every parent new", async () => {
    expect(rows(await plan({ src: ["f"], dest: "/link/g", link: true, chown: "app" }))).toEqual(["link directory 755 1000:1001", "link/g file 644 1000:1001"]);
    expect(rows(await plan({ src: ["f"], dest: "/existing/", link: true }))).toEqual(["existing directory 755 0:0", "existing/f file 644 0:0"]);
  });
});

describe("hard links and overwrites", () => {
  test("replacing a file that others hard-link keeps their content (they keep the old inode)", async () => {
    const d = join(work, "hl-over");
    mkdirSync(join(d, "one"), { recursive: true });
    mkdirSync(join(d, "two"), { recursive: true });
    writeFileSync(join(d, "one/a"), "old");
    linkSync(join(d, "one/a"), join(d, "one/b"));
    linkSync(join(d, "one/a"), join(d, "one/c"));
    writeFileSync(join(d, "two/a"), "new!");
    const tree = new DirectorySourceTree(d, { owner: { uid: 0, gid: 0 } });
    const entries = await plan({ src: ["one", "two"], dest: "/o/" }, tree);
    expect(rows(entries)).toEqual(["o directory 755 0:0", "o/a file 644 0:0", "o/b file 644 0:0", "o/c hardlink 644 0:0 -> o/b"]);
    const content = (p: string) => {
      const e = entries.find((x) => x.path === p);
      return e?.type === "file" && "path" in e.content ? execFileSync("cat", [e.content.path]).toString() : undefined;
    };
    expect([content("o/a"), content("o/b")]).toEqual(["new!", "old"]);
  });
});
