import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeBusyboxRootfs, tempDir } from "../../packages/engine/test/helpers/busybox-rootfs.ts";
import { runCaptured, testExecutors } from "../../packages/engine/test/helpers/exec.ts";
import { missing } from "../helpers/requires.ts";
import { netsecNeeds } from "./netsec-helpers.ts";

// What a RUN step may ask the kernel for: Docker's default seccomp profile and capability set;
// `security: "insecure"` lifts both, as BuildKit does.
const skip = missing(netsecNeeds(["gcc", "runc", "slirp4netns", "perl"]));
const tmp = tempDir("strata-seccomp-");
afterAll(() => tmp.cleanup());

/** Each probe prints `<name> OK` or `<name> <errno name>`. */
const PROBE = `#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>
static void report(const char *name, long r) { printf("%s %s\\n", name, r >= 0 ? "OK" : strerrorname_np(errno)); fflush(stdout); }
int main(void) {
  report("mount", mount("none", "/tmp", "tmpfs", 0, 0));
  report("umount2", umount2("/proc", MNT_DETACH));
  report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0));
  report("add_key", syscall(SYS_add_key, "user", "strata", "v", 1, -3));
  report("request_key", syscall(SYS_request_key, "user", "strata", 0, 0));
  report("bpf", syscall(SYS_bpf, 0, 0, 0));
  report("perf_event_open", syscall(SYS_perf_event_open, 0, 0, -1, -1, 0));
  report("pivot_root", syscall(SYS_pivot_root, "/", "/"));
  report("swapon", syscall(SYS_swapon, "/nonexistent", 0));
  report("kexec_load", syscall(SYS_kexec_load, 0, 0, 0, 0));
  report("init_module", syscall(SYS_init_module, 0, 0, ""));
  report("clone3", syscall(SYS_clone3, 0, 0));
  report("unshare-net", unshare(CLONE_NEWNET));
  report("unshare-user", unshare(CLONE_NEWUSER));
  return 0;
}
`;

const DENIED = ["mount", "umount2", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "pivot_root", "swapon", "kexec_load", "init_module", "unshare-net", "unshare-user"];
/** Docker's default bounding set (moby's caps) as /proc/self/status prints it. */
const DOCKER_CAPS = "00000000a80425fb";

describe.skipIf(skip)("seccomp and capabilities", () => {
  const executors = skip ? [] : testExecutors(join(tmp.path, "state"));
  const root = skip ? "" : makeBusyboxRootfs(join(tmp.path, "root"));
  if (!skip) {
    const src = join(tmp.path, "probe.c");
    writeFileSync(src, PROBE);
    execFileSync("gcc", ["-static", "-O", "-o", join(root, "bin/probe"), src]);
  }
  const probe = async (name: string, security: "sandbox" | "insecure", user = { uid: 0, gid: 0, additionalGids: [] as number[] }) => {
    const ex = executors.find((e) => e.name === name)!;
    const r = await runCaptured(ex, root, ["/bin/probe"], { security, user });
    expect(r.stderr).toEqual([]);
    return Object.fromEntries(r.stdout.map((l) => l.split(" ") as [string, string]));
  };

  it.each(["runc", "sandbox"])("%s: namespaces, mounts, keyrings, bpf, perf, kexec, modules, swap fail with EPERM; clone3 with ENOSYS", async (name) => {
    for (const user of [undefined, { uid: 1000, gid: 1000, additionalGids: [] }]) {
      const got = await probe(name, "sandbox", user);
      for (const call of DENIED) expect([call, got[call]]).toEqual([call, "EPERM"]);
      expect(got.clone3).toBe("ENOSYS");
    }
    // Ordinary work still runs under the filter: forks, threads (clone without namespace flags), pipes, sockets.
    const ex = executors.find((e) => e.name === name)!;
    const r = await runCaptured(ex, root, ["sh", "-c", "echo a | cat; (sleep 0; echo sub) & wait; nc -l -p 1 -w 1 </dev/null & sleep 0.1; uname -s"]);
    expect(r.stdout).toEqual(["a", "sub", "Linux"]);
  });

  it.each(["runc", "sandbox"])("%s: security insecure lifts the filter (new namespaces and mounts work)", async (name) => {
    const got = await probe(name, "insecure");
    expect(got["unshare-net"]).toBe("OK");
    expect(got["unshare-user"]).toBe("OK");
    expect(got.mount).toBe("OK");
    expect(got.keyctl).toBe("OK");
  });

  it.each(["runc", "sandbox"])("%s: root gets Docker's default capabilities, or all of them with security insecure", async (name) => {
    const ex = executors.find((e) => e.name === name)!;
    const caps = async (security: "sandbox" | "insecure") =>
      (await runCaptured(ex, root, ["sh", "-c", "grep -E '^Cap(Bnd|Eff)' /proc/self/status"], { security })).stdout.map((l) => l.split(/\s+/)[1]);
    expect(await caps("sandbox")).toEqual([DOCKER_CAPS, DOCKER_CAPS]);
    const all = await caps("insecure");
    const hostBnd = /^CapBnd:\s+(\S+)/m.exec(execFileSync("cat", ["/proc/self/status"], { encoding: "utf8" }))![1];
    expect(all).toEqual([hostBnd, hostBnd]);
    // Privileged as under BuildKit: /proc/kcore no longer masked, /sys writable.
    const view = async (security: "sandbox" | "insecure") =>
      (await runCaptured(ex, root, ["sh", "-c", "wc -c < /proc/keys; grep ' /sys ' /proc/self/mounts | cut -d' ' -f4 | cut -d, -f1"], { security })).stdout;
    expect(await view("sandbox")).toEqual(["0", "ro"]);
    expect((await view("insecure"))[1]).toBe("rw");
  });
});
