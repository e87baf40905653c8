import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { prepareRootfs, type SnapshotMode } from "../src/snapshot/prepare-rootfs.ts";
import { mountsUnder } from "../src/sandbox-util/mountinfo.ts";
import { unmountAllUnder } from "../src/snapshot/overlay-mount.ts";
import { haveStaticBusybox, tempDir } from "./helpers/busybox-rootfs.ts";
import { comparable, makeLowers, setOpaque, summary, whiteout } from "./helpers/layers.ts";
import { isRoot, missing } from "../../../test/helpers/requires.ts";

const tmp = tempDir("strata-snap-");
afterAll(() => tmp.cleanup());
const skip = missing({ root: isRoot, "busybox-static": haveStaticBusybox() });
const lowers = skip ? [] : makeLowers(join(tmp.path, "lowers"));

let n = 0;
function dirs(): { upperDir: string; workDir: string; mergedDir: string } {
  const base = join(tmp.path, `snap-${n++}`);
  return { upperDir: join(base, "upper"), workDir: join(base, "work"), mergedDir: join(base, "merged") };
}

/** Everything about a tree that a step could observe, as lines. */
function describeTree(root: string): string[] {
  const out = execFileSync("find", [".", "-printf", "%p %y %m %U:%G %s %l\\n"], { cwd: root, encoding: "utf8" });
  const lines = out.trim().split("\n").filter((l) => !l.startsWith(". "));
  const files = lines.filter((l) => l.split(" ")[1] === "f").map((l) => l.split(" ")[0]!);
  const contents = files.map((f) => `${f}: ${readFileSync(join(root, f), "utf8").slice(0, 40)}`);
  const xattrs = execFileSync("getfattr", ["-R", "-h", "-d", "-m", "^user\\.", "."], { cwd: root, encoding: "utf8" });
  return [...lines.map((l) => l.replace(/ \d+ (?=\S*$)|(?<= [dlpc] \d+ \d+:\d+) \d+/, "")).sort(), ...contents.sort(), xattrs];
}

/** The same host-side edits a RUN step could make, applied to a merged root. */
function applyChanges(m: string): void {
  writeFileSync(join(m, "data/new"), "new\n");
  appendFileSync(join(m, "data/keep"), "more\n");
  rmSync(join(m, "data/sub/x"));
  rmSync(join(m, "data/opq"), { recursive: true });
  mkdirSync(join(m, "data/opq"));
  writeFileSync(join(m, "data/opq/again"), "again\n");
  rmSync(join(m, "opt/app"), { recursive: true });
  symlinkSync("keep", join(m, "data/link2"));
  linkSync(join(m, "data/new"), join(m, "data/new-hard"));
  chmodSync(join(m, "data/sub"), 0o700);
  chownSync(join(m, "data/tagged"), 1000, 1000);
  execFileSync("setfattr", ["-n", "user.step", "-v", "42", join(m, "data/new")]);
  execFileSync("mkfifo", [join(m, "data/newfifo")]);
  execFileSync("mknod", [join(m, "data/zero"), "c", "1", "5"]);
  renameSync(join(m, "data/link"), join(m, "data/link-moved"));
}

const EXPECTED = [
  "directory data 755 0:0",
  "file data/keep 644 0:0",
  "whiteout data/link",
  "symlink data/link-moved -> a",
  "symlink data/link2 -> keep",
  "file data/new 644 0:0",
  "hardlink data/new-hard -> data/new",
  "fifo data/newfifo 644 0:0",
  "directory data/opq 755 0:0",
  "opaque data/opq",
  "file data/opq/again 644 0:0",
  "directory data/sub 700 0:0",
  "whiteout data/sub/x",
  "file data/tagged 644 1000:1000",
  "char-device data/zero 1,5",
  "directory opt 755 0:0",
  "whiteout opt/app",
];

describe.skipIf(skip)("prepareRootfs", () => {
  const views = new Map<SnapshotMode, string[]>();
  const diffs = new Map<SnapshotMode, unknown[]>();

  it.each(["overlay", "copy"] as const)("%s: shows the merged lowers (whiteouts, opaque dirs, xattrs applied)", async (mode) => {
    const r = await prepareRootfs({ lowerDirs: lowers, ...dirs(), mode });
    try {
      expect(r.mode).toBe(mode);
      const m = r.mergedDir;
      expect(readFileSync(join(m, "data/a"), "utf8")).toBe("a1\n");
      expect(existsSync(join(m, "data/gone"))).toBe(false);
      expect(readdirSync(join(m, "data/opq"))).toEqual(["new"]);
      expect(lstatSync(join(m, "data/null")).rdev).toBe(0x103);
      expect(lstatSync(join(m, "data/fifo")).isFIFO()).toBe(true);
      expect(execFileSync("getfattr", ["--only-values", "-n", "user.strata.test", join(m, "data/tagged")], { encoding: "utf8" })).toBe("hello");
      expect(lstatSync(join(m, "opt/app/run.sh")).mode & 0o7777).toBe(0o755);
      views.set(mode, describeTree(m));
    } finally {
      await r.unmount();
    }
  });

  it("the copy shows exactly what the overlay shows", () => {
    expect(views.get("copy")).toEqual(views.get("overlay"));
  });

  it.each(["overlay", "copy"] as const)("%s: turns a step's changes into sorted layer entries", async (mode) => {
    const r = await prepareRootfs({ lowerDirs: lowers, ...dirs(), mode });
    try {
      applyChanges(r.mergedDir);
    } finally {
      await r.unmount();
    }
    const entries = await r.diff();
    expect(summary(entries)).toEqual(EXPECTED);
    const tagged = entries.find((e) => e.path === "data/tagged");
    expect(tagged && "xattrs" in tagged && tagged.xattrs?.["user.strata.test"]).toEqual(new Uint8Array(Buffer.from("hello")));
    const added = entries.find((e) => e.path === "data/new");
    expect(added && "xattrs" in added && added.xattrs?.["user.step"]).toEqual(new Uint8Array(Buffer.from("42")));
    // Nothing of overlayfs' own bookkeeping leaks into the entries.
    expect(JSON.stringify(entries)).not.toContain("trusted.overlay");
    diffs.set(mode, comparable(entries));
  });

  it("copy and overlay give the same entries for the same changes", () => {
    expect(diffs.get("copy")).toEqual(diffs.get("overlay"));
  });

  it.each(["overlay", "copy"] as const)("%s: leaves out directories that were only copied up", async (mode) => {
    const r = await prepareRootfs({ lowerDirs: lowers, ...dirs(), mode });
    const m = r.mergedDir;
    const st = lstatSync(join(m, "data"));
    // A mount stub made and removed again, with the parent's times restored, as executors do.
    mkdirSync(join(m, "data/stub"));
    rmSync(join(m, "data/stub"), { recursive: true });
    execFileSync("touch", ["-h", "-d", `@${Math.floor(st.mtimeMs / 1000)}`, join(m, "data")]);
    readFileSync(join(m, "data/keep"));
    await r.unmount();
    expect(await r.diff()).toEqual([]);
  });

  it("stacks many lowers beyond mount's option size limit, and unmounts all", async () => {
    const many: string[] = [];
    const base = join(tmp.path, "many", "a-deliberately-long-directory-name-to-fill-the-mount-options");
    for (let i = 0; i < 120; i++) {
      const d = join(base, `layer-${String(i).padStart(4, "0")}-0123456789abcdef0123456789abcdef`);
      mkdirSync(join(d, "files"), { recursive: true });
      writeFileSync(join(d, "files", `f${i}`), `${i}\n`);
      if (i > 0) whiteout(join(d, "files", `f${i - 1}`));
      many.push(d);
    }
    setOpaque(join(many[60]!, "files")); // hides f0..f59 (already whited out) from below
    const d = dirs();
    const r = await prepareRootfs({ lowerDirs: many, ...d, mode: "overlay" });
    try {
      expect(readdirSync(join(r.mergedDir, "files"))).toEqual(["f119"]);
      writeFileSync(join(r.mergedDir, "files/top"), "top\n");
    } finally {
      await r.unmount();
      await r.unmount(); // idempotent
    }
    expect(summary(await r.diff())).toEqual(["directory files 755 0:0", "file files/top 644 0:0"]);
    expect(await mountsUnder(tmp.path)).toEqual([]);
    expect(existsSync(`${d.mergedDir}-lowers`)).toBe(false);
  });

  it.each(["overlay", "copy"] as const)("%s: without lowers everything the step writes is new", async (mode) => {
    const r = await prepareRootfs({ lowerDirs: [], ...dirs(), mode });
    mkdirSync(join(r.mergedDir, "bin"));
    writeFileSync(join(r.mergedDir, "bin/app"), "app", { mode: 0o755 });
    await r.unmount();
    expect(summary(await r.diff())).toEqual(["directory bin 755 0:0", "file bin/app 755 0:0"]);
  });

  it("falls back to the copy when overlayfs cannot be mounted, unless overlay is forced", async () => {
    // overlayfs needs upper and work on one file system; a work dir on /dev/shm (tmpfs) breaks it.
    const d = dirs();
    const work = join("/dev/shm", `strata-work-${process.pid}`);
    try {
      await expect(prepareRootfs({ lowerDirs: lowers, ...d, workDir: work, mode: "overlay" })).rejects.toMatchObject({
        code: "STRATA_SNAPSHOT_MOUNT",
      });
      const r = await prepareRootfs({ lowerDirs: lowers, ...dirs(), workDir: `${work}-2`, mode: "auto" });
      expect(r.mode).toBe("copy");
      expect(readFileSync(join(r.mergedDir, "data/a"), "utf8")).toBe("a1\n");
      await r.unmount();
    } finally {
      rmSync(work, { recursive: true, force: true });
      rmSync(`${work}-2`, { recursive: true, force: true });
    }
  });

  it("copes with , : = and spaces in the snapshot paths", async () => {
    const base = join(tmp.path, "odd dir,with:chars=yes");
    const r = await prepareRootfs({
      lowerDirs: lowers,
      upperDir: join(base, "up per"),
      workDir: join(base, "work"),
      mergedDir: join(base, "mer ged"),
      mode: "overlay",
    });
    try {
      expect(readFileSync(join(r.mergedDir, "data/a"), "utf8")).toBe("a1\n");
      writeFileSync(join(r.mergedDir, "data/odd"), "");
    } finally {
      await r.unmount();
    }
    expect(summary(await r.diff())).toEqual(["directory data 755 0:0", "file data/odd 644 0:0"]);
  });

  it("refuses relative or non-empty directories", async () => {
    await expect(prepareRootfs({ lowerDirs: ["rel"], ...dirs() })).rejects.toMatchObject({ code: "STRATA_SNAPSHOT_PATH" });
    const d = dirs();
    mkdirSync(d.upperDir, { recursive: true });
    writeFileSync(join(d.upperDir, "junk"), "");
    await expect(prepareRootfs({ lowerDirs: lowers, ...d })).rejects.toMatchObject({ code: "STRATA_SNAPSHOT_PATH" });
  });

  it.each(["overlay", "copy"] as const)("%s: a second step stacks on the first one's result", async (mode) => {
    const first = await prepareRootfs({ lowerDirs: lowers, ...dirs(), mode });
    rmSync(join(first.mergedDir, "data/keep"));
    writeFileSync(join(first.mergedDir, "data/step1"), "1\n");
    await first.unmount();
    const second = await prepareRootfs({ lowerDirs: first.nextLowerDirs, ...dirs(), mode });
    try {
      expect(existsSync(join(second.mergedDir, "data/keep"))).toBe(false);
      expect(readFileSync(join(second.mergedDir, "data/step1"), "utf8")).toBe("1\n");
      expect(readFileSync(join(second.mergedDir, "data/a"), "utf8")).toBe("a1\n");
      rmSync(join(second.mergedDir, "data/step1"));
    } finally {
      await second.unmount();
    }
    expect(summary(await second.diff())).toEqual(["directory data 755 0:0", "whiteout data/step1"]);
  });

  it("unmountAllUnder clears mounts a crashed build left behind", async () => {
    const a = await prepareRootfs({ lowerDirs: lowers, ...dirs(), mode: "overlay" });
    const b = await prepareRootfs({ lowerDirs: [], ...dirs(), mode: "overlay" });
    expect((await mountsUnder(tmp.path)).length).toBe(2);
    expect((await unmountAllUnder(tmp.path)).sort()).toEqual([a.mergedDir, b.mergedDir].sort());
    expect(await mountsUnder(tmp.path)).toEqual([]);
  });

  it("leaves nothing mounted", async () => {
    expect(await mountsUnder(tmp.path)).toEqual([]);
  });
});
