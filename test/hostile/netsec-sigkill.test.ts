import { spawn, spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { busyboxLayout } from "../helpers/busybox.ts";
import { scratchProject, STRATA_BIN } from "../helpers/cli.ts";
import { pidsWithCmdline } from "../../packages/engine/test/helpers/exec.ts";
import { missing } from "../helpers/requires.ts";
import { netsecNeeds } from "./netsec-helpers.ts";

// The network of a RUN (the namespace holder and slirp4netns) dies with strata, SIGKILL included.
const skip = missing(netsecNeeds(["runc", "slirp4netns"]));
const BASE = "strata.invalid/netsec/busybox:1";
const dirs: string[] = [];
// A number no other process on this shared machine sleeps for (afterAll kills what has it).
const MARKER = 6_000_000 + 2 * randomInt(1_000_000);
afterAll(() => {
  // The killed build's step and overlay are reclaimed by the next build (not this suite's
  // subject); take them down here so the temporary directories can go.
  for (const pid of pidsWithCmdline(["sleep", String(MARKER)]).concat(pidsWithCmdline(["sleep", String(MARKER + 1)]))) process.kill(pid, "SIGKILL");
  for (const d of dirs) {
    spawnSync("sh", ["-c", `grep -o " ${d}/[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l`]);
    rmSync(d, { recursive: true, force: true });
  }
});

/** pid → [ppid, comm] for every process. */
function processes(): Map<number, { ppid: number; comm: string }> {
  const out = new Map<number, { ppid: number; comm: string }>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      out.set(Number(name), { ppid, comm });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function descendants(root: number): Map<number, string> {
  const all = processes();
  const found = new Map<number, string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, p] of all) {
      if (!found.has(pid) && (p.ppid === root || found.has(p.ppid))) {
        found.set(pid, p.comm);
        grew = true;
      }
    }
  }
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
};

describe.skipIf(skip).each(["runc", "sandbox"])("%s executor", (executor) => {
  it("leaves no network helper running after strata is SIGKILLed mid-RUN", async () => {
    const marker = MARKER + (executor === "runc" ? 0 : 1);
    const dir = scratchProject({ Dockerfile: `FROM ${BASE}\nRUN sleep ${marker}\n` });
    await busyboxLayout(dir);
    const home = mkdtempSync(join(tmpdir(), "strata-netsec-home-"));
    dirs.push(dir, home);
    const child = spawn(process.execPath, [STRATA_BIN, "build", "--image", `${BASE}=oci-layout:./busybox`, "--executor", executor, "--progress", "quiet"], {
      cwd: dir,
      env: { ...process.env, STRATA_HOME: home },
      stdio: "ignore",
    });
    let helpers = new Map<number, string>();
    for (let i = 0; i < 400; i++) {
      helpers = new Map([...descendants(child.pid!)].filter(([, comm]) => comm === "slirp4netns" || comm === "sh"));
      if ([...helpers.values()].includes("slirp4netns") && [...descendants(child.pid!).values()].includes("sleep")) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect([...helpers.values()]).toContain("slirp4netns");
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && [...helpers.keys()].some(alive)) await new Promise((r) => setTimeout(r, 50));
    expect([...helpers].filter(([pid]) => alive(pid))).toEqual([]);
  });
});
