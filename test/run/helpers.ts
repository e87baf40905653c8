import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { STRATA_BIN } from "../helpers/cli.ts";
import { DOCKER } from "../helpers/docker.ts";

export interface Proc {
  readonly pid: number;
  readonly done: Promise<{ code: number; stdout: string; stderr: string }>;
  kill(sig: NodeJS.Signals): void;
}

/** Starts a command (strata or docker) without waiting, so a test can signal it while it runs. */
export function start(bin: "strata" | "docker", args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Proc {
  const [cmd, argv] = bin === "strata" ? [process.execPath, [STRATA_BIN, ...args]] : [DOCKER, [...args]];
  const child = spawn(cmd, argv, { cwd: opts.cwd, env: { ...process.env, NO_COLOR: "1", ...opts.env }, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  child.stdin.on("error", () => {});
  if (opts.input !== undefined) child.stdin.end(opts.input);
  else child.stdin.end();
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code, sig) => resolve({ code: code ?? 128 + (sig === "SIGKILL" ? 9 : 0), stdout, stderr })),
  );
  return { pid: child.pid!, done, kill: (sig) => child.kill(sig) };
}

/** Waits until `check` is true (polling), failing after `ms`. */
export async function until(check: () => boolean, ms = 20_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Pids whose command line is exactly `argv` (a unique `sleep N` marks a test's container). */
export function pidsOf(argv: readonly string[]): number[] {
  const want = `${argv.join("\0")}\0`;
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, "latin1") === want) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Mount points under `dir` in this mount namespace. */
export function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

/** What a strata store still holds of containers: temp work dirs, runc state, kept containers. */
export function leftovers(home: string): string[] {
  const root = join(home, "v1");
  const out: string[] = [];
  const tmp = join(root, "tmp");
  if (existsSync(tmp)) out.push(...readdirSync(tmp).filter((n) => n.startsWith("container-")).map((n) => `tmp/${n}`));
  for (const rt of ["runc", "crun"]) {
    const state = join(root, "run", rt, `${rt}-state`);
    if (existsSync(state)) out.push(...readdirSync(state).map((n) => `${rt}-state/${n}`));
  }
  for (const ex of ["runc", "crun", "sandbox"]) {
    const runs = join(root, "run", ex);
    if (existsSync(runs)) out.push(...readdirSync(runs).filter((n) => n.startsWith("run-")).map((n) => `${ex}/${n}`));
  }
  return out;
}

/** Whether util-linux `script` (a pty for the test itself) is installed. */
export function hasScript(): boolean {
  return spawnSync("script", ["--version"], { stdio: "ignore" }).status === 0;
}

/** A shell word. */
export function sh(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Processes whose command line mentions `dir` (a runtime, network stack or shell of a test's store). */
export function processesUsing(dir: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, "latin1").replace(/\0/g, " ");
      if (cmd.includes(dir)) out.push(`${d}: ${cmd.slice(0, 200)}`);
    } catch {
      /* gone */
    }
  }
  return out;
}
