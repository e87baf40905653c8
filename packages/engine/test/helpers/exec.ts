import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { OciRuntimeExecutor } from "../../src/executor/runc-executor.ts";
import { SandboxExecutor } from "../../src/executor/sandbox-executor.ts";
import type { ExecIO, ExecResult, ExecSpec, Executor } from "../../src/executor/types.ts";

const ROOT_USER = { uid: 0, gid: 0, additionalGids: [] } as const;

/** The executors under test, each with its own state directory below `stateRoot`. */
export function testExecutors(stateRoot: string): Executor[] {
  return [new OciRuntimeExecutor({ stateDir: `${stateRoot}/runc` }), new SandboxExecutor({ stateDir: `${stateRoot}/sandbox` })];
}

export interface Captured extends ExecResult {
  readonly stdout: string[];
  readonly stderr: string[];
}

/** Runs with defaults (root, cwd /, PATH=/bin, default network) and collects the output lines. */
export async function runCaptured(ex: Executor, rootfs: string, argv: readonly string[], over: Partial<ExecSpec> = {}, io: Partial<ExecIO> = {}): Promise<Captured> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const r = await ex.run(
    { rootfs, argv, env: ["PATH=/bin"], cwd: "/", user: ROOT_USER, mounts: [], network: "default", ...over },
    { onStdout: (l) => stdout.push(l), onStderr: (l) => stderr.push(l), ...io },
  );
  return { ...r, stdout, stderr };
}

/** Host pids whose command line is exactly `argv` (to check that nothing survived). */
export function pidsWithCmdline(argv: readonly string[]): number[] {
  const want = `${argv.join("\0")}\0`;
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "latin1") === want) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export function haveTool(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
