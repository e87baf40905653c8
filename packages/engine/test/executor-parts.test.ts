import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatFstab, shQuote } from "../src/executor/fstab.ts";
import { LineSplitter } from "../src/executor/output.ts";
import { buildRuncConfig } from "../src/executor/runc-config.ts";
import type { RunContext } from "../src/executor/run-context.ts";
import { parseMountInfo } from "../src/sandbox-util/mountinfo.ts";
import { resolveInRoot } from "../src/sandbox-util/root-path.ts";
import { tempDir } from "./helpers/busybox-rootfs.ts";

const tmp = tempDir("strata-parts-");
afterAll(() => tmp.cleanup());

describe("LineSplitter", () => {
  it("splits on newlines across chunks, keeps multi-byte characters whole, drops CR of CRLF", () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    const bytes = Buffer.from("héllo wörld\r\nsecond\n€nd");
    for (let i = 0; i < bytes.length; i++) s.push(bytes.subarray(i, i + 1));
    s.end();
    s.end();
    expect(lines).toEqual(["héllo wörld", "second", "€nd"]);
  });

  it("delivers an endless line in 64 KiB pieces", () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    s.push(Buffer.alloc(200 * 1024, "x"));
    s.end();
    expect(lines.map((l) => l.length)).toEqual([65536, 65536, 65536, 8192]);
  });
});

describe("resolveInRoot", () => {
  const root = join(tmp.path, "root");
  mkdirSync(join(root, "usr/lib"), { recursive: true });
  symlinkSync("usr/lib", join(root, "lib"));
  symlinkSync("/usr", join(root, "abs"));
  symlinkSync("../../../../../../../etc", join(root, "climb"));
  symlinkSync("loop2", join(root, "loop1"));
  symlinkSync("loop1", join(root, "loop2"));
  writeFileSync(join(root, "usr/file"), "");

  it.each([
    ["/lib/x", "usr/lib/x"],
    ["/abs/lib/../file", "usr/file"],
    ["/climb/passwd", "etc/passwd"],
    ["/../../../etc", "etc"],
    ["/missing/a/../b", "missing/b"],
    ["/", ""],
  ])("%s → <root>/%s", async (p, want) => {
    expect(await resolveInRoot(root, p)).toBe(want === "" ? root : join(root, want));
  });

  it("reports symlink loops with a code", async () => {
    await expect(resolveInRoot(root, "/loop1/x")).rejects.toMatchObject({ code: "STRATA_RUN_SYMLINK_LOOP" });
  });
});

describe("fstab and shell quoting", () => {
  it("escapes white space, backslashes and # in fstab fields", () => {
    expect(formatFstab([{ source: "/a b\\c", target: "/t\t#x", fsType: "none", options: ["bind", "ro"] }])).toBe(
      "/a\\040b\\134c /t\\011\\043x none bind,ro 0 0\n",
    );
  });

  it("quotes anything for sh", () => {
    expect(shQuote("it's $HOME")).toBe(`'it'\\''s $HOME'`);
  });
});

describe("parseMountInfo", () => {
  it("decodes escaped mount points and splits the optional fields", () => {
    const [m] = parseMountInfo("36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n");
    expect(m).toEqual({
      id: 36,
      parentId: 35,
      root: "/mnt1",
      mountPoint: "/mnt two",
      options: "rw,noatime",
      fsType: "ext3",
      source: "/dev/root",
      superOptions: "rw,errors=continue",
    });
  });
});

describe("buildRuncConfig", () => {
  const ctx: RunContext = {
    id: "strata-test",
    dir: "/state/run-1",
    plan: [
      { mount: { type: "cache", source: "/store/cache/npm", target: "/root/.npm" }, rel: "root/.npm", kind: "dir" },
      { mount: { type: "tmpfs", target: "/tmp", size: 1024 }, rel: "tmp", kind: "dir" },
      { mount: { type: "secret", source: "/dev/shm/s", target: "/tmp/s" }, rel: "tmp/s", kind: "file", insideTmpfs: 1 },
    ],
    hostsFile: "/state/run-1/hosts",
    resolvConfFile: "/state/run-1/resolv.conf",
    hostsRel: "etc/hosts",
    resolvConfRel: "etc/resolv.conf",
    netnsPath: "/proc/42/ns/net",
    env: ["PATH=/bin", "HOME=/root"],
  };
  const spec = {
    rootfs: "/snap/merged",
    argv: ["sh", "-c", "true"],
    env: ["PATH=/bin"],
    cwd: "/app",
    user: { uid: 1000, gid: 1000, additionalGids: [10] },
    mounts: [],
    network: "none" as const,
  };

  it("describes the step as Docker would run it", () => {
    const c = buildRuncConfig(spec, ctx, 4096) as {
      process: Record<string, unknown>;
      mounts: { destination: string; type: string; source: string; options: string[] }[];
      linux: { namespaces: { type: string }[]; resources: unknown };
      root: unknown;
      hostname: string;
    };
    expect(c.process).toMatchObject({
      terminal: false,
      user: { uid: 1000, gid: 1000, additionalGids: [10] },
      args: ["sh", "-c", "true"],
      env: ["PATH=/bin", "HOME=/root"],
      cwd: "/app",
      noNewPrivileges: false,
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 4096, soft: 4096 }],
    });
    expect((c.process.capabilities as { bounding: string[] }).bounding).toHaveLength(14);
    expect(c.root).toEqual({ path: "/snap/merged", readonly: false });
    expect(c.hostname).toBe("strata");
    expect(c.linux.namespaces.map((n) => n.type)).toEqual(["pid", "ipc", "uts", "mount", "network"]);
    expect(c.linux.resources).toEqual({ devices: [{ allow: false, access: "rwm" }] });
    expect(c.mounts.map((m) => `${m.destination} ${m.type} ${m.options.join(",")}`)).toEqual([
      "/proc proc nosuid,noexec,nodev",
      "/dev tmpfs nosuid,strictatime,mode=755,size=65536k",
      "/dev/pts devpts nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5",
      "/dev/shm tmpfs nosuid,noexec,nodev,mode=1777,size=65536k",
      "/dev/mqueue mqueue nosuid,noexec,nodev",
      "/sys sysfs nosuid,noexec,nodev,ro",
      "/etc/hosts bind rbind,ro",
      "/etc/resolv.conf bind rbind,ro",
      "/root/.npm bind rbind,rw",
      "/tmp tmpfs nosuid,nodev,size=1024",
      "/tmp/s bind rbind,ro,nosuid,nodev,noexec",
    ]);
    expect(c.linux.namespaces.at(-1)).toEqual({ type: "network", path: "/proc/42/ns/net" });
    const host = buildRuncConfig({ ...spec, network: "host" }, { ...ctx, netnsPath: undefined }) as { linux: { namespaces: { type: string }[] } };
    expect(host.linux.namespaces.map((n) => n.type)).not.toContain("network");
  });
});
