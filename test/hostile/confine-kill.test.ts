import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { STRATA_BIN } from "../helpers/cli.ts";
import { isRoot, missing } from "../helpers/requires.ts";
import { EXECUTORS, filesContaining, mountsUnder, processesWith, scratch, type ExecutorName, type Scratch } from "./confine-helpers.ts";

const MEMORY = "/dev/shm";

/** Polls `cond` until it holds or `ms` pass. */
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

/** Direct children of `pid` (from /proc/<pid>/task/<pid>/children). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.push(...readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").split(/\s+/).filter(Boolean).map(Number));
    } catch {
      /* gone */
    }
  }
  return out;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** Containers runc still knows in the store's state directory. */
function runcContainers(home: string): string[] {
  const dir = join(home, "v1", "run", "runc", "runc-state");
  return existsSync(dir) ? readdirSync(dir) : [];
}

/**
 * SIGKILL at random points of a build (before the step, while it sleeps with a secret mounted):
 * nothing stays mounted under the store, no step process or runc container survives, no secret
 * stays in memory, and the next build reclaims whatever a killed build could not clean.
 */
describe.skipIf(missing({ root: isRoot })).each(EXECUTORS)("a killed build leaves nothing behind (--executor %s)", (executor: ExecutorName) => {
  let s: Scratch;
  const secret = `kill-secret-${Math.random().toString(36).slice(2)}`;
  beforeAll(async () => {
    s = await scratch();
    writeFileSync(join(s.context, "tok"), `${secret}\n`);
  });
  afterAll(() => s?.cleanup());

  function start(token: string): { child: ChildProcess; output: () => string } {
    writeFileSync(
      join(s.context, "Dockerfile"),
      `FROM base\nRUN echo warm > /w\nRUN --mount=type=secret,id=tok --mount=type=secret,id=tok,env=TOK --mount=type=cache,target=/cache sh -c 'echo "up-$((40+2))"; sleep 30; echo ${token}'\n`,
    );
    const child = spawn(process.execPath, [STRATA_BIN, "build", "Dockerfile", "--image", "base=oci-layout:./busybox", "--progress", "plain", "--no-cache", "--executor", executor, "--secret", "id=tok,src=tok"], {
      cwd: s.context,
      env: { ...process.env, NO_COLOR: "1", STRATA_HOME: s.home },
    });
    let out = "";
    child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
    return { child, output: () => out };
  }

  async function assertNothingLeft(token: string): Promise<void> {
    expect(await until(() => processesWith(token).length === 0, 3000), `processes: ${processesWith(token).map(cmdline).join("; ")}`).toBe(true);
    expect(await until(() => mountsUnder(s.home).length === 0, 3000), mountsUnder(s.home).join(", ")).toBe(true);
    expect(await until(() => filesContaining(MEMORY, secret).length === 0, 3000)).toBe(true);
    expect(await until(() => runcContainers(s.home).length === 0, 3000), runcContainers(s.home).join(", ")).toBe(true);
    expect(filesContaining(s.home, secret)).toEqual([]);
  }

  function nextBuildSucceeds(): void {
    writeFileSync(join(s.context, "Dockerfile"), "FROM base\nRUN echo next\n");
    const r = s.build("FROM base\nRUN echo next\n", executor);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(s.home, "v1", "tmp"))).toEqual([]);
    expect(mountsUnder(s.home)).toEqual([]);
  }

  for (const [i, when] of [
    ["while the step sleeps with its secret mounted", "running"],
    ["at a random moment of the build", "random"],
    ["at another random moment of the build", "random"],
  ] as const) {
    test(`SIGKILL ${i}`, async () => {
      const token = `confine-kill-${process.pid}-${Math.random().toString(36).slice(2)}`;
      const b = start(token);
      if (when === "running") {
        expect(await until(() => b.output().includes("up-42"), 30_000), b.output()).toBe(true);
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 300)));
      } else {
        await new Promise((r) => setTimeout(r, 200 + Math.floor(Math.random() * 1500)));
      }
      b.child.kill("SIGKILL");
      await new Promise((r) => b.child.once("close", r));
      await assertNothingLeft(token);
      nextBuildSucceeds();
    });
  }

  test("a build on the same store never reclaims what a live build uses", async () => {
    const token = `confine-live-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const b = start(token);
    expect(await until(() => b.output().includes("up-42"), 30_000), b.output()).toBe(true);
    const mounts = mountsUnder(s.home);
    expect(mounts.length).toBeGreaterThan(0);
    const other = s.build("FROM base\nRUN echo other\n", executor);
    expect(other.code, other.stderr).toBe(0);
    // The first build's step still runs, its overlay is still there, its secret still mounted.
    expect(processesWith(token).length).toBeGreaterThan(0);
    for (const m of mounts) expect(mountsUnder(s.home)).toContain(m);
    expect(readdirSync(MEMORY).some((n) => n.startsWith(`strata-secrets-${b.child.pid}-`))).toBe(true);
    b.child.kill("SIGKILL");
    await new Promise((r) => b.child.once("close", r));
    await assertNothingLeft(token);
  });

  test("when the watchdogs are killed too, the next build reclaims containers, mounts, upper and secret directories", async () => {
    const token = `confine-reclaim-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const b = start(token);
    expect(await until(() => b.output().includes("up-42"), 30_000), b.output()).toBe(true);
    const pid = b.child.pid!;
    // The watchdogs are the idle `sh -c "read -r line; …"` children of strata.
    const watchdogs = childrenOf(pid).filter((c) => /read -r line/.test(cmdline(c)));
    expect(watchdogs.length).toBe(executor === "runc" ? 2 : 1);
    for (const c of watchdogs) process.kill(c, "SIGKILL");
    b.child.kill("SIGKILL");
    await new Promise((r) => b.child.once("close", r));
    await new Promise((r) => setTimeout(r, 300));
    // Left behind in this store: the RUN overlay and the work directory of the dead build.
    expect(mountsUnder(s.home).length, b.output()).toBeGreaterThan(0);
    expect(readdirSync(join(s.home, "v1", "tmp")).some((n) => n.includes(`-${pid}-`))).toBe(true);
    // (Its memory directories are machine-wide: a concurrent build on another store may already
    // have reclaimed them, so only their absence afterwards is asserted.)
    if (executor === "runc") expect(runcContainers(s.home).length).toBe(1);
    nextBuildSucceeds();
    await assertNothingLeft(token);
    expect(readdirSync(MEMORY).some((n) => new RegExp(`^strata-[a-z]+-${pid}-`).test(n))).toBe(false);
  });
});
