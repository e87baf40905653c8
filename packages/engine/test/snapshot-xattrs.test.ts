import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { devMajor, devMinor } from "../src/snapshot/change-set.ts";
import { formatDump, parseDump, readXattrs, writeXattrs } from "../src/snapshot/xattrs.ts";
import { tempDir } from "./helpers/busybox-rootfs.ts";
import { haveTool } from "./helpers/exec.ts";
import { isRoot, missing } from "../../../test/helpers/requires.ts";

const tmp = tempDir("strata-xattr-");
afterAll(() => tmp.cleanup());

it("parses getfattr dumps, including escaped names and every value encoding", () => {
  const dump = Buffer.from(
    [
      "# file: /a/b c",
      "user.one=0sAQID",
      "user.hex=0x0a0b",
      'user.text="hi\\012there"',
      "",
      "# file: /a/new\\012line\\134x",
      "trusted.overlay.opaque=0seQ==",
      "",
    ].join("\n"),
  );
  const m = parseDump(dump);
  expect([...m.keys()]).toEqual(["/a/b c", "/a/new\nline\\x"]);
  expect(m.get("/a/b c")).toEqual(
    new Map([
      ["user.one", new Uint8Array([1, 2, 3])],
      ["user.hex", new Uint8Array([10, 11])],
      ["user.text", new Uint8Array(Buffer.from("hi\nthere"))],
    ]),
  );
  expect(parseDump(formatDump(m))).toEqual(m);
});

it.skipIf(missing({ root: isRoot, getfattr: haveTool("getfattr") }))("reads and writes real attributes of odd file names", async () => {
  const names = ["plain", "with space", "new\nline", "back\\slash", "ünï"];
  for (const n of names) writeFileSync(join(tmp.path, n), "");
  await writeXattrs(names.map((n) => [join(tmp.path, n), new Map([["user.k", new Uint8Array(Buffer.from(`v-${n}`))]])] as const));
  execFileSync("setfattr", ["-n", "trusted.t", "-v", "0x00ff", join(tmp.path, "plain")]);
  const tree = await readXattrs({ tree: tmp.path });
  for (const n of names) expect(Buffer.from(tree.get(join(tmp.path, n))!.get("user.k")!).toString()).toBe(`v-${n}`);
  expect(tree.get(join(tmp.path, "plain"))!.get("trusted.t")).toEqual(new Uint8Array([0, 255]));
  const some = await readXattrs({ paths: [join(tmp.path, "with space"), join(tmp.path, "vanished")] });
  expect([...some.keys()]).toEqual([join(tmp.path, "with space")]);
});

it("splits device numbers as glibc's major()/minor() do", () => {
  const makedev = (ma: bigint, mi: bigint) => (mi & 0xffn) | ((ma & 0xfffn) << 8n) | ((mi & ~0xffn) << 12n) | ((ma & ~0xfffn) << 32n);
  for (const [ma, mi] of [
    [1n, 3n],
    [254n, 0n],
    [259n, 1048575n],
    [4095n, 256n],
    [70000n, 5n],
  ] as const) {
    expect([devMajor(makedev(ma, mi)), devMinor(makedev(ma, mi))]).toEqual([Number(ma), Number(mi)]);
  }
});
