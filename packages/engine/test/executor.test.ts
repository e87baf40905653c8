import { execFileSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { afterAll, describe, expect, it } from "vitest";
import { mountsUnder, parseMountInfo } from "../src/sandbox-util/mountinfo.ts";
import { haveStaticBusybox, makeBusyboxRootfs, tempDir } from "./helpers/busybox-rootfs.ts";
import { haveTool, pidsWithCmdline, runCaptured, testExecutors } from "./helpers/exec.ts";
import { missing } from "../../../test/helpers/requires.ts";

const tmp = tempDir("strata-exec-");
afterAll(() => tmp.cleanup());

const executors = testExecutors(join(tmp.path, "state"));
const available = new Map<string, boolean>();
for (const ex of executors) available.set(ex.name, haveStaticBusybox() && (await ex.available()));

let rootCount = 0;
function freshRoot(): string {
  return makeBusyboxRootfs(join(tmp.path, `root-${rootCount++}`));
}

it("both executors work on this host (root, runc installed)", () => {
  expect(process.getuid?.()).toBe(0);
  expect(haveStaticBusybox()).toBe(true);
  if (haveTool("runc")) expect(available.get("runc")).toBe(true);
  expect(available.get("sandbox")).toBe(true);
});

describe.each(executors)("$name executor", (ex) => {
  const skip = missing({ [`busybox-static and a working ${ex.name} executor`]: available.get(ex.name) === true });
  const root = skip ? "" : freshRoot();

  it.skipIf(skip)("reports exit codes, and a step killed by a signal as 128+n", async () => {
    expect((await runCaptured(ex, root, ["true"])).exitCode).toBe(0);
    expect((await runCaptured(ex, root, ["sh", "-c", "exit 42"])).exitCode).toBe(42);
    const inner = await runCaptured(ex, root, ["sh", "-c", "sh -c 'kill -TERM $$'; echo $?"]);
    expect(inner.stdout).toEqual(["143"]);
    // The step's process is pid 1 of its namespace: only SIGKILL from outside ends it (as in Docker).
    // A number no other process on this shared machine sleeps for marks the step.
    const argv = ["sleep", String(2_000_000 + randomInt(1_000_000))];
    const run = runCaptured(ex, root, argv);
    let pids: number[] = [];
    for (let i = 0; i < 200 && pids.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
      pids = pidsWithCmdline(argv);
    }
    expect(pids).toHaveLength(1);
    process.kill(pids[0]!, "SIGKILL");
    const killed = await run;
    expect(killed.exitCode).toBe(137);
    if (ex.name === "sandbox") expect(killed.signal).toBe("SIGKILL");
  });

  it.skipIf(skip)("fails with STRATA_RUN_EXEC_FAILED when the command does not exist", async () => {
    await expect(runCaptured(ex, root, ["no-such-command"])).rejects.toMatchObject({ code: "STRATA_RUN_EXEC_FAILED" });
    await expect(runCaptured(ex, root, ["/bin/nope"])).rejects.toMatchObject({ code: "STRATA_RUN_EXEC_FAILED" });
  });

  it.skipIf(skip)("passes exactly the given environment, looking argv[0] up on its PATH", async () => {
    const env = ["PATH=/usr/bin:/bin", "A=1", "B=with space", "C=x=y", "HOME=/h", "EMPTY=", "a.b=not a shell name", "Q='quoted' $(x) `y`"];
    const r = await runCaptured(ex, root, ["env"], { env });
    expect(r.stdout.sort()).toEqual([...env].sort());
  });

  it.skipIf(skip)("never puts an environment value on a command line, not even for an instant while the step starts", async () => {
    // An env secret in an argv is readable by every host user in /proc/<pid>/cmdline while the
    // process lives (the sandbox once ran `env -i KEY=secret …`, and perl with the whole chain).
    // A worker scans every command line in a tight loop while steps start.
    const token = `argv-secret-${randomInt(1e9)}`;
    const watcher = new Worker(
      `const { readdirSync, readFileSync } = require("node:fs"); const { parentPort, workerData } = require("node:worker_threads");
       const want = Buffer.from(workerData); let stop = false; const hits = new Set(); let scans = 0;
       parentPort.on("message", () => { stop = true; });
       (function loop() { for (let i = 0; i < 200; i++) { scans++; for (const n of readdirSync("/proc")) { if (n.charCodeAt(0) > 57) continue;
         try { const c = readFileSync("/proc/" + n + "/cmdline"); if (c.includes(want)) hits.add(c.toString("latin1").replaceAll("\0", " ")); } catch {} } }
         if (stop) parentPort.postMessage({ hits: [...hits], scans }); else setImmediate(loop); })();`,
      { eval: true, workerData: token },
    );
    try {
      for (let i = 0; i < 5; i++) {
        const r = await runCaptured(ex, root, ["sh", "-c", 'test -n "$TOK" && echo seen'], { env: ["PATH=/bin", `TOK=${token}`] });
        expect(r.stdout).toEqual(["seen"]);
      }
    } finally {
      const done = new Promise<{ hits: string[]; scans: number }>((res) => watcher.once("message", res));
      watcher.postMessage("stop");
      const { hits, scans } = await done;
      await watcher.terminate();
      expect(scans).toBeGreaterThan(10);
      expect(hits).toEqual([]);
    }
  });

  it.skipIf(skip)("adds HOME from the user's passwd entry when it is missing, as runc does", async () => {
    const r = await runCaptured(ex, root, ["env"], { env: ["PATH=/bin"], user: { uid: 1000, gid: 1000, additionalGids: [] } });
    expect(r.stdout.sort()).toEqual(["HOME=/home/user", "PATH=/bin"]);
  });

  it.skipIf(skip)("runs in cwd, creating it (owned by the user) when missing", async () => {
    const r = await runCaptured(ex, root, ["pwd"], { cwd: "/work/sub", user: { uid: 1000, gid: 1000, additionalGids: [] } });
    expect(r.stdout).toEqual(["/work/sub"]);
    const st = statSync(join(root, "work/sub"));
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([1000, 1000, 0o755]);
  });

  it.skipIf(skip)("switches to the uid, gid and supplementary groups", async () => {
    const user = { uid: 1000, gid: 1000, additionalGids: [10, 50] };
    const r = await runCaptured(ex, root, ["sh", "-c", "id -u; id -g; id -G; touch /tmp/owned; stat -c %u:%g /tmp/owned"], { user });
    expect(r.stdout).toEqual(["1000", "1000", "1000 10 50", "1000:1000"]);
    const none = await runCaptured(ex, root, ["id", "-G"], { user: { uid: 65534, gid: 65534, additionalGids: [] } });
    expect(none.stdout).toEqual(["65534"]);
    const noWrite = await runCaptured(ex, root, ["touch", "/root/x"], { user });
    expect(noWrite.exitCode).not.toBe(0);
  });

  it.skipIf(skip)("gives root Docker's default capabilities, and a non-root user none", async () => {
    const r = await runCaptured(ex, root, ["grep", "-E", "^Cap(Eff|Bnd)", "/proc/self/status"]);
    expect(r.stdout).toEqual(["CapEff:\t00000000a80425fb", "CapBnd:\t00000000a80425fb"]);
    const u = await runCaptured(ex, root, ["grep", "^CapEff", "/proc/self/status"], { user: { uid: 1000, gid: 1000, additionalGids: [] } });
    expect(u.stdout).toEqual(["CapEff:\t0000000000000000"]);
    // Without CAP_SYS_ADMIN nothing can be mounted, not even by root.
    expect((await runCaptured(ex, root, ["mount", "-t", "tmpfs", "t", "/tmp"])).exitCode).not.toBe(0);
  });

  it.skipIf(skip)("streams stdout and stderr line by line and keeps the full log", async () => {
    const logFile = join(tmp.path, `${ex.name}.log`);
    const r = await runCaptured(ex, root, ["sh", "-c", "echo out1; echo err1 >&2; echo out2; printf 'no newline'"], {}, { logFile });
    expect(r.stdout).toEqual(["out1", "out2", "no newline"]);
    expect(r.stderr).toEqual(["err1"]);
    const log = readFileSync(logFile, "utf8");
    for (const s of ["out1\n", "err1\n", "out2\n", "no newline"]) expect(log).toContain(s);

    // 4 MiB of output: nothing is clipped.
    const big = await runCaptured(ex, root, ["sh", "-c", "yes 0123456789abcdef | head -c 4194304"], {}, { logFile });
    expect(statSync(logFile).size).toBe(4194304);
    expect(big.stdout.length).toBe(Math.ceil(4194304 / 17));
    expect(big.stdout.at(-1)).toBe("0123456789abcdef".slice(0, 4194304 % 17));
  });

  it.skipIf(skip)("sets the hostname and writes /etc/hosts and /etc/resolv.conf for the run only", async () => {
    const r = await runCaptured(ex, root, ["sh", "-c", "hostname; cat /etc/hosts; grep -c nameserver /etc/resolv.conf"], {
      hostname: "builder-1",
      extraHosts: [{ host: "registry.test", ip: "127.0.0.2" }],
    });
    expect(r.stdout[0]).toBe("builder-1");
    expect(r.stdout).toContain("127.0.0.1\tlocalhost builder-1");
    expect(r.stdout).toContain("127.0.0.2\tregistry.test");
    expect(Number(r.stdout.at(-1))).toBeGreaterThan(0);
    expect(existsSync(join(root, "etc/hosts"))).toBe(false);
  });

  it.skipIf(skip)("network none has only lo (up); default has its own namespace with lo and the stack's tap0", async () => {
    const none = await runCaptured(ex, root, ["ls", "/sys/class/net"], { network: "none" });
    expect(none.stdout).toEqual(["lo"]);
    const up = await runCaptured(ex, root, ["cat", "/sys/class/net/lo/operstate", "/sys/class/net/lo/flags"], { network: "none" });
    expect(Number(up.stdout[1]) & 1).toBe(1); // IFF_UP
    const def = await runCaptured(ex, root, ["ls", "/sys/class/net"], { network: "default" });
    expect(def.stdout.sort()).toEqual(["lo", "tap0"]);
    const host = await runCaptured(ex, root, ["ls", "/sys/class/net"], { network: "host" });
    expect(host.stdout.sort()).toEqual(readdirSync("/sys/class/net").sort());
  });

  it.skipIf(skip)("cannot see the host: no host files, /proc/1/root and mountinfo show only the root", async () => {
    const marker = `strata-host-marker-${process.pid}-${ex.name}`;
    writeFileSync(join("/tmp", marker), "host secret");
    try {
      const r = await runCaptured(ex, root, ["sh", "-c", `ls /tmp/${marker}; cat /proc/1/root/tmp/${marker}; readlink /proc/1/root; ls /`]);
      expect(r.stdout[0]).toBe("/");
      expect(r.stdout.slice(1).sort()).toEqual([...readdirSync(root), "dev", "proc", "sys"].sort());
      expect(r.stderr.join("\n")).toContain(marker); // both attempts fail with "no such file"
      expect(r.stdout.join("\n")).not.toContain("host secret");
    } finally {
      rmSync(join("/tmp", marker));
    }
    const mi = await runCaptured(ex, root, ["cat", "/proc/self/mountinfo"]);
    const points = parseMountInfo(mi.stdout.join("\n")).map((m) => m.mountPoint);
    expect(points[0]).toBe("/");
    for (const p of points) expect(p).toMatch(/^\/(proc|dev|sys)(\/|$)|^\/etc\/(hosts|resolv\.conf)$|^\/$/);
    const pid = await runCaptured(ex, root, ["sh", "-c", "echo $$; ls /proc | grep -c '^[0-9]'"]);
    expect(pid.stdout[0]).toBe("1");
  });

  it.skipIf(skip)("cannot open host devices it makes with mknod (like Docker's device cgroup)", async () => {
    const dev = statSync("/").dev;
    // The host's root disk, and the hardware RNG (which this host itself can read).
    const nodes = [`b ${Math.floor(dev / 256) & 0xfff} ${(dev & 0xff) | ((dev >> 12) & 0xfff00)}`, "c 10 183"];
    const script = nodes.map((n, i) => `mknod /tmp/n${i} ${n} && echo made; [ "$(head -c 1 /tmp/n${i} 2>/dev/null | wc -c)" = 1 ] && echo READ; rm -f /tmp/n${i}`);
    const r = await runCaptured(ex, root, ["sh", "-c", `${script.join("; ")}; head -c 1 /dev/zero | wc -c`]);
    expect(r.stdout).toEqual(["made", "made", "1"]);
  });

  it.skipIf(skip || missing({ gcc: haveTool("gcc") }))("cannot climb out of its root with chroot as root (CAP_SYS_CHROOT)", async () => {
    const r = freshRoot();
    const src = join(tmp.path, `escape-${ex.name}.c`);
    writeFileSync(
      src,
      `#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>
#include <dirent.h>
int main(void) {
  mkdir("/jail", 0755);
  if (chroot("/jail") != 0) { perror("chroot"); return 2; }
  for (int i = 0; i < 64; i++) chdir("..");
  chroot(".");
  DIR *d = opendir("/"); struct dirent *e;
  while ((e = readdir(d))) if (e->d_name[0] != '.') printf("%s\\n", e->d_name);
  return 0;
}
`,
    );
    execFileSync("gcc", ["-static", "-O", "-o", join(r, "bin/escape"), src]);
    const out = await runCaptured(ex, r, ["/bin/escape"]);
    expect(out.exitCode).toBe(0);
    expect(out.stdout.sort()).toEqual(readdirSync(r).concat(["dev", "proc", "sys"]).sort());
  });

  it.skipIf(skip)("applies bind (ro/rw), cache, tmpfs and secret mounts, and removes their mount points", async () => {
    const r = freshRoot();
    symlinkSync("/run", join(r, "var-run"));
    const src = join(tmp.path, `src-${ex.name}`);
    const cache = join(tmp.path, `cache-${ex.name}`);
    mkdirSync(src);
    mkdirSync(cache);
    writeFileSync(join(src, "hello"), "hello from the context\n");
    const secretDir = "/dev/shm";
    const secret = join(secretDir, `strata-secret-${process.pid}-${ex.name}`);
    writeFileSync(secret, "s3cr3t\n", { mode: 0o400 });
    const before = readdirSync(r).sort();
    try {
      const out = await runCaptured(
        ex,
        r,
        [
          "sh",
          "-c",
          [
            "cat /ctx/hello",
            "touch /ctx/nope 2>/dev/null && echo ctx-writable || echo ctx-readonly",
            "echo cached > /cache/f",
            "echo scratch > /scratch/f && cat /scratch/f",
            "cat /run/secrets/token",
            "cat /scratch/inner/secret",
            "ls -d /var-run/sock-dir",
          ].join("; "),
        ],
        {
          mounts: [
            { type: "bind", source: src, target: "/ctx", readonly: true },
            { type: "cache", source: cache, target: "/cache" },
            { type: "tmpfs", target: "/scratch", size: 1 << 20 },
            { type: "secret", source: secret, target: "/run/secrets/token" },
            { type: "secret", source: secret, target: "/scratch/inner/secret" },
            { type: "tmpfs", target: "/var-run/sock-dir" },
          ],
        },
      );
      expect(out.stderr).toEqual([]);
      expect(out.stdout).toEqual(["hello from the context", "ctx-readonly", "scratch", "s3cr3t", "s3cr3t", "/var-run/sock-dir"]);
      expect(readFileSync(join(cache, "f"), "utf8")).toBe("cached\n");
      expect(readdirSync(src)).toEqual(["hello"]);
      // Mount points made for the run are gone again; nothing of the tmpfs or the secret stayed.
      expect(readdirSync(r).sort()).toEqual(before);
      expect(readdirSync(join(r, "etc")).sort()).toEqual(["group", "passwd"]);
    } finally {
      rmSync(secret, { force: true });
    }
  });

  it.skipIf(skip)("rejects mount targets inside bind mounts or /proc", async () => {
    const src = join(tmp.path, `src2-${ex.name}`);
    mkdirSync(src, { recursive: true });
    await expect(
      runCaptured(ex, root, ["true"], {
        mounts: [
          { type: "bind", source: src, target: "/a", readonly: true },
          { type: "tmpfs", target: "/a/b" },
        ],
      }),
    ).rejects.toMatchObject({ code: "STRATA_RUN_MOUNT_TARGET" });
    await expect(runCaptured(ex, root, ["true"], { mounts: [{ type: "tmpfs", target: "/proc/x" }] })).rejects.toMatchObject({
      code: "STRATA_RUN_MOUNT_TARGET",
    });
  });

  // How long the kill takes: bench/executors.mjs. The sleeps would outlast the test's limit.
  it.skipIf(skip)("kills the whole process tree on abort", async () => {
    const ac = new AbortController();
    // Numbers no other process on this shared machine sleeps for mark the tree's processes.
    const n = 4_000_000 + randomInt(1_000_000) * 2;
    const [a, b] = [String(n), String(n + 1)];
    const run = runCaptured(ex, root, ["sh", "-c", `sleep ${a} & sleep ${b}`], {}, { signal: ac.signal });
    setTimeout(() => ac.abort(), 400);
    await expect(run).rejects.toMatchObject({ code: "STRATA_RUN_ABORTED" });
    expect(pidsWithCmdline(["sleep", a])).toEqual([]);
    expect(pidsWithCmdline(["sleep", b])).toEqual([]);
    // An already aborted signal runs nothing.
    await expect(runCaptured(ex, root, ["true"], {}, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: "STRATA_RUN_ABORTED" });
  });

  it.skipIf(skip)("runs in a root whose host path has spaces and quotes", async () => {
    const r = makeBusyboxRootfs(join(tmp.path, `it's a root ${ex.name}`));
    const src = join(tmp.path, `a "source" ${ex.name}`);
    mkdirSync(src);
    writeFileSync(join(src, "f"), "ok\n");
    const out = await runCaptured(ex, r, ["cat", "/in/f"], { mounts: [{ type: "bind", source: src, target: "/in", readonly: true }] });
    expect(out.stdout).toEqual(["ok"]);
  });

  it.skipIf(skip)("leaves the root as it was (no /proc, /dev, /sys or /etc stubs) and nothing mounted", async () => {
    const r = freshRoot();
    rmSync(join(r, "etc"), { recursive: true });
    const before = readdirSync(r).sort();
    expect((await runCaptured(ex, r, ["ls", "/etc/hosts", "/proc/self", "/dev/null"])).exitCode).toBe(0);
    expect(readdirSync(r).sort()).toEqual(before);
    expect(await mountsUnder(tmp.path)).toEqual([]);
    expect(readdirSync(join(tmp.path, "state", ex.name)).filter((n) => n.startsWith("run-"))).toEqual([]);
  });
});

// What a trivial RUN costs per executor: bench/executors.mjs. Here, that steps in a row reuse
// nothing of each other's: each run's state is gone after it.
it("runs a trivial RUN ten times in a row per executor, leaving no run state behind", async () => {
  const root = freshRoot();
  for (const ex of executors) {
    if (missing({ [`a working ${ex.name} executor`]: available.get(ex.name) === true })) continue;
    for (let i = 0; i < 10; i++) expect((await runCaptured(ex, root, ["true"])).exitCode).toBe(0);
    expect(readdirSync(join(tmp.path, "state", ex.name)).filter((n) => n.startsWith("run-"))).toEqual([]);
    expect(await mountsUnder(tmp.path)).toEqual([]);
  }
});
