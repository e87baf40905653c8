import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { prepareRootfs } from "../src/snapshot/prepare-rootfs.ts";
import { mountsUnder } from "../src/sandbox-util/mountinfo.ts";
import { haveStaticBusybox, tempDir } from "./helpers/busybox-rootfs.ts";
import { runCaptured, testExecutors } from "./helpers/exec.ts";
import { comparable, makeLowers, summary } from "./helpers/layers.ts";
import { missing } from "../../../test/helpers/requires.ts";

const tmp = tempDir("strata-snaprun-");
afterAll(() => tmp.cleanup());
const executors = testExecutors(join(tmp.path, "state"));
const usable = new Map<string, boolean>();
for (const ex of executors) usable.set(ex.name, process.getuid?.() === 0 && haveStaticBusybox() && (await ex.available()));
const lowers = usable.get("sandbox") ? makeLowers(join(tmp.path, "lowers")) : [];

const SCRIPT = [
  "set -e",
  "echo new > /data/new",
  "echo more >> /data/keep",
  "rm /data/sub/x",
  "rm -rf /data/opq && mkdir /data/opq && echo again > /data/opq/again",
  "rm -rf /opt/app",
  "ln -s keep /data/link2",
  "ln /data/new /data/new-hard",
  "chmod 700 /data/sub",
  "chown 1000:1000 /data/tagged",
  "mkfifo /data/newfifo",
  "mknod /data/zero c 1 5",
  "mv /data/link /data/link-moved",
  "mkdir -p /home/user/.cache/tool && echo cached > /home/user/.cache/tool/blob",
  "echo scratch > /tmp/scratch/file",
  "touch /usr-made-by-step",
].join("\n");

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
  "file usr-made-by-step 644 0:0",
];

describe.each(executors)("a RUN step under $name", (ex) => {
  const results = new Map<string, unknown[]>();
  const skip = missing({ [`root, busybox-static and a working ${ex.name} executor`]: usable.get(ex.name) === true });

  it.skipIf(skip).each(["overlay", "copy"] as const)("%s: its changes become layer entries (mounts and stubs stay out)", async (mode) => {
    const base = join(tmp.path, `${ex.name}-${mode}`);
    const cache = join(base, "cache");
    mkdirSync(cache, { recursive: true });
    const r = await prepareRootfs({
      lowerDirs: lowers,
      upperDir: join(base, "upper"),
      workDir: join(base, "work"),
      mergedDir: join(base, "merged"),
      mode,
    });
    try {
      const out = await runCaptured(ex, r.mergedDir, ["sh", "-c", SCRIPT], {
        mounts: [
          { type: "cache", source: cache, target: "/home/user/.cache" },
          { type: "tmpfs", target: "/tmp/scratch" },
        ],
      });
      expect(out.stderr).toEqual([]);
      expect(out.exitCode).toBe(0);
    } finally {
      await r.unmount();
    }
    expect(await mountsUnder(tmp.path)).toEqual([]);
    const entries = await r.diff();
    expect(summary(entries)).toEqual(EXPECTED);
    expect(readFileSync(join(cache, "tool/blob"), "utf8")).toBe("cached\n");
    results.set(mode, comparable(entries));
  });

  it.skipIf(skip)("overlay and copy give the same entries", () => {
    expect(results.get("copy")).toEqual(results.get("overlay"));
  });
});
